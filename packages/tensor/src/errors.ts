/**
 * The typed errors of gradkit, re-exported from `@gradkit/kernels` so that one import serves:
 *
 * - {@link GradkitError}: base class of every error gradkit throws on purpose.
 * - {@link ShapeError}: operands whose shapes do not fit an op (the message names the op and the shapes).
 * - {@link ValueError}: an argument out of range (a non-integer label, a probability outside [0, 1]).
 * - {@link BackendError}: a backend that cannot start or run, or tensors on different devices.
 * - {@link DisposedError}: a tensor used after `dispose()` (the message names the op).
 *
 * @example
 * ```ts
 * import { add, ShapeError, tensor } from '@gradkit/tensor';
 * try { add(tensor([1, 2, 3]), tensor([1, 2])); } catch (e) { if (e instanceof ShapeError) console.log(e.op); } // 'add'
 * ```
 */
export { BackendError, DisposedError, GradkitError, ShapeError, ValueError } from '@gradkit/kernels';

/**
 * Base class of every error gradkit throws on purpose. Catch it to tell gradkit's own, named
 * errors from bugs.
 *
 * @example
 * ```ts
 * try { device.binary('add', a, b); } catch (e) { if (e instanceof GradkitError) console.error(e.message); }
 * ```
 */
export class GradkitError extends Error {
  /** `'GradkitError'`: the class name, shown in messages and stack traces. */
  override name = 'GradkitError';
}

/**
 * Shapes that do not fit an op: a broadcast of `[2, 3]` with `[4]`, a matmul whose inner sizes
 * differ, an axis out of range. The message names the op and the shapes.
 *
 * @example
 * ```ts
 * // ShapeError: add: shapes [2,3] and [4] cannot be broadcast (dimension -1: 3 vs 4)
 * ```
 */
export class ShapeError extends GradkitError {
  /** `'ShapeError'`: the class name, shown in messages and stack traces. */
  override name = 'ShapeError';
  /** The op that rejected its operands, e.g. `'matmul'`. */
  readonly op: string;
  /** The operand shapes the op was called with. */
  readonly shapes: readonly (readonly number[])[];
  constructor(op: string, message: string, shapes: readonly (readonly number[])[] = []) {
    super(`${op}: ${message}`);
    this.op = op;
    this.shapes = shapes;
  }
}

/**
 * A value that is out of its allowed range: a negative learning rate, a probability outside
 * [0, 1), a non-integer size. The message names the op, the argument and the value.
 *
 * @example
 * ```ts
 * // ValueError: randomBernoulli: p must be in [0, 1], got 1.5
 * ```
 */
export class ValueError extends GradkitError {
  /** `'ValueError'`: the class name, shown in messages and stack traces. */
  override name = 'ValueError';
  /** The op or constructor that rejected the value. */
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.op = op;
  }
}

/**
 * A backend that cannot start or cannot run a kernel: an explicitly requested backend that is not
 * available, a tensor larger than a texture can hold, a failed shader compile.
 *
 * @example
 * ```ts
 * // BackendError: gl: backend 'gl' is not available here: headless-gl could not create a context
 * ```
 */
export class BackendError extends GradkitError {
  /** `'BackendError'`: the class name, shown in messages and stack traces. */
  override name = 'BackendError';
  /** The backend concerned: `'gl'`, `'wasm'` or `'cpu'`. */
  readonly backend: string;
  constructor(backend: string, message: string) {
    super(`${backend}: ${message}`);
    this.backend = backend;
  }
}

/**
 * An array (or tensor) used after `dispose()`.
 *
 * @example
 * ```ts
 * x.dispose(); x.read(); // DisposedError: read: the array was disposed
 * ```
 */
export class DisposedError extends GradkitError {
  /** `'DisposedError'`: the class name, shown in messages and stack traces. */
  override name = 'DisposedError';
  /** @param detail what was disposed (default: the array). */
  constructor(op: string, detail = 'the array was disposed') {
    super(`${op}: ${detail}`);
  }
}

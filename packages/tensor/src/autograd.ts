import type { DeviceArray } from '@gradkit/kernels';
import {
  BackendError,
  DisposedError,
  formatShape,
  ShapeError,
  shapesEqual,
  ValueError,
} from '@gradkit/kernels';
import { isGradEnabled } from './grad-mode.js';
import { Tensor } from './tensor.js';
import { disposeAll, view } from './util.js';

/**
 * The backward function of one recorded op: given the gradient `dy` of the op's output (same
 * shape as the output, owned by the engine), returns one gradient per input, each with exactly
 * that input's shape, or `null` for an input that needs none. The engine takes ownership of the
 * returned arrays; returning `dy` itself, or one array twice, is allowed.
 */
export type BackwardFn = (dy: DeviceArray) => readonly (DeviceArray | null)[];

/** What a {@link fromOp} backward factory may use. */
export interface OpContext {
  /** `needs[i]`: whether input i requires a gradient (skip computing the others). */
  readonly needs: readonly boolean[];
  /** Keeps a value for the backward pass: a view sharing its storage, freed with the graph. */
  save(x: DeviceArray): DeviceArray;
  /** Takes ownership of an array the forward pass computed (freed with the graph). */
  own(x: DeviceArray): DeviceArray;
}

/** @internal One recorded op: its inputs, its backward function and the arrays it saved. */
export class GradNode {
  released = false;
  backward: BackwardFn | null = null;
  owned: DeviceArray[] = [];
  constructor(
    readonly op: string,
    public inputs: readonly Tensor[],
    public needs: readonly boolean[],
  ) {}

  /** Frees the saved arrays and drops the references to the inputs. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    disposeAll(...this.owned);
    this.owned = [];
    this.inputs = [];
    this.needs = [];
    this.backward = null;
  }
}

/**
 * Wraps the output of an op as a tensor and, when gradients are recorded (grad mode on and some
 * input requires grad), records how to differentiate it. This is how every op of this package is
 * built, and how other packages add fused differentiable ops on top of `@gradkit/kernels`.
 *
 * `makeBackward` runs only when the op is recorded; it may `ctx.save()` arrays (views) and
 * `ctx.own()` arrays computed in the forward pass. `temps` are arrays the forward pass computed
 * for the backward pass only: they are disposed here unless `makeBackward` owned them.
 *
 * @param op the op's name (shown in error messages and as `tensor.gradFn`).
 * @param output the op's result (ownership passes to the returned tensor).
 * @param inputs the tensor operands, in the order the backward function returns gradients.
 * @example
 * ```ts
 * // y = 3x, dy/dx = 3
 * function triple(x: Tensor): Tensor {
 *   const d = x.device;
 *   return fromOp('triple', d.scalar('mulScalar', x.array, 3), [x], () => (dy) => [d.scalar('mulScalar', dy, 3)]);
 * }
 * ```
 */
export function fromOp(
  op: string,
  output: DeviceArray,
  inputs: readonly Tensor[],
  makeBackward: (ctx: OpContext, output: DeviceArray) => BackwardFn,
  temps: readonly DeviceArray[] = [],
): Tensor {
  const needs = inputs.map((t) => t.requiresGrad);
  if (!isGradEnabled() || !needs.some(Boolean)) {
    disposeAll(...temps);
    return new Tensor(output);
  }
  const node = new GradNode(op, [...inputs], needs);
  const owned = new Set<DeviceArray>();
  const ctx: OpContext = {
    needs,
    save: (x) => {
      const v = view(x);
      node.owned.push(v);
      return v;
    },
    own: (x) => {
      node.owned.push(x);
      owned.add(x);
      return x;
    },
  };
  try {
    node.backward = makeBackward(ctx, output);
  } catch (e) {
    node.release();
    output.dispose();
    disposeAll(...temps.filter((t) => !owned.has(t)));
    throw e;
  }
  for (const t of temps) if (!owned.has(t)) t.dispose();
  return Tensor._fromNode(output, node);
}

/** Options of {@link Tensor.backward}. */
export interface BackwardOptions {
  /**
   * Keep the graph (and the values it saved) after the pass, so backward can run through it
   * again. Default `false`: the graph is freed, as in PyTorch.
   */
  readonly retainGraph?: boolean;
}

function describe(t: Tensor): string {
  return `${t.gradFn ? `output of '${t.gradFn}'` : 'a leaf'}, shape ${formatShape(t.shape)}`;
}

function accumulate(map: Map<Tensor, DeviceArray>, t: Tensor, g: DeviceArray): void {
  const prev = map.get(t);
  if (!prev) {
    map.set(t, g);
    return;
  }
  const sum = g.device.binary('add', prev, g);
  prev.dispose();
  g.dispose();
  map.set(t, sum);
}

/**
 * @internal Reverse-mode pass from `root`: topological order by an iterative depth-first search,
 * then each node's backward in reverse order. Leaf gradients are applied only after the whole pass
 * succeeded (nothing is written half-way).
 */
export function runBackward(root: Tensor, gradient: Tensor | undefined, options: BackwardOptions): void {
  const op = 'backward';
  root._arrayFor(op);
  if (!root.requiresGrad) {
    throw new ValueError(
      op,
      `the tensor (shape ${formatShape(root.shape)}) does not require grad: none of its inputs requires grad, or it was computed under noGrad()`,
    );
  }
  const device = root.device;
  if (gradient !== undefined) {
    if (!(gradient instanceof Tensor)) throw new ValueError(op, 'gradient must be a Tensor');
    gradient._arrayFor(op);
    if (gradient.device !== device)
      throw new BackendError(device.name, `${op}: the gradient is on another device`);
    if (!shapesEqual(gradient.shape, root.shape)) {
      throw new ShapeError(
        op,
        `gradient shape ${formatShape(gradient.shape)} differs from the tensor's shape ${formatShape(root.shape)}`,
        [gradient.shape, root.shape],
      );
    }
  } else if (root.size !== 1) {
    throw new ValueError(
      op,
      `a gradient can be implied only for a one-element tensor; this one has shape ${formatShape(root.shape)}: pass backward(gradient)`,
    );
  }

  // Topological order (post-order: inputs before the tensors computed from them), validated.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t] = top;
    if (top[1] === 0) {
      if (t.isDisposed) {
        const e = new DisposedError(op);
        e.message =
          `${op}: the graph passes through a tensor (${describe(t)}) that was disposed before backward(); ` +
          'call backward() inside the scope that built the graph, or keep() the tensors it needs';
        throw e;
      }
      const n = t._node;
      if (n?.released) {
        throw new ValueError(
          op,
          `the graph through '${n.op}' (shape ${formatShape(t.shape)}) was already freed by an earlier backward(); pass { retainGraph: true } to run backward through it again`,
        );
      }
    }
    const node = t._node;
    const inputs = node ? node.inputs : [];
    let j = top[1];
    while (j < inputs.length && !(node!.needs[j] && !visited.has(inputs[j]))) j++;
    if (j < inputs.length) {
      top[1] = j + 1;
      visited.add(inputs[j]);
      stack.push([inputs[j], 0]);
    } else {
      top[1] = Number.POSITIVE_INFINITY;
      stack.pop();
      order.push(t);
    }
  }

  const grads = new Map<Tensor, DeviceArray>();
  const leafGrads = new Map<Tensor, DeviceArray>();
  grads.set(root, gradient ? view(gradient._arrayFor(op)) : device.full(root.shape, 1));
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t._node;
      if (!node) {
        leafGrads.set(t, g);
        continue;
      }
      if (t._retainGrad) leafGrads.set(t, view(g));
      let results: readonly (DeviceArray | null)[];
      try {
        results = node.backward!(g);
      } catch (e) {
        g.dispose();
        throw e;
      }
      let gUsed = false;
      const taken = new Set<DeviceArray>();
      for (let i = 0; i < results.length; i++) {
        let r = results[i];
        if (!r) continue;
        if (r === g) {
          if (gUsed) r = view(g);
          else gUsed = true;
        } else if (taken.has(r)) r = view(r);
        else taken.add(r);
        const input = node.inputs[i];
        if (!node.needs[i]) {
          r.dispose();
          continue;
        }
        if (!shapesEqual(r.shape, input.shape)) {
          r.dispose();
          throw new ShapeError(
            op,
            `internal error: '${node.op}' returned a gradient of shape ${formatShape(r.shape)} for an input of shape ${formatShape(input.shape)}`,
          );
        }
        accumulate(grads, input, r);
      }
      if (!gUsed) g.dispose();
    }
  } catch (e) {
    disposeAll(...grads.values(), ...leafGrads.values());
    throw e;
  }
  for (const [t, g] of leafGrads) t._accumulateGrad(g);
  if (!options.retainGraph) {
    for (const t of order) t._node?.release();
  }
}

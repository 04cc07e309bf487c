import type { ElementwiseSpec, Params } from '@gradkit/tensor';
import { BackendError, DisposedError, ShapeError, Tensor, ValueError } from '@gradkit/tensor';
import type { ParamPredicate } from './select.js';

/**
 * The state of the transformations that follow a learning-rate
 * {@link @gradkit/tensor!Schedule}: the number of updates done so far (the schedule's `step`
 * argument). Serializable as JSON.
 */
export interface StepState {
  /** Updates done so far: the step at which the next update evaluates the schedule. */
  readonly count: number;
}

/** The state of a transformation that keeps none. */
export type EmptyState = Record<string, never>;

/** @internal Checks a {@link StepState} and returns its count. */
export function countOf(op: string, state: StepState): number {
  const c = (state as StepState | undefined)?.count;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
    throw new ValueError(
      op,
      `state.count must be an integer >= 0 (the state init() returned), got ${String(c)}`,
    );
  }
  return c;
}

function record(op: string, name: string, x: unknown): Params {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    throw new ValueError(
      op,
      `${name} must be a record of named tensors, got ${x === null ? 'null' : typeof x}`,
    );
  }
  return x as Params;
}

/**
 * @internal Maps every update `u` (of `updates`) to `spec(u, w)` with the parameter `w` of the same
 * name when `pick(name, w)` holds, else to a view of `u` (no copy, its own tensor). Everything is
 * checked before a kernel runs: `params` given, every update has a tensor parameter of its shape on
 * its device. Returns new tensors; the inputs are not disposed.
 */
export function mapWithParams(
  op: string,
  updates: Params,
  params: Params | undefined,
  pick: ParamPredicate,
  spec: ElementwiseSpec,
  param: number,
): Params {
  const u = record(op, 'updates', updates);
  if (params === undefined) {
    throw new ValueError(op, 'needs the parameters: call update(updates, state, params)');
  }
  const p = record(op, 'params', params);
  const plan: [string, Tensor, Tensor | null][] = [];
  for (const [name, g] of Object.entries(u)) {
    if (!(g instanceof Tensor)) throw new ValueError(op, `update '${name}' must be a Tensor`);
    const w = p[name];
    if (!(w instanceof Tensor)) throw new ValueError(op, `no parameter named '${name}' in params`);
    if (g.shape.length !== w.shape.length || g.shape.some((s, i) => s !== w.shape[i])) {
      throw new ShapeError(
        op,
        `update '${name}' has shape [${g.shape.join(',')}], its parameter [${w.shape.join(',')}]`,
        [g.shape, w.shape],
      );
    }
    if (g.device !== w.device) {
      throw new BackendError(
        g.device.name,
        `${op}: update '${name}' and its parameter are on different devices`,
      );
    }
    if (g.isDisposed) throw new DisposedError(op, `update '${name}' was disposed`);
    if (w.isDisposed) throw new DisposedError(op, `parameter '${name}' was disposed`);
    plan.push([name, g, param !== 0 && pick(name, w) ? w : null]);
  }
  const out: Params = {};
  try {
    for (const [name, g, w] of plan) {
      out[name] = w ? new Tensor(g.device.map(spec, [g.array, w.array], [param])) : g.detach();
    }
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
}

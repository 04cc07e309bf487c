import type { GradientTransformation, Params } from '@gradkit/tensor';
import { enableGrad, noGrad, scope, Tensor, ValueError } from '@gradkit/tensor';
import { applyUpdates, gradsOf } from './apply-updates.js';
import type { InjectHyperparamsState } from './inject-hyperparams.js';
import { LeakWatch } from './leak-check.js';
import type { ParamsInput } from './param-groups.js';
import { normalizeParams } from './param-groups.js';
import type { JsonValue } from './state-tree.js';
import { deserializeState, disposeState, releaseState, serializeState, tensorsOf } from './state-tree.js';
import { runtimeLearningRate } from './validate.js';

/** The state dict of a {@link TransformationOptimizer}: its transformation state in JSON form. */
export interface TransformationStateDict {
  /** Marks the dict as a transformation's (an {@link Optimizer}'s holds its name instead). */
  readonly optimizer: 'GradientTransformation';
  /** The transformation's state tree, tensors as {@link SerializedTensor}s. */
  readonly state: JsonValue;
}

/** The first `injectHyperparams` state with a numeric `lr` in a state tree (depth first). */
function findHyperparams(state: unknown, seen: Set<unknown>): Record<string, number> | null {
  if (typeof state !== 'object' || state === null || state instanceof Tensor || seen.has(state)) return null;
  seen.add(state);
  const hp = (state as Partial<InjectHyperparamsState<unknown>>).hyperparams;
  if (hp && typeof hp === 'object' && typeof hp.lr === 'number') return hp;
  for (const v of Array.isArray(state) ? state : Object.values(state)) {
    const found = findHyperparams(v, seen);
    if (found) return found;
  }
  return null;
}

/**
 * The stateful face over any {@link GradientTransformation} (a `chain` with clipping, masking,
 * a schedule...): `step()` runs `update` on the parameters' gradients and adds the updates to the
 * parameters; the old state and the intermediate updates are freed. Made by
 * {@link fromTransformation}.
 *
 * @typeParam S the transformation's state.
 * @example
 * ```ts
 * const opt = fromTransformation(model, chain(clipByGlobalNorm(1), adamwTransform({ lr: 1e-3 })));
 * loss.backward();
 * opt.step();
 * opt.zeroGrad();
 * ```
 * @see https://pytorch.org/docs/1.13/optim.html (the face it mimics)
 */
export class TransformationOptimizer<S> {
  /** The parameters by name. */
  readonly params: Readonly<Params>;
  private readonly tx: GradientTransformation<S>;
  private current: S;
  private disposed = false;
  private readonly leaks = new LeakWatch();

  /** @internal Use {@link fromTransformation}. */
  constructor(params: ParamsInput, tx: GradientTransformation<S>) {
    const op = 'fromTransformation';
    if (!tx || typeof tx.init !== 'function' || typeof tx.update !== 'function') {
      throw new ValueError(op, 'expected a GradientTransformation ({ init, update })');
    }
    this.params = Object.fromEntries(normalizeParams(op, params).flatMap((g) => g.entries));
    this.tx = tx;
    this.current = tx.init({ ...this.params });
  }

  private check(op: string): void {
    if (this.disposed) throw new ValueError(`TransformationOptimizer.${op}`, 'the optimizer was disposed');
  }

  /** The transformation's current state (a view: do not dispose its tensors). */
  get state(): S {
    return this.current;
  }

  /**
   * Runs one update on the parameters that have gradients and applies it. With a `closure`,
   * calls it first (gradients enabled) and returns its result.
   *
   * Memory: the closure and the update run in one {@link @gradkit/tensor!scope}: every tensor
   * the closure or the transformation creates is disposed when the step ends, except the tensors
   * the closure returns (they move to the caller's scope, or, with no scope open, are the
   * caller's to `dispose()`) and the new state. Like {@link Optimizer.step}, it warns once when
   * the live-tensor count grows at each of 64 consecutive steps (`configureLeakCheck`,
   * `GRADKIT_LEAK_CHECK=0`).
   *
   * @returns the closure's result, or `undefined` without a closure.
   * @example
   * ```ts
   * const loss = opt.step(() => {
   *   opt.zeroGrad();
   *   const l = mseLoss(model.forward(x), y);
   *   l.backward();
   *   return l;
   * });
   * console.log(loss.item());
   * loss.dispose();
   * ```
   */
  step(): undefined;
  step<T>(closure: () => T): T;
  step<T>(closure?: () => T): T | undefined;
  step<T>(closure?: () => T): T | undefined {
    this.check('step');
    const result = scope(() => {
      const r = closure ? enableGrad(closure) : undefined;
      noGrad(() => {
        const params = { ...this.params };
        const grads = gradsOf(params);
        const [updates, next] = this.tx.update(grads, this.current, params);
        applyUpdates(params, updates);
        const shielded = new Set<Tensor>([
          ...tensorsOf(grads),
          ...tensorsOf(next),
          ...tensorsOf(this.current),
        ]);
        for (const u of tensorsOf(updates)) if (!shielded.has(u)) u.dispose();
        this.current = releaseState(this.current, next);
      });
      return r;
    });
    this.leaks.observe('TransformationOptimizer');
    return result;
  }

  /** Clears the parameters' gradients (`grad = null`). */
  zeroGrad(): void {
    for (const p of Object.values(this.params)) p.grad = null;
  }

  private hyperparams(op: string): Record<string, number> {
    const hp = findHyperparams(this.current, new Set());
    if (!hp) {
      throw new ValueError(
        `TransformationOptimizer.${op}`,
        'the transformation has no injectable lr: build it with injectHyperparams(...)({ lr, ... })',
      );
    }
    return hp;
  }

  /** The learning rate of the first `injectHyperparams` transformation in the state (a chain's included). */
  getLr(): number {
    return this.hyperparams('getLr').lr;
  }

  /**
   * Sets the learning rate for the next steps, for a transformation made by `injectHyperparams`
   * with a numeric `lr`.
   *
   * A rate below the smallest float32 (about 1.4e-45) is stored as 0, the rate the float32
   * kernels compute with.
   *
   * @throws {ValueError} for a negative learning rate, one that is not finite in float32 (NaN,
   *   Infinity, `1e300`), or a transformation without injectable lr.
   */
  setLr(lr: number): void {
    this.check('setLr');
    this.hyperparams('setLr').lr = runtimeLearningRate('TransformationOptimizer.setLr', 'lr', lr);
  }

  /** The state in JSON form (one read-back per state tensor). */
  stateDict(): TransformationStateDict {
    this.check('stateDict');
    return { optimizer: 'GradientTransformation', state: serializeState(this.current) };
  }

  /**
   * Restores a {@link TransformationOptimizer.stateDict} (also after a JSON round trip); the
   * structure and shapes must be those of this transformation's state.
   *
   * @throws {ValueError} naming the first mismatch; nothing changes then.
   */
  loadStateDict(dict: TransformationStateDict): void {
    this.check('loadStateDict');
    if (dict?.optimizer !== 'GradientTransformation') {
      throw new ValueError(
        'TransformationOptimizer.loadStateDict',
        `expected a GradientTransformation state dict`,
      );
    }
    const loaded = deserializeState(dict.state, this.current);
    disposeState(this.current);
    this.current = loaded;
  }

  /** Frees the state tensors. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeState(this.current);
  }
}

/**
 * Wraps a {@link GradientTransformation} in the stateful `step()` / `zeroGrad()` face.
 *
 * @example
 * ```ts
 * const opt = fromTransformation(model, chain(clipByGlobalNorm(1), injectHyperparams(adamTransform)({ lr: 1e-3 })));
 * ```
 * @see {@link TransformationOptimizer}
 */
export function fromTransformation<S>(
  params: ParamsInput,
  tx: GradientTransformation<S>,
): TransformationOptimizer<S> {
  return new TransformationOptimizer(params, tx);
}

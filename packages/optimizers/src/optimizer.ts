import type { Tensor } from '@gradkit/tensor';
import { enableGrad, noGrad, scope, ValueError } from '@gradkit/tensor';
import { LeakWatch } from './leak-check.js';
import type { OptimizerParams } from './param-groups.js';
import { normalizeParams } from './param-groups.js';
import type { SerializedTensor } from './state-tree.js';
import { deserializeTensor, serializeTensor } from './state-tree.js';
import type { RuleHyperparams, UpdateRule } from './update-rule.js';
import { initSlots, realizeResult } from './update-rule.js';
import { nonNegative, runtimeLearningRate } from './validate.js';

/** A hyperparameter value as stored in a state dict. */
export type HyperparamValue = number | boolean | string | readonly number[];

/** One parameter group in a state dict: the parameter names and the group's hyperparameters. */
export interface ParamGroupState {
  /** The names of the group's parameters (keys of {@link OptimizerStateDict.state}). */
  readonly params: readonly string[];
  /** The group's hyperparameters by option name (`lr`, `betas`, `weightDecay`, ...). */
  readonly [option: string]: HyperparamValue | readonly string[];
}

/** The state of one parameter in a state dict (PyTorch's `state[p]`). */
export interface ParamStateEntry {
  /** Updates applied to this parameter so far. */
  readonly step: number;
  /** State tensors by slot name (`m`, `v`, `momentumBuffer`, ...). */
  readonly slots: Readonly<Record<string, SerializedTensor>>;
  /** Host scalars (NAdam's `muProduct`); usually empty. */
  readonly scalars: Readonly<Record<string, number>>;
}

/**
 * An optimizer's complete state, JSON-serializable (`JSON.stringify` writes the float32 values as
 * number arrays, exactly): per-parameter state by parameter name, and the param groups with their
 * hyperparameters (the learning rate a schedule set included), as PyTorch's `state_dict()`.
 */
export interface OptimizerStateDict {
  /** The optimizer's name (`'Adam'`): loading into another optimizer is an error. */
  readonly optimizer: string;
  /** Per-parameter state, by parameter name. */
  readonly state: Readonly<Record<string, ParamStateEntry>>;
  /** The parameter groups, in order, with their hyperparameters. */
  readonly paramGroups: readonly ParamGroupState[];
}

/** How a named optimizer is made: its rule and its option resolver. @internal */
export interface OptimizerSpec<R extends RuleHyperparams> {
  readonly name: string;
  readonly rule: UpdateRule<R>;
  /** Validates options (throwing a ValueError naming `op`) and fills in the defaults. */
  resolve(options: object, op: string): R;
}

/** A parameter group as the optimizer holds it. */
export interface ParamGroup<R> {
  /** Parameter names (from the module or record; `'0'`, `'1'`, ... for plain tensors). */
  readonly names: readonly string[];
  /** The parameters, in the order of `names`. */
  readonly params: readonly Tensor[];
  /** The group's resolved hyperparameters (defaults filled in). */
  readonly options: Readonly<R>;
}

interface Group<R> {
  readonly names: string[];
  readonly params: Tensor[];
  options: R;
}

/** The state of one parameter, as {@link Optimizer.getState} shows it. */
export interface ParamState {
  /** Updates applied to this parameter so far. */
  readonly step: number;
  /** State tensors by slot name (`expAvg`, `expAvgSq`, `momentumBuffer`, ...), on the device. */
  readonly slots: Readonly<Record<string, Tensor>>;
  /** Host scalars (NAdam's `muProduct`); usually empty. */
  readonly scalars: Readonly<Record<string, number>>;
}

interface MutableParamState {
  step: number;
  slots: Record<string, Tensor>;
  scalars: Record<string, number>;
}

/**
 * The stateful optimizer face, as PyTorch's `torch.optim.Optimizer`: made by the named functions
 * (`sgd`, `adam`, `adamw`, ...). `step()` updates every parameter that has a gradient, on its
 * device, with fused kernels (one `device.mapMulti` per parameter that writes its new state and
 * value: one pass on `wasm` and `cpu`, one draw on `gl` where its shader can express the update;
 * no read-back, no upload); `zeroGrad()` clears the gradients. Parameter groups carry their own
 * hyperparameters; `setLr` / `setHyperparam` change them between steps (schedules drive
 * `setLr`). `stateDict()` / `loadStateDict()` save and restore everything, so a run resumes bit
 * for bit.
 *
 * State tensors are created at construction (zeros, or the initial accumulator) and belong to
 * the optimizer: no scope disposes them; {@link Optimizer.dispose} does.
 *
 * @typeParam R the resolved hyperparameters of a group.
 * @see https://pytorch.org/docs/1.13/optim.html
 * @example
 * ```ts
 * const opt = adam(model, { lr: 1e-3 });
 * for (let i = 0; i < 100; i++) {
 *   scope(() => {
 *     mseLoss(model.forward(x), y).backward();
 *     opt.step();
 *     opt.zeroGrad();
 *   });
 * }
 * ```
 */
export class Optimizer<R extends RuleHyperparams = RuleHyperparams> {
  /** The optimizer's name (`'Adam'`). */
  readonly name: string;
  private readonly spec: OptimizerSpec<R>;
  private readonly groups: Group<R>[];
  private states = new Map<string, MutableParamState>();
  private disposed = false;
  private readonly leaks = new LeakWatch();

  /** @internal Use the named functions (`adam(params, options)`, ...). */
  constructor(spec: OptimizerSpec<R>, params: OptimizerParams<object>, options: object) {
    this.spec = spec;
    this.name = spec.name;
    const groups = normalizeParams(spec.name, params);
    this.groups = groups.map((g) => ({
      names: g.entries.map(([n]) => n),
      params: g.entries.map(([, t]) => t),
      options: spec.resolve({ ...options, ...g.overrides }, spec.name),
    }));
    for (const g of this.groups) {
      g.params.forEach((p, i) => {
        this.states.set(g.names[i], this.freshState(p, g.options));
      });
    }
  }

  private freshState(p: Tensor, hp: R): MutableParamState {
    return {
      step: 0,
      slots: initSlots(this.spec.rule, p, hp),
      scalars: { ...(this.spec.rule.scalars ?? {}) },
    };
  }

  private check(op: string): void {
    if (this.disposed) throw new ValueError(`${this.name}.${op}`, 'the optimizer was disposed');
  }

  private checkParams(op: string): void {
    for (const g of this.groups) {
      g.params.forEach((p, i) => {
        if (p.isDisposed) {
          throw new ValueError(
            `${this.name}.${op}`,
            `parameter '${g.names[i]}' was disposed (was the model disposed?); make a new optimizer for a new model`,
          );
        }
      });
    }
  }

  private group(op: string, index: number): Group<R> {
    const g = this.groups[index];
    if (!Number.isInteger(index) || !g) {
      throw new ValueError(
        `${this.name}.${op}`,
        `group must be an integer in [0, ${this.groups.length - 1}], got ${index}`,
      );
    }
    return g;
  }

  /** The parameter groups: names, tensors and resolved hyperparameters. */
  get paramGroups(): readonly ParamGroup<R>[] {
    return this.groups.map((g) => ({
      names: [...g.names],
      params: [...g.params],
      options: { ...g.options },
    }));
  }

  /**
   * Updates every parameter that has a gradient (parameters whose `grad` is null are skipped and
   * their step count does not advance, as in PyTorch). With a `closure` (which computes the loss
   * and calls `backward()`), calls it first, with gradients enabled, and returns its result.
   *
   * Memory: the closure and the update run in one {@link @gradkit/tensor!scope}. Every tensor the
   * closure creates (the forward's activations, the loss's intermediates) is disposed when the
   * step ends, except the tensors it returns: those move to the caller's scope (or, with no scope
   * open, are the caller's to `dispose()`), as `scope` does with returned tensors. Return (in an
   * array or object) or `keep()` any other tensor you need after the step. Parameters, their
   * gradients and the optimizer state are never owned by a scope. The update's own temporaries
   * are freed in both forms.
   *
   * Leak check: at the end of each step the optimizer compares the number of live tensors with
   * the previous step's; when it grew at each of the last 64 steps it prints one warning (once per
   * process) with the fix. See `configureLeakCheck`; `GRADKIT_LEAK_CHECK=0` silences it.
   *
   * @returns the closure's result, or `undefined` without a closure.
   * @throws {ValueError} when the optimizer was disposed, or a parameter was disposed (e.g. with
   *   `model.dispose()`): an error before anything is updated, rather than a step that silently
   *   skips the parameters whose gradients went with them.
   * @example
   * ```ts
   * for (let i = 0; i < 1000; i++) {
   *   const loss = opt.step(() => {
   *     opt.zeroGrad();
   *     const l = mseLoss(model.forward(x), y);
   *     l.backward();
   *     return l; // the forward's other tensors are freed when the step ends
   *   });
   *   if (i % 100 === 0) console.log(loss.item());
   *   loss.dispose();
   * }
   * ```
   * @see https://pytorch.org/docs/1.13/optim.html#optimizer-step-closure
   */
  step(): undefined;
  step<T>(closure: () => T): T;
  step<T>(closure?: () => T): T | undefined;
  step<T>(closure?: () => T): T | undefined {
    this.check('step');
    this.checkParams('step');
    const result = scope(() => {
      const r = closure ? enableGrad(closure) : undefined;
      this.update();
      return r;
    });
    this.leaks.observe(this.name);
    return result;
  }

  private update(): void {
    const rule = this.spec.rule;
    noGrad(() => {
      for (const g of this.groups) {
        const hp = g.options;
        const names = rule.slots(hp);
        g.params.forEach((p, i) => {
          const grad = p.grad;
          if (!grad) return;
          const st = this.states.get(g.names[i]) as MutableParamState;
          const missing = names.filter((n) => !st.slots[n]);
          if (missing.length > 0) Object.assign(st.slots, initSlots(rule, p, hp, missing));
          const count = st.step + 1;
          const scalars = rule.advance ? rule.advance(st.scalars, count, hp) : st.scalars;
          const r = scope(() =>
            realizeResult(rule.step({ g: grad, p, slots: st.slots, count, scalars, apply: true }, hp)),
          );
          for (const n of names) {
            const next = r.slots[n];
            if (next !== st.slots[n]) {
              st.slots[n].assign(next);
              next.dispose();
            }
          }
          p.assign(r.out);
          r.out.dispose();
          st.step = count;
          st.scalars = scalars;
        });
      }
    });
  }

  /** Clears the gradients of every parameter (`grad = null`, as `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }

  /** The learning rate of a group (default the first). */
  getLr(group = 0): number {
    return this.group('getLr', group).options.lr;
  }

  /**
   * Sets the learning rate of one group, or of every group when `group` is omitted: how a
   * schedule drives the optimizer (`opt.setLr(schedule(step))`). Takes effect at the next step.
   * A rate below the smallest float32 (about 1.4e-45, e.g. a long exponential decay) is stored as
   * 0, the rate the float32 kernels compute with.
   *
   * @throws {ValueError} for a negative learning rate or one that is not finite in float32 (NaN,
   *   Infinity, `1e300`).
   */
  setLr(lr: number, group?: number): void {
    const rate = runtimeLearningRate(this.name, 'lr', lr);
    this.setHyperparam('lr', rate as R['lr'], group);
  }

  /** A hyperparameter of a group (default the first). */
  getHyperparam<K extends keyof R & string>(key: K, group = 0): R[K] {
    return this.group('getHyperparam', group).options[key];
  }

  /**
   * Sets a hyperparameter of one group, or of every group when `group` is omitted, validated as
   * at construction. Takes effect at the next step.
   *
   * @throws {ValueError} for a value the optimizer rejects, or an unknown name.
   */
  setHyperparam<K extends keyof R & string>(key: K, value: R[K], group?: number): void {
    this.check('setHyperparam');
    const targets = group === undefined ? this.groups : [this.group('setHyperparam', group)];
    const resolved = targets.map((g) => this.spec.resolve({ ...g.options, [key]: value }, this.name));
    targets.forEach((g, i) => {
      g.options = resolved[i];
    });
  }

  /** The state of a parameter by name (a view: do not dispose its tensors). */
  getState(name: string): ParamState {
    const st = this.states.get(name);
    if (!st) throw new ValueError(`${this.name}.getState`, `no parameter named '${name}'`);
    return { step: st.step, slots: { ...st.slots }, scalars: { ...st.scalars } };
  }

  /**
   * The optimizer's state (reads every state tensor back): per-parameter state and the param
   * groups with their hyperparameters. JSON-serializable.
   */
  stateDict(): OptimizerStateDict {
    this.check('stateDict');
    const state: Record<string, ParamStateEntry> = {};
    for (const [name, st] of this.states) {
      const slots: Record<string, SerializedTensor> = {};
      for (const [n, t] of Object.entries(st.slots)) slots[n] = serializeTensor(t);
      state[name] = { step: st.step, slots, scalars: { ...st.scalars } };
    }
    const paramGroups = this.groups.map(
      (g) => ({ ...(g.options as object), params: [...g.names] }) as ParamGroupState,
    );
    return { optimizer: this.name, state, paramGroups };
  }

  /**
   * Restores a {@link Optimizer.stateDict} (also after a JSON round trip): the groups'
   * hyperparameters and every parameter's state. Parameters missing from `state` start fresh.
   * Everything is checked before anything changes.
   *
   * @throws {ValueError} when the dict is of another optimizer, the groups or parameter names
   *   differ, a shape differs, or a hyperparameter is invalid.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    this.check('loadStateDict');
    const op = `${this.name}.loadStateDict`;
    if (typeof dict !== 'object' || dict === null) throw new ValueError(op, 'expected a state dict object');
    if (dict.optimizer !== this.name) {
      throw new ValueError(op, `the state dict is of '${String(dict.optimizer)}', not '${this.name}'`);
    }
    if (!Array.isArray(dict.paramGroups) || dict.paramGroups.length !== this.groups.length) {
      throw new ValueError(
        op,
        `expected ${this.groups.length} param groups, got ${dict.paramGroups?.length}`,
      );
    }
    const options = dict.paramGroups.map((pg, i) => {
      const { params, ...rest } = pg;
      const names = this.groups[i].names;
      if (!Array.isArray(params) || params.length !== names.length || params.some((n, j) => n !== names[j])) {
        throw new ValueError(
          op,
          `param group ${i} has parameters [${params}], expected [${names.join(', ')}]`,
        );
      }
      return this.spec.resolve(rest, op);
    });
    const rule = this.spec.rule;
    const built = new Map<string, MutableParamState>();
    try {
      this.groups.forEach((g, gi) => {
        const hp = options[gi];
        g.params.forEach((p, i) => {
          const name = g.names[i];
          const entry = dict.state?.[name];
          if (entry === undefined) {
            built.set(name, this.freshState(p, hp));
            return;
          }
          const step = nonNegative(op, `state['${name}'].step`, entry.step);
          if (!Number.isInteger(step))
            throw new ValueError(op, `state['${name}'].step must be an integer, got ${step}`);
          const scalars: Record<string, number> = { ...(rule.scalars ?? {}) };
          for (const k of Object.keys(scalars)) {
            const v = entry.scalars?.[k];
            if (typeof v !== 'number')
              throw new ValueError(op, `state['${name}'].scalars.${k} must be a number`);
            scalars[k] = v;
          }
          const st: MutableParamState = { step, slots: {}, scalars };
          built.set(name, st);
          for (const n of rule.slots(hp)) {
            if (entry.slots?.[n] === undefined) throw new ValueError(op, `state['${name}'] has no '${n}'`);
            st.slots[n] = deserializeTensor(op, `state['${name}'].slots.${n}`, entry.slots[n], p);
          }
        });
      });
    } catch (e) {
      for (const st of built.values()) for (const t of Object.values(st.slots)) t.dispose();
      throw e;
    }
    for (const st of this.states.values()) for (const t of Object.values(st.slots)) t.dispose();
    this.states = built;
    this.groups.forEach((g, i) => {
      g.options = options[i];
    });
  }

  /** Frees the state tensors. The optimizer cannot be used afterwards. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const st of this.states.values()) for (const t of Object.values(st.slots)) t.dispose();
    this.states.clear();
  }
}

import type { GradientTransformation, Params, Tensor } from '@gradkit/tensor';
import { keep, noGrad, scope, ValueError, zerosLike } from '@gradkit/tensor';
import type { KernelCode, Operand } from './kernel.js';
import { pending, realize } from './kernel.js';

/**
 * Hyperparameters every optimizer has (the base of `AdamHyperparams`, `SgdHyperparams`, ...): the
 * resolved values an {@link Optimizer} keeps per parameter group. In an update rule `lr` scales
 * the output by `-lr`: the building blocks (`scaleByAdam`, `trace`, ...) run their rule with
 * `lr = -1`, `weightDecay = 0` and `maximize = false`, so they output the bare direction.
 */
export interface RuleHyperparams {
  /** The learning rate. */
  readonly lr: number;
  /** Weight decay: an L2 penalty `g + wd p` added to the gradient, or decoupled (AdamW, Lion, LAMB). */
  readonly weightDecay: number;
  /** Ascend instead of descend. */
  readonly maximize: boolean;
}

/** What one rule step sees for one parameter. @internal */
export interface RuleContext {
  /** The gradient. */
  readonly g: Tensor;
  /** The parameter (present in apply mode, and in update mode when the rule needs it). */
  readonly p: Tensor | undefined;
  /** The current state tensors of this parameter, by slot name. */
  readonly slots: Readonly<Record<string, Tensor>>;
  /** The step number of this update: 1 for the first. */
  readonly count: number;
  /** Host-side scalars of the state after {@link UpdateRule.advance} for this step. */
  readonly scalars: Readonly<Record<string, number>>;
  /** True: output the new parameter value `p + update`; false: output the update. */
  readonly apply: boolean;
}

/**
 * What one rule step returns: the new state tensors and the update (or the new parameter), each
 * a tensor or a value not computed yet ({@link realizeResult} computes them in one pass). @internal
 */
export interface RuleResult {
  readonly slots: Readonly<Record<string, Operand>>;
  readonly out: Operand;
}

/** A rule step's result with every value computed (see {@link realizeResult}). @internal */
export interface RealizedResult {
  readonly slots: Readonly<Record<string, Tensor>>;
  readonly out: Tensor;
}

/**
 * Computes a rule step's pending values together: the new state and the output of one parameter
 * in one `mapMulti` pass where the backend fuses it (see `realize`). @internal
 */
export function realizeResult(r: RuleResult): RealizedResult {
  const names = Object.keys(r.slots);
  const values = realize([...names.map((n) => r.slots[n]), r.out]);
  const slots: Record<string, Tensor> = {};
  names.forEach((n, i) => {
    slots[n] = values[i];
  });
  return { slots, out: values[names.length] };
}

/**
 * One optimizer's arithmetic, written once as fused device kernels (one pending kernel per state
 * tensor, plus one for the output, run together by {@link realizeResult}), shared by its stateful face (`adam(params)`, apply mode: the
 * output kernel writes `p + update` directly) and its transformations (`adamTransform`,
 * `scaleByAdam`, update mode).
 *
 * @internal
 */
export interface UpdateRule<H extends RuleHyperparams> {
  /** The optimizer's name, for messages and state dicts (`'Adam'`). */
  readonly name: string;
  /** Names of the per-parameter state tensors under `hp`. */
  slots(hp: H): readonly string[];
  /** A fresh state tensor (default: zeros like `p`). */
  initSlot?(slot: string, p: Tensor, hp: H): Tensor;
  /** Host-side per-parameter scalars and their initial values (NAdam's `muProduct`). */
  readonly scalars?: Readonly<Record<string, number>>;
  /** Host-side scalars for step `count` from those of the previous step. */
  advance?(scalars: Readonly<Record<string, number>>, count: number, hp: H): Record<string, number>;
  /** Whether the update (not only the apply) reads the parameter (default: when weight decay is on). */
  needsParams?(hp: H): boolean;
  /** The kernels of one step for one parameter. */
  step(ctx: RuleContext, hp: H): RuleResult;
}

/**
 * The effective gradient as kernel code: `g`, negated under `maximize`, plus `weightDecay * p`
 * when L2 weight decay is coupled into the gradient (PyTorch's `grad.add(param, alpha=wd)`).
 * Pair it with {@link gradInputs}.
 *
 * @internal
 */
export function gradExpr(hp: RuleHyperparams): string {
  const g = hp.maximize ? '(-$g)' : '$g';
  return hp.weightDecay !== 0 ? `(${g} + $wd * $p)` : g;
}

/** The inputs and parameters {@link gradExpr} refers to. @internal */
export function gradInputs(
  ctx: RuleContext,
  hp: RuleHyperparams,
): {
  inputs: Record<string, Operand | undefined>;
  params: Record<string, number | undefined>;
} {
  const wd = hp.weightDecay !== 0;
  return { inputs: { g: ctx.g, p: wd ? ctx.p : undefined }, params: { wd: wd ? hp.weightDecay : undefined } };
}

/**
 * The output kernel: `scale * D` (update mode) or `p + scale * D` (apply mode) for the direction
 * `D`; with `decoupledDecay`, the parameter also decays by `lr * weightDecay` as in AdamW
 * (`p (1 - lr wd) + scale D`, or the update `scale D - lr wd p`).
 *
 * @internal
 */
export function emit(
  name: string,
  ctx: RuleContext,
  hp: RuleHyperparams,
  direction: KernelCode,
  inputs: Record<string, Operand | undefined>,
  params: Record<string, number | undefined>,
  scale: number,
  decoupledDecay = false,
): Operand {
  const lrwd = decoupledDecay ? hp.lr * hp.weightDecay : 0;
  const d = `(${direction.expr})`;
  let expr: string;
  const ps: Record<string, number | undefined> = { ...params, scale };
  const ins: Record<string, Operand | undefined> = { ...inputs };
  if (ctx.apply) {
    ins.p = ctx.p;
    if (lrwd !== 0) {
      expr = `$p * $keep + $scale * ${d}`;
      ps.keep = 1 - lrwd;
    } else expr = `$p + $scale * ${d}`;
  } else if (lrwd !== 0) {
    ins.p = ctx.p;
    expr = `$scale * ${d} - $lrwd * $p`;
    ps.lrwd = lrwd;
  } else expr = `$scale * ${d}`;
  return pending(`${name}.${ctx.apply ? 'apply' : 'update'}`, { stmts: direction.stmts, expr }, ins, ps);
}

/**
 * The state of a transformation built from an update rule: the step count, the state tensors of
 * every parameter by slot (`slots.m.w` is the first moment of parameter `w`), and host scalars.
 */
export interface RuleState {
  /** Updates done so far. */
  readonly count: number;
  /** Per-parameter state tensors, by slot name then parameter name. */
  readonly slots: Readonly<Record<string, Params>>;
  /** Host-side scalars (NAdam's `muProduct`); empty for most rules. */
  readonly scalars: Readonly<Record<string, number>>;
}

/** Fresh state tensors for `p` (kept: no scope disposes them). @internal */
export function initSlots<H extends RuleHyperparams>(
  rule: UpdateRule<H>,
  p: Tensor,
  hp: H,
  names: readonly string[] = rule.slots(hp),
): Record<string, Tensor> {
  return noGrad(() => {
    const out: Record<string, Tensor> = {};
    for (const n of names) out[n] = keep(rule.initSlot ? rule.initSlot(n, p, hp) : zerosLike(p));
    return out;
  });
}

/**
 * A {@link GradientTransformation} running `rule` in update mode, with the hyperparameters of each
 * step given by `hpAt(step)` (step 0 for the first update; schedules are evaluated here).
 *
 * @internal
 */
export function ruleTransformation<H extends RuleHyperparams>(
  rule: UpdateRule<H>,
  hpAt: (step: number) => H,
  op: string = rule.name,
): GradientTransformation<RuleState> {
  return {
    init(params: Params): RuleState {
      const hp = hpAt(0);
      const names = rule.slots(hp);
      const slots: Record<string, Params> = {};
      for (const n of names) slots[n] = {};
      for (const [k, p] of Object.entries(params)) {
        const s = initSlots(rule, p, hp, names);
        for (const n of names) slots[n][k] = s[n];
      }
      return { count: 0, slots, scalars: { ...(rule.scalars ?? {}) } };
    },
    update(grads: Params, state: RuleState, params?: Params): [Params, RuleState] {
      return noGrad(() => {
        const count = state.count + 1;
        const hp = hpAt(state.count);
        const scalars = rule.advance ? rule.advance(state.scalars, count, hp) : { ...state.scalars };
        const names = rule.slots(hp);
        const needsParams = rule.needsParams ? rule.needsParams(hp) : hp.weightDecay !== 0;
        const slots: Record<string, Record<string, Tensor>> = {};
        for (const n of names) {
          if (!state.slots[n]) {
            throw new ValueError(op, `the state has no '${n}' tensors: init it with the same options`);
          }
          slots[n] = { ...state.slots[n] };
        }
        const updates: Params = {};
        for (const [k, g] of Object.entries(grads)) {
          const p = params?.[k];
          if (needsParams && !p) {
            throw new ValueError(
              op,
              `needs the parameters (update(grads, state, params)); '${k}' is missing`,
            );
          }
          const cur: Record<string, Tensor> = {};
          for (const n of names) {
            const t = state.slots[n][k];
            if (!t) throw new ValueError(op, `no state for parameter '${k}': init with the same parameters`);
            cur[n] = t;
          }
          const r = scope(() =>
            realizeResult(rule.step({ g, p, slots: cur, count, scalars, apply: false }, hp)),
          );
          for (const n of names) slots[n][k] = keep(r.slots[n]);
          updates[k] = r.out;
        }
        return [updates, { count, slots, scalars }];
      });
    },
  };
}

import type { OptimizerStateDict, ParamStateEntry } from '@gradkit/optimizers';
import type { StateDict } from '@gradkit/tensor';
import { ValueError } from '@gradkit/tensor';
import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import { decodeSafetensors, encodeSafetensors } from '../checkpoint/safetensors.js';

/**
 * An optimizer state that has no exact equivalent in PyTorch's `torch.optim` (an optimizer other
 * than SGD, Adam and AdamW, Adam's `convention: 'keras'`), or a PyTorch state gradkit cannot take
 * (another optimizer class, an option gradkit lacks). A {@link ValueError}: `op` names the
 * function, the message the optimizer and the option.
 *
 * @example
 * ```ts
 * try {
 *   toTorchOptimizerState(rmsprop(model, { lr: 0.01 }).stateDict());
 * } catch (e) {
 *   if (e instanceof TorchOptimizerMappingError) console.log(e.message);
 *   // toTorchOptimizerState: optimizer 'RMSprop' has no exact PyTorch mapping here (SGD, Adam and AdamW do)
 * }
 * ```
 */
export class TorchOptimizerMappingError extends ValueError {
  /** `'TorchOptimizerMappingError'`: the class name, shown in messages and stack traces. */
  override name = 'TorchOptimizerMappingError';
}

/** The `torch.optim` classes {@link toTorchOptimizerState} maps (gradkit's optimizer names are the same). */
export const TORCH_OPTIMIZERS = ['SGD', 'Adam', 'AdamW'] as const;

/** One of {@link TORCH_OPTIMIZERS}. */
export type TorchOptimizerName = (typeof TORCH_OPTIMIZERS)[number];

/** A JSON value of a PyTorch param group (numbers, booleans, null, pairs such as `betas`). */
export type TorchHyperparam = number | boolean | null | readonly number[];

/** One param group of PyTorch's `optimizer.state_dict()`: hyperparameters and parameter indices. */
export interface TorchParamGroup {
  /** Indices of the group's parameters (consecutive over the groups, as PyTorch numbers them). */
  readonly params: readonly number[];
  /** `lr`, `betas`, `eps`, `weight_decay`, `momentum`, ... with PyTorch's names. */
  readonly [option: string]: TorchHyperparam | readonly number[];
}

/**
 * The JSON half of an optimizer state in PyTorch's format (`optimizer.json` of an export): PyTorch's
 * `optimizer.state_dict()` without its tensors, plus what identifies the optimizer and parameters.
 */
export interface TorchOptimizerJson {
  /** `'gradkit.torch-optimizer'`. */
  readonly format: 'gradkit.torch-optimizer';
  /** `1`. */
  readonly version: 1;
  /** The `torch.optim` class: `'SGD'`, `'Adam'` or `'AdamW'`. */
  readonly optimizer: TorchOptimizerName;
  /**
   * The parameter names by PyTorch index: index `i` is `paramNames[i]` (`'0.weight'`), the name in
   * the model's state dict and in `model.named_parameters()` of the exported `model.py`.
   */
  readonly paramNames: readonly string[];
  /**
   * PyTorch's `state_dict()`: `state` by parameter index holds the non-tensor entries (Adam's
   * `step`, a number here; PyTorch 1.13 keeps it as a float32 scalar tensor and converts a number
   * on `load_state_dict`); `param_groups` as PyTorch's, keys in snake_case.
   */
  readonly stateDict: {
    /** Per-parameter entries by index (`'0'`, `'1'`, ...); a parameter never updated has none. */
    readonly state: Readonly<
      Record<
        string,
        {
          /** Adam/AdamW: updates so far (absent for SGD, which keeps no count). */
          readonly step?: number;
        }
      >
    >;
    /** The param groups in order, hyperparameters with PyTorch's names. */
    readonly param_groups: readonly TorchParamGroup[];
  };
}

/**
 * An optimizer state in PyTorch's format: the JSON half and the tensors by key
 * `state.<index>.<name>` (`state.0.exp_avg`, `state.3.momentum_buffer`).
 */
export interface TorchOptimizerState {
  /** Everything but the tensors. */
  readonly json: TorchOptimizerJson;
  /** The state tensors (float32), by `state.<param index>.<PyTorch name>`. */
  readonly tensors: StateDict;
}

const TO = 'toTorchOptimizerState';
const FROM = 'fromTorchOptimizerState';

/** gradkit slot name -> PyTorch state key, per optimizer. */
const SLOTS: Record<TorchOptimizerName, Record<string, string>> = {
  SGD: { momentumBuffer: 'momentum_buffer' },
  Adam: { expAvg: 'exp_avg', expAvgSq: 'exp_avg_sq', maxExpAvgSq: 'max_exp_avg_sq' },
  AdamW: { expAvg: 'exp_avg', expAvgSq: 'exp_avg_sq', maxExpAvgSq: 'max_exp_avg_sq' },
};

/** gradkit option -> PyTorch param-group key, per optimizer (every option gradkit has). */
const OPTIONS: Record<TorchOptimizerName, Record<string, string>> = {
  SGD: {
    lr: 'lr',
    momentum: 'momentum',
    dampening: 'dampening',
    weightDecay: 'weight_decay',
    nesterov: 'nesterov',
    maximize: 'maximize',
  },
  Adam: {
    lr: 'lr',
    betas: 'betas',
    eps: 'eps',
    weightDecay: 'weight_decay',
    amsgrad: 'amsgrad',
    maximize: 'maximize',
  },
  AdamW: {
    lr: 'lr',
    betas: 'betas',
    eps: 'eps',
    weightDecay: 'weight_decay',
    amsgrad: 'amsgrad',
    maximize: 'maximize',
  },
};

/**
 * PyTorch param-group keys that select an implementation, not the arithmetic (or, `initial_lr`,
 * belong to a scheduler): accepted from PyTorch when false or null and dropped. `capturable`,
 * `differentiable` and `fused` set to true are refused (other code paths, other state layout).
 */
const IMPLEMENTATION_KEYS = ['foreach', 'capturable', 'differentiable', 'fused', 'initial_lr'];

function isTorchName(name: unknown): name is TorchOptimizerName {
  return (TORCH_OPTIMIZERS as readonly unknown[]).includes(name);
}

function refuse(op: string, message: string): never {
  throw new TorchOptimizerMappingError(op, message);
}

/**
 * Maps a gradkit optimizer's state (`optimizer.stateDict()` of `sgd`, `adam` or `adamw`, or a
 * checkpoint's `optimizer.json`) to PyTorch's `optimizer.state_dict()` format, exactly:
 *
 * - parameter index `i` is the i-th parameter over the param groups in order (PyTorch's
 *   numbering); for an optimizer made from a model that is `model.parameters()` order, the same
 *   as the exported `model.py`'s `model.parameters()`;
 * - SGD: `momentumBuffer` -> `momentum_buffer`, present only for parameters updated at least once
 *   with momentum > 0 (PyTorch creates the buffer at the first step: gradkit's buffer before it is
 *   zeros and unused); PyTorch's SGD keeps no step count;
 * - Adam / AdamW: `expAvg`, `expAvgSq`, `maxExpAvgSq` (AMSGrad) -> `exp_avg`, `exp_avg_sq`,
 *   `max_exp_avg_sq`, and `step`; a parameter never updated has no entry (as in PyTorch);
 * - hyperparameters with PyTorch's names (`weight_decay`, `betas`, ...), the current `lr`.
 *
 * Not mapped (refused with {@link TorchOptimizerMappingError}): every other optimizer (RMSprop,
 * Adagrad, Adamax, NAdam, RAdam, Adadelta, Lion, LAMB: their PyTorch 1.13 counterparts differ in
 * state layout or, for Lion and LAMB, do not exist), Adam/AdamW with `convention: 'keras'`
 * (epsilon before the bias correction, which PyTorch has no option for), and a state whose
 * parameters are not all float32 tensors of the given shapes.
 *
 * @throws {TorchOptimizerMappingError} as above; {@link ValueError} for a malformed state dict.
 * @see https://pytorch.org/docs/1.13/generated/torch.optim.Optimizer.state_dict.html
 * @example
 * ```ts
 * const opt = adam(model, { lr: 1e-3 });
 * // ... training ...
 * const { json, tensors } = toTorchOptimizerState(opt.stateDict());
 * json.stateDict.param_groups[0]; // { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false, params: [0, 1, 2, 3] }
 * tensors['state.0.exp_avg'].shape; // [hidden, 784], as '0.weight'
 * ```
 */
export function toTorchOptimizerState(dict: OptimizerStateDict): TorchOptimizerState {
  if (typeof dict !== 'object' || dict === null || !Array.isArray(dict.paramGroups))
    throw new ValueError(TO, 'expected an optimizer state dict ({ optimizer, state, paramGroups })');
  const name = dict.optimizer;
  if (!isTorchName(name)) {
    refuse(
      TO,
      `optimizer '${String(name)}' has no exact PyTorch mapping here (${TORCH_OPTIMIZERS.join(', ')} do)`,
    );
  }
  const paramNames: string[] = [];
  const groups: TorchParamGroup[] = [];
  for (const [gi, g] of dict.paramGroups.entries()) {
    const { params, ...options } = g;
    if (!Array.isArray(params)) throw new ValueError(TO, `param group ${gi} has no params list`);
    if (options.convention !== undefined && options.convention !== 'pytorch') {
      refuse(
        TO,
        `${name} with convention '${String(options.convention)}' (param group ${gi}) has no PyTorch equivalent: PyTorch adds eps after the bias correction`,
      );
    }
    const out: Record<string, TorchHyperparam | readonly number[]> = {};
    for (const [k, v] of Object.entries(options)) {
      if (k === 'convention') continue;
      const key = OPTIONS[name][k];
      if (key === undefined) refuse(TO, `${name} option '${k}' (param group ${gi}) has no PyTorch mapping`);
      if (!(typeof v === 'number' || typeof v === 'boolean' || Array.isArray(v)))
        throw new ValueError(
          TO,
          `${name} option '${k}' (param group ${gi}) must be a number, boolean or pair`,
        );
      out[key] = Array.isArray(v) ? [...(v as number[])] : (v as number | boolean);
    }
    const indices = params.map((p) => {
      if (typeof p !== 'string') throw new ValueError(TO, `param group ${gi} lists a non-name ${String(p)}`);
      if (paramNames.includes(p)) throw new ValueError(TO, `parameter '${p}' is in two param groups`);
      paramNames.push(p);
      return paramNames.length - 1;
    });
    groups.push({ ...out, params: indices });
  }
  const momentumOf = (i: number): number => Number(groups.find((g) => g.params.includes(i))?.momentum ?? 0);
  const state: Record<string, { step?: number }> = {};
  const tensors: StateDict = {};
  paramNames.forEach((pname, i) => {
    const entry: ParamStateEntry | undefined = dict.state?.[pname];
    if (entry === undefined) return;
    if (!Number.isInteger(entry.step) || entry.step < 0)
      throw new ValueError(TO, `state['${pname}'].step must be a non-negative integer, got ${entry.step}`);
    if (entry.step === 0) return; // PyTorch makes a parameter's state at its first update
    const scalars = Object.keys(entry.scalars ?? {});
    if (scalars.length) refuse(TO, `${name} state '${pname}' has host scalars (${scalars.join(', ')})`);
    if (name === 'SGD' && momentumOf(i) === 0) {
      state[String(i)] = {};
      return;
    }
    for (const [slot, t] of Object.entries(entry.slots ?? {})) {
      const key = SLOTS[name][slot];
      if (key === undefined) refuse(TO, `${name} state slot '${slot}' of '${pname}' has no PyTorch name`);
      if (!Array.isArray(t.shape) || t.data === undefined)
        throw new ValueError(TO, `state['${pname}'].slots.${slot} is not a tensor ({ shape, data })`);
      const data = Float32Array.from(t.data);
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new ValueError(TO, `state['${pname}'].slots.${slot} holds a non-finite value at index ${bad}`);
      tensors[`state.${i}.${key}`] = { shape: [...t.shape], data };
    }
    state[String(i)] = name === 'SGD' ? {} : { step: entry.step };
  });
  return {
    json: {
      format: 'gradkit.torch-optimizer',
      version: 1,
      optimizer: name,
      paramNames,
      stateDict: { state, param_groups: groups },
    },
    tensors,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The inverse of {@link toTorchOptimizerState}: a PyTorch optimizer state (as `save_optimizer()`
 * of an exported `model.py` writes it) as a gradkit {@link OptimizerStateDict} that
 * `optimizer.loadStateDict` of the same gradkit optimizer (`sgd`, `adam`, `adamw`, made over the
 * same parameters) accepts. Parameters without PyTorch state get none (they start fresh). SGD
 * keeps no step count in PyTorch: a parameter with a momentum buffer comes back with `step: 1`
 * (gradkit's SGD reads the count only to tell the first update, which copies the gradient into
 * the buffer, from the later ones, so any count above 0 continues the same way); without momentum
 * the count is 0.
 *
 * @throws {TorchOptimizerMappingError} for another optimizer class, `capturable`/`fused`/
 *   `differentiable` set, or a hyperparameter gradkit does not have; {@link ValueError} for a
 *   malformed state (a missing tensor, an index out of range, an unknown format).
 * @example
 * ```ts
 * const dict = fromTorchOptimizerState({ json, tensors });
 * const opt = adam(model);
 * opt.loadStateDict(dict); // lr, betas, ... from the param groups, moments and steps per parameter
 * ```
 */
export function fromTorchOptimizerState(state: TorchOptimizerState): OptimizerStateDict {
  const { json, tensors } = state ?? ({} as TorchOptimizerState);
  if (!isRecord(json) || json.format !== 'gradkit.torch-optimizer' || json.version !== 1)
    throw new ValueError(FROM, "expected { format: 'gradkit.torch-optimizer', version: 1, ... }");
  const name = json.optimizer;
  if (!isTorchName(name))
    refuse(
      FROM,
      `PyTorch optimizer '${String(name)}' has no gradkit mapping (${TORCH_OPTIMIZERS.join(', ')} do)`,
    );
  const names = json.paramNames;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))
    throw new ValueError(FROM, 'paramNames must be a list of parameter names');
  const sd = json.stateDict;
  if (!isRecord(sd) || !Array.isArray(sd.param_groups) || !isRecord(sd.state))
    throw new ValueError(FROM, 'stateDict must hold state and param_groups');
  const back: Record<string, string> = {};
  for (const [g, t] of Object.entries(OPTIONS[name])) back[t] = g;
  const seen = new Set<number>();
  const paramGroups = sd.param_groups.map((g, gi) => {
    if (!isRecord(g) || !Array.isArray(g.params))
      throw new ValueError(FROM, `param group ${gi} has no params list`);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(g)) {
      if (k === 'params') continue;
      if (IMPLEMENTATION_KEYS.includes(k)) {
        if (v === true && k !== 'foreach')
          refuse(FROM, `${name} param group ${gi} has ${k}=True, which gradkit does not map`);
        continue;
      }
      const key = back[k];
      if (key === undefined)
        refuse(FROM, `${name} param group ${gi} has '${k}', which gradkit's ${name} lacks`);
      out[key] = Array.isArray(v) ? [...(v as number[])] : v;
    }
    const params = (g.params as unknown[]).map((p): string => {
      if (!Number.isInteger(p) || (p as number) < 0 || (p as number) >= names.length || seen.has(p as number))
        throw new ValueError(FROM, `param group ${gi}: bad or repeated parameter index ${String(p)}`);
      seen.add(p as number);
      return names[p as number];
    });
    return { ...out, params } as Record<string, unknown> & { params: string[] };
  });
  if (seen.size !== names.length)
    throw new ValueError(FROM, `the param groups list ${seen.size} of the ${names.length} parameters`);
  const momentumOf = (i: number): number => {
    const gi = sd.param_groups.findIndex((g) => (g.params as readonly number[]).includes(i));
    return Number(paramGroups[gi]?.momentum ?? 0);
  };
  const out: Record<string, ParamStateEntry> = {};
  const used = new Set<string>();
  for (const [key, entry] of Object.entries(sd.state)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= names.length)
      throw new ValueError(FROM, `state key '${key}' is not a parameter index below ${names.length}`);
    const slots: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const [slot, tkey] of Object.entries(SLOTS[name])) {
      const t = tensors?.[`state.${i}.${tkey}`];
      if (t === undefined) continue;
      used.add(`state.${i}.${tkey}`);
      slots[slot] = { shape: [...t.shape], data: t.data };
    }
    let step: number;
    if (name === 'SGD') {
      step = slots.momentumBuffer ? 1 : 0;
      if (!slots.momentumBuffer && momentumOf(i) !== 0) continue; // no update yet: starts fresh
    } else {
      step = Number((entry as { step?: unknown }).step);
      if (!Number.isInteger(step) || step < 0)
        throw new ValueError(
          FROM,
          `state ${i}: step must be a non-negative integer, got ${String(entry.step)}`,
        );
      for (const need of ['expAvg', 'expAvgSq'])
        if (!slots[need]) throw new ValueError(FROM, `state ${i} has no '${SLOTS[name][need]}' tensor`);
    }
    out[names[i]] = { step, slots, scalars: {} };
  }
  const extra = Object.keys(tensors ?? {}).filter((k) => !used.has(k));
  if (extra.length) throw new ValueError(FROM, `tensors that no state entry uses: ${extra.join(', ')}`);
  return { optimizer: name, state: out, paramGroups: paramGroups as OptimizerStateDict['paramGroups'] };
}

/** The two files of an optimizer state in PyTorch's format, as bytes and text. */
export interface TorchOptimizerFiles {
  /** `optimizer.json`: {@link TorchOptimizerJson}, pretty-printed. */
  readonly json: string;
  /** `optimizer.safetensors`: the state tensors (F32), by `state.<index>.<name>`. */
  readonly tensors: Uint8Array;
}

/**
 * {@link toTorchOptimizerState} as file contents: the JSON text and the safetensors bytes, which
 * `load_optimizer(model)` of an exported `model.py` reads into `torch.optim.<name>`.
 *
 * @throws as {@link toTorchOptimizerState}.
 * @example
 * ```ts
 * const files = encodeTorchOptimizer(opt.stateDict());
 * // writeFileSync('out/optimizer.json', files.json); writeFileSync('out/optimizer.safetensors', files.tensors);
 * ```
 */
export function encodeTorchOptimizer(dict: OptimizerStateDict): TorchOptimizerFiles {
  const { json, tensors } = toTorchOptimizerState(dict);
  return {
    json: `${JSON.stringify(json, null, 1)}\n`,
    tensors: encodeSafetensors(tensors, { format: 'pt' }),
  };
}

/**
 * Reads the two files of {@link encodeTorchOptimizer} (or of `save_optimizer()` in an exported
 * `model.py`) back into a gradkit optimizer state dict, via {@link fromTorchOptimizerState}.
 * `source` names the data in error messages.
 *
 * @throws {CheckpointError} for JSON that does not parse or a malformed safetensors file; as
 *   {@link fromTorchOptimizerState} otherwise.
 * @example
 * ```ts
 * opt.loadStateDict(decodeTorchOptimizer(readFileSync('optimizer.json', 'utf8'), readFileSync('optimizer.safetensors')));
 * ```
 */
export function decodeTorchOptimizer(
  json: string,
  tensors: Uint8Array,
  source = 'PyTorch optimizer state',
): OptimizerStateDict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new CheckpointError(`${source}: the JSON does not parse (${(e as Error).message})`);
  }
  const decoded = decodeSafetensors(tensors, source).tensors;
  return fromTorchOptimizerState({ json: parsed as TorchOptimizerJson, tensors: decoded });
}

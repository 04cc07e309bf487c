import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Sequential } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import type { OptimizerStateDict } from '@gradkit/optimizers';
import { GradkitError, Rng } from '@gradkit/tensor';
import type { TrainerState } from '@gradkit/trainer';
import { registerStandardLayers, TorchOptimizerMappingError } from '@gradkit/trainer';
import { loadTorchOptimizer, loadTorchStateDict, saveCheckpoint } from '@gradkit/trainer/node';
import { parseCommand } from '../args.js';
import { CliError } from '../errors.js';
import { summaryTable } from '../report.js';
import { evalCommand } from './evaluate.js';

interface ExportDescription {
  format: 'gradkit.export';
  version: number;
  source?: string;
  epoch?: number;
  step?: number;
  model: unknown;
  config?: unknown;
  history?: TrainerState['history'];
}

interface TorchRun {
  steps?: number;
  epochs?: number;
  history?: { epoch: number; step: number; loss: number }[];
  processes?: number;
  test?: { accuracy?: number; correct?: number; total?: number; loss?: number };
}

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new CliError(`import: ${path}: cannot read ${what} (${(e as Error).message})`, 1);
  }
}

/**
 * `gradkit import EXPORT_DIR --out RUN_DIR [--weights FILE] [--data mnist-test|FILE.csv|none] [--backend B]`
 *
 * Brings a model trained in PyTorch back: EXPORT_DIR is a `gradkit export --format torch`
 * directory (its `gradkit-model.json` gives the model description and the run's config); the
 * weights are `--weights FILE` or the `trained.safetensors` that train_ddp.py saved there (any
 * safetensors state dict with the model's PyTorch names loads, strictly). The optimizer state
 * PyTorch saved beside it (`<stem>-optimizer.json`/`.safetensors`, SGD/Adam/AdamW) comes along
 * when present. Writes a gradkit checkpoint, RUN_DIR/checkpoints/last, which `gradkit eval`,
 * `predict` and `export` take; its history is the exported run's epochs followed by the epochs
 * PyTorch completed (their mean loss, from `<stem>.json` of train_ddp.py), and its step count adds
 * PyTorch's steps. Then evaluates it as `gradkit eval --checkpoint RUN_DIR`
 * does (`--data none` skips that).
 */
export function importCommand(argv: readonly string[]): void {
  const { flags, positionals } = parseCommand('import', argv, ['--out', '--weights', '--data', '--backend']);
  if (positionals.length !== 1) {
    throw new CliError(
      positionals.length === 0
        ? 'import: expected an export directory: gradkit import EXPORT_DIR --out RUN_DIR [--weights FILE]'
        : `import: unexpected argument '${positionals[1]}' (one export directory)`,
    );
  }
  const dir = positionals[0];
  if (!existsSync(dir)) throw new CliError(`import: no such directory: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new CliError(`import: not a directory: ${dir}`);
  const out = flags.get('--out');
  if (out === undefined || out.trim() === '') throw new CliError('import: --out RUN_DIR is required');
  if (existsSync(join(out, 'checkpoints')))
    throw new CliError(`import: --out ${out} already holds checkpoints: choose a new directory`);
  const descPath = join(dir, 'gradkit-model.json');
  if (!existsSync(descPath))
    throw new CliError(`import: ${dir} has no gradkit-model.json (made by gradkit export --format torch)`, 1);
  const desc = readJson<ExportDescription>(descPath, 'the export description');
  if (desc?.format !== 'gradkit.export' || !desc.model)
    throw new CliError(`import: ${descPath} is not a gradkit export description`, 1);
  const weights = flags.get('--weights') ?? join(dir, 'trained.safetensors');
  if (!existsSync(weights)) {
    throw new CliError(
      flags.has('--weights')
        ? `import: --weights: no such file: ${weights}`
        : `import: ${weights} not found (train_ddp.py saves it): pass --weights FILE`,
      1,
    );
  }
  const stem = weights.replace(/\.safetensors$/, '');

  registerStandardLayers();
  let model: Sequential;
  try {
    model = buildModel(desc.model as never);
  } catch (e) {
    if (e instanceof GradkitError) throw e;
    throw new CliError(
      `import: ${descPath}: the model description does not build (${(e as Error).message})`,
      1,
    );
  }
  loadTorchStateDict(model, weights); // strict: every key and shape of the model

  const notes: string[] = [];
  let optimizer: OptimizerStateDict | Record<string, never> = {};
  if (existsSync(`${stem}-optimizer.json`)) {
    try {
      optimizer = loadTorchOptimizer(`${stem}-optimizer`);
    } catch (e) {
      if (!(e instanceof TorchOptimizerMappingError)) throw e;
      notes.push(`optimizer state not imported (${e.message})`);
    }
  } else notes.push(`no ${stem}-optimizer.json: the checkpoint has no optimizer state`);
  const run = existsSync(`${stem}.json`) ? readJson<TorchRun>(`${stem}.json`, "train_ddp.py's summary") : {};
  const epochs0 = desc.epoch ?? 0;
  const steps0 = desc.step ?? 0;
  // gradkit's epochs (from the export), then PyTorch's completed ones with their mean loss
  const history: TrainerState['history'] = [
    ...(Array.isArray(desc.history) ? desc.history : []).slice(0, epochs0),
    ...(Array.isArray(run.history) ? run.history : []).map((h) => ({
      epoch: epochs0 + h.epoch,
      step: steps0 + h.step,
      seconds: 0,
      logs: { loss: h.loss },
    })),
  ];
  const epoch = history.length;
  const step = steps0 + (run.steps ?? 0);
  const fresh = new Rng(0).state();
  const trainer: TrainerState = {
    epoch,
    step,
    history,
    dataRng: fresh,
    globalRng: fresh,
    callbacks: {},
    stopped: null,
  };
  const ckptDir = join(out, 'checkpoints', 'last');
  saveCheckpoint(ckptDir, {
    model: model.stateDict(),
    optimizer: optimizer as never,
    trainer,
    callbackTensors: {},
    modelSpec: desc.model as never,
    config: (desc.config ?? null) as never,
  });
  model.dispose();
  const rows: [string, string][] = [
    ['export', dir],
    ['weights', weights],
    ['optimizer', 'optimizer' in optimizer ? `${optimizer.optimizer} (PyTorch state)` : 'none'],
    ['epoch / step', `${epoch} / ${step}`],
  ];
  if (run.test?.accuracy !== undefined)
    rows.push([
      'torch test accuracy',
      `${(100 * run.test.accuracy).toFixed(2)}% (${run.test.correct}/${run.test.total})`,
    ]);
  rows.push(['checkpoint', ckptDir]);
  process.stdout.write(`${summaryTable(rows)}\n`);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  const data = flags.get('--data');
  if (data === 'none') return;
  evalCommand([
    '--checkpoint',
    out,
    ...(data !== undefined ? ['--data', data] : []),
    ...(flags.has('--backend') ? ['--backend', flags.get('--backend') as string] : []),
  ]);
}

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerSpec, ModelSpec } from '@gradkit/nn';
import type { Checkpoint } from '@gradkit/trainer';
import { exportOnnx, registerStandardLayers } from '@gradkit/trainer';
import { loadCheckpoint, writeFileAtomic, writeTorchExport } from '@gradkit/trainer/node';
import { parseCommand } from '../args.js';
import { dataMetaOf, inputShapeOf } from '../data-meta.js';
import { CliError } from '../errors.js';
import { summaryTable } from '../report.js';

/** The formats `gradkit export` writes. */
export const EXPORT_FORMATS = ['torch', 'onnx'] as const;

/** The checkpoint directory of a run directory (best, else last) or the checkpoint directory itself. */
function checkpointDir(path: string): string {
  if (!existsSync(path)) throw new CliError(`export: no such directory: ${path}`);
  if (!statSync(path).isDirectory()) throw new CliError(`export: not a directory: ${path}`);
  if (existsSync(join(path, 'trainer.json'))) return path;
  for (const which of ['best', 'last']) {
    const dir = join(path, 'checkpoints', which);
    if (existsSync(join(dir, 'trainer.json'))) return dir;
  }
  throw new CliError(`export: ${path} holds no gradkit checkpoint (trainer.json)`);
}

/**
 * `gradkit export RUN_DIR|CHECKPOINT_DIR --format torch|onnx --out DIR`
 *
 * Reads the checkpoint (a run directory's best, else its last; only trainer.json and
 * model.safetensors) and writes into DIR:
 * - `torch`: `model.py` (the model as an `nn.Sequential`, `load()` with `strict=True`, `save()`)
 *   and `model.safetensors` (PyTorch's names and dtypes), see `writeTorchExport`;
 * - `onnx`: `model.onnx` (opset 17, a dynamic batch dimension), see `exportOnnx`;
 * and, for both, `gradkit-model.json`: the model description, the input shape of one sample and
 * the run's data description (class names, feature scaling), which the exported model needs to
 * read its inputs as gradkit did. Every file is written atomically after every check passed.
 */
export function exportCommand(argv: readonly string[]): void {
  const { flags, positionals } = parseCommand('export', argv, ['--format', '--out']);
  if (positionals.length !== 1) {
    throw new CliError(
      positionals.length === 0
        ? 'export: expected a run or checkpoint directory: gradkit export RUN_DIR --format torch|onnx --out DIR'
        : `export: unexpected argument '${positionals[1]}' (one run or checkpoint directory)`,
    );
  }
  const format = flags.get('--format');
  if (format === undefined)
    throw new CliError(`export: --format is required (${EXPORT_FORMATS.join(' or ')})`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new CliError(`export: --format must be ${EXPORT_FORMATS.join(' or ')}, got '${format}'`);
  const out = flags.get('--out');
  if (out === undefined || out.trim() === '') throw new CliError('export: --out DIR is required');
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new CliError(`export: --out: not a directory: ${out}`);

  const dir = checkpointDir(positionals[0]);
  const ckpt: Checkpoint = loadCheckpoint(dir, { training: false });
  if (!ckpt.modelSpec)
    throw new CliError(`export: ${dir} has no model description to export the model from`, 1);
  const spec = ckpt.modelSpec as unknown as ModelSpec | readonly LayerSpec[];
  const meta = dataMetaOf(ckpt.config, `export ${join(dir, 'trainer.json')}`);
  const inputShape = inputShapeOf(meta, ckpt.modelSpec);
  registerStandardLayers();
  const title = `gradkit model from ${dir} (epoch ${ckpt.trainer.epoch}, step ${ckpt.trainer.step})`;
  const description = `${JSON.stringify(
    {
      format: 'gradkit.export',
      version: 1,
      source: dir,
      epoch: ckpt.trainer.epoch,
      step: ckpt.trainer.step,
      inputShape,
      data: meta,
      model: ckpt.modelSpec,
    },
    null,
    1,
  )}\n`;

  const written: [string, string][] = [];
  if (format === 'torch') {
    const files = writeTorchExport(out, spec, ckpt.model, { title });
    written.push(['model.py', files.source], ['weights', files.weights]);
  } else {
    // without a stored shape, exportOnnx reads it from the first layer (or says it cannot)
    const bytes = exportOnnx(spec, ckpt.model, inputShape ? { inputShape } : {});
    mkdirSync(out, { recursive: true });
    const path = join(out, 'model.onnx');
    writeFileAtomic(path, bytes);
    written.push(['model.onnx', path]);
  }
  const descPath = join(out, 'gradkit-model.json');
  writeFileAtomic(descPath, description);
  written.push(['description', descPath]);
  const rows: [string, string][] = [
    ['checkpoint', `${dir} (epoch ${ckpt.trainer.epoch}, step ${ckpt.trainer.step})`],
    ['format', format],
    ['input shape', inputShape ? `[N, ${inputShape.join(', ')}]` : 'unknown'],
    ...written,
  ];
  process.stdout.write(`${summaryTable(rows)}\n`);
  process.stdout.write(
    format === 'torch'
      ? `in Python: import sys; sys.path.insert(0, ${JSON.stringify(out)}); import model; net = model.load()\n`
      : 'in ONNX Runtime: InferenceSession(model.onnx).run(None, {"input": x})\n',
  );
}

import { existsSync } from 'node:fs';
import { Dataset, MNIST_MEAN, MNIST_STD, readCsv, readIdx } from '@gradkit/trainer';
import { parseCommand } from '../args.js';
import { coerce } from '../config.js';
import { CliError } from '../errors.js';
import { readImage, toMnist } from '../image.js';
import { inferenceTrainer, loadModel } from './model-io.js';
import { useBackend } from './train.js';

function softmax(row: Float32Array): number[] {
  const m = Math.max(...row);
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** `gradkit predict --checkpoint DIR --input FILE [--limit N] [--label COL] [--backend B]` */
export function predictCommand(argv: readonly string[]): void {
  const allowed = ['--checkpoint', '--input', '--limit', '--label', '--backend'];
  const { flags, positionals } = parseCommand('predict', argv, allowed);
  if (positionals.length) throw new CliError(`predict: unexpected argument '${positionals[0]}'`);
  const path = flags.get('--checkpoint');
  const input = flags.get('--input');
  if (!path) throw new CliError('predict: --checkpoint DIR is required');
  if (!input) throw new CliError('predict: --input FILE is required (IDX images, CSV, or a PNG/PGM picture)');
  if (!existsSync(input)) throw new CliError(`predict: --input: no such file: ${input}`);
  const limit = flags.has('--limit') ? (coerce('limit', flags.get('--limit'), '--limit') as number) : 10;
  useBackend(coerce('backend', flags.get('--backend') ?? 'auto', '--backend') as 'auto');
  const { model, config } = loadModel(path);
  let features: Float32Array;
  let numFeatures: number;
  let labels: Int32Array | null = null;
  if (/\.(png|pgm)$/i.test(input)) {
    features = toMnist(readImage(input));
    numFeatures = 784;
  } else if (/\.csv$/i.test(input)) {
    const t = readCsv(input, { label: flags.get('--label') ?? 'label' });
    features = t.features;
    numFeatures = t.numFeatures;
    labels = t.labels;
  } else {
    const idx = readIdx(input);
    if (idx.shape.length < 2)
      throw new CliError(
        `predict: ${input}: expected an IDX file of images (rank >= 2), got shape [${idx.shape.join(',')}]`,
      );
    numFeatures = idx.shape.slice(1).reduce((p, d) => p * d, 1);
    const scale = idx.dtype === 'uint8' ? 1 / 255 : 1;
    const n = Math.min(idx.shape[0], limit);
    features = Float32Array.from(idx.data.subarray(0, n * numFeatures), (v) => Number(v) * scale);
  }
  if (labels === null && config?.dataset === 'mnist' && config.normalize === 'standard') {
    // pictures and IDX images are read in [0, 1]; the model was trained on standardized pixels
    features = features.map((v) => (v - MNIST_MEAN) / MNIST_STD);
  }
  const n = Math.min(features.length / numFeatures, limit);
  const ds = new Dataset({
    features: features.subarray(0, n * numFeatures),
    labels: new Int32Array(n),
    numFeatures,
  });
  const trainer = inferenceTrainer(model);
  const logits = trainer.predict(ds);
  const classes = logits.length / n;
  for (let i = 0; i < n; i++) {
    const p = softmax(logits.subarray(i * classes, (i + 1) * classes));
    const best = p.indexOf(Math.max(...p));
    const top = p
      .map((v, k) => [k, v] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k}: ${(100 * v).toFixed(1)}%`)
      .join(', ');
    const truth = labels ? `  (label ${labels[i]})` : '';
    process.stdout.write(`${i}: predicted ${best}  [${top}]${truth}\n`);
  }
}

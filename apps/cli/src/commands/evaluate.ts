import { existsSync } from 'node:fs';
import { getDevice } from '@gradkit/kernels';
import type { Dataset } from '@gradkit/trainer';
import { loadMnist, readCsv } from '@gradkit/trainer/node';
import { parseCommand } from '../args.js';
import { coerce } from '../config.js';
import { datasetOf, mnistCsv } from '../data.js';
import type { DataMeta } from '../data-meta.js';
import { dataMetaOf, inputShapeOf, modelShape, parseLabel, readCsvForModel } from '../data-meta.js';
import { CliError } from '../errors.js';
import { summaryTable } from '../report.js';
import { inferenceTrainer, loadModel } from './model-io.js';
import { useBackend } from './train.js';

/**
 * `gradkit eval --checkpoint DIR [--data mnist-test|FILE.csv] [--label COL] [--backend B]`
 *
 * A CSV is read as the model's training data was (see `readCsvForModel`): its feature columns by
 * the training names, its labels with the training classes (an unseen label is an error), its
 * features normalized with the stored training statistics. Without `--data`, an MNIST model is
 * evaluated on the MNIST test set and a CSV model on its run's `--test` file.
 */
export function evalCommand(argv: readonly string[]): void {
  const { flags, positionals } = parseCommand('eval', argv, [
    '--checkpoint',
    '--data',
    '--label',
    '--backend',
  ]);
  if (positionals.length) throw new CliError(`eval: unexpected argument '${positionals[0]}'`);
  const path = flags.get('--checkpoint');
  if (!path)
    throw new CliError('eval: --checkpoint DIR is required (a run directory or a checkpoint directory)');
  const labelFlag = flags.get('--label');
  if (labelFlag !== undefined && labelFlag.trim() === '') throw new CliError('eval: --label: empty column');
  useBackend(coerce('backend', flags.get('--backend') ?? 'auto', '--backend') as 'auto');
  const { model, ckpt, dir, config } = loadModel(path);
  const meta = dataMetaOf(ckpt.config, `--checkpoint ${dir}`);
  const outputs = modelShape(ckpt.modelSpec)?.outputs ?? 10;
  const isMnist = meta ? meta.kind === 'mnist' : !config || config.dataset === 'mnist';
  let data: string;
  let test: Dataset;
  if (isMnist) {
    const normalize = meta?.normalize ?? config?.normalize ?? 'unit';
    data = flags.get('--data') ?? 'mnist-test';
    // a convolutional model reads [1, 28, 28] images, an MLP flat rows of 784 pixels
    const image = inputShapeOf(meta, ckpt.modelSpec)?.length === 3;
    test =
      data === 'mnist-test'
        ? loadMnist({ split: 'test', normalize, shape: image ? 'image' : 'flat' })
        : mnistCsv(data, labelFlag ?? 'label', normalize);
    if (image && data !== 'mnist-test') test = test.withSampleShape([1, 28, 28]);
  } else {
    const runTest = config && config.test !== 'default' && config.test !== 'none' ? config.test : null;
    const chosen = flags.get('--data') ?? runTest;
    if (!chosen) throw new CliError('eval: this run had no --test file: pass --data FILE.csv');
    data = chosen;
    if (!existsSync(data)) throw new CliError(`eval: --data: no such file: ${data}`);
    test = readCsvModelData(data, meta, config?.label ?? 'label', labelFlag, outputs);
  }
  if (test.length === 0) throw new CliError(`eval: ${data} has no rows to evaluate`, 1);
  const trainer = inferenceTrainer(model);
  const t0 = performance.now();
  const r = trainer.evaluate(test);
  if (!Number.isFinite(r.loss) || !Number.isFinite(r.accuracy)) {
    throw new CliError(
      `eval: the loss on ${data} is ${r.loss}: the model or the data holds non-finite values`,
      1,
    );
  }
  const rows: [string, string][] = [
    ['checkpoint', `${dir} (epoch ${ckpt.trainer.epoch})`],
    ['data', `${data} (${test.length} rows)`],
    ['backend', getDevice().info().name],
    ['loss', r.loss.toFixed(4)],
    ['accuracy', `${(100 * r.accuracy).toFixed(2)}% (error ${(100 * (1 - r.accuracy)).toFixed(2)}%)`],
    ['time', `${((performance.now() - t0) / 1000).toFixed(2)} s`],
  ];
  process.stdout.write(`${summaryTable(rows)}\n`);
}

/**
 * A labeled CSV for a CSV model. With a stored data description: read as the training data was.
 * A checkpoint from before gradkit stored it: integer labels only (its text classes were numbered
 * per file and are unknown), features as read (those runs did not normalize), labels below the
 * model's number of outputs.
 */
function readCsvModelData(
  path: string,
  meta: DataMeta | null,
  trainLabel: string,
  labelFlag: string | undefined,
  outputs: number,
): Dataset {
  const label = labelFlag === undefined ? undefined : parseLabel(labelFlag);
  if (meta?.kind === 'csv')
    return datasetOf(
      readCsvForModel(path, meta, trainLabel, label === undefined ? {} : { label }),
      meta.numClasses,
    );
  const lab = label ?? parseLabel(trainLabel);
  const probe = readCsv(path, { label: lab });
  if (probe.classNames) {
    throw new CliError(
      `eval: ${path} has text labels (${probe.classNames.slice(0, 3).join(', ')}...), but this checkpoint was made before gradkit stored class names, so they cannot be matched to its outputs: train it again`,
      1,
    );
  }
  return datasetOf(readCsv(path, { label: lab, labelType: 'integer', numClasses: outputs }), outputs);
}

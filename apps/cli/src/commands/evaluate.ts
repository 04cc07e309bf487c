import { getDevice } from '@gradkit/kernels';
import { parseCommand } from '../args.js';
import { coerce } from '../config.js';
import { loadData } from '../data.js';
import { CliError } from '../errors.js';
import { summaryTable } from '../report.js';
import { inferenceTrainer, loadModel } from './model-io.js';
import { useBackend } from './train.js';

/** `gradkit eval --checkpoint DIR [--data mnist-test|FILE.csv] [--label COL] [--backend B]` */
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
  useBackend(coerce('backend', flags.get('--backend') ?? 'auto', '--backend') as 'auto');
  const { model, ckpt, dir, config } = loadModel(path);
  const data = flags.get('--data') ?? (config?.dataset === 'mnist' || !config ? 'mnist-test' : config.test);
  const label = flags.get('--label') ?? config?.label ?? 'label';
  const normalize = config?.normalize ?? 'unit';
  const { test } =
    data === 'mnist-test'
      ? loadData({ dataset: 'mnist', test: 'mnist-test', label, limit: null, normalize })
      : loadData({ dataset: data, test: data, label, limit: null, normalize });
  if (!test) throw new CliError(`eval: no evaluation data (${data})`);
  const trainer = inferenceTrainer(model);
  const t0 = performance.now();
  const r = trainer.evaluate(test);
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

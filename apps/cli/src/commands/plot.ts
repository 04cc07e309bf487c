import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '@gradkit/trainer/node';
import { parseCommand } from '../args.js';
import { CliError } from '../errors.js';
import type { Series } from '../plot.js';
import { renderChart } from '../plot.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function readMetrics(dir: string): Record<string, number>[] {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) throw new CliError(`plot: ${dir} is not a gradkit run directory (no metrics.jsonl)`);
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.map((l, i) => {
    let row: unknown;
    try {
      row = JSON.parse(l);
    } catch {
      throw new CliError(`plot: ${path}: line ${i + 1} is not JSON`, 1);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new CliError(`plot: ${path}: line ${i + 1} is not a JSON object`, 1);
    return row as Record<string, number>;
  });
}

/**
 * `gradkit plot RUN_DIR... [--out FILE.svg] [--x step|epoch]`: overlays the training and
 * validation curves of several runs (e.g. with and without batch normalization) in one SVG.
 */
export function plotCommand(argv: readonly string[]): void {
  const { flags, positionals } = parseCommand('plot', argv, ['--out', '--x', '--title']);
  if (positionals.length === 0)
    throw new CliError('plot: expected one or more run directories: gradkit plot RUN_DIR... --out FILE.svg');
  const x = flags.get('--x') ?? 'step';
  if (x !== 'step' && x !== 'epoch')
    throw new CliError(`--x: expected step or epoch, got ${JSON.stringify(x)}`);
  const out = flags.get('--out') ?? 'comparison.svg';
  if (out.trim() === '') throw new CliError('--out: must not be empty');
  const runs = positionals.map((dir) => ({ name: basename(dir), rows: readMetrics(dir) }));
  const series = (key: string, dashed: boolean): Series[] =>
    runs.map((r, i) => ({
      name: `${r.name} ${key.startsWith('val_') ? 'val' : 'train'}`,
      color: PALETTE[i % PALETTE.length],
      dashed,
      points: r.rows.map((row) => [row[x], row[key] ?? Number.NaN] as const),
    }));
  const svg = renderChart(flags.get('--title') ?? `gradkit: ${runs.map((r) => r.name).join(' vs ')}`, [
    {
      title: 'Loss',
      xLabel: x,
      yLabel: 'cross-entropy',
      series: [...series('loss', false), ...series('val_loss', true)],
    },
    {
      title: 'Accuracy',
      xLabel: x,
      yLabel: 'accuracy',
      series: [...series('accuracy', false), ...series('val_accuracy', true)],
      yFormat: (v) => `${Number((100 * v).toPrecision(4))}%`,
      legend: 'bottom',
    },
  ]);
  writeFileAtomic(out, svg); // a temporary file renamed over `out`: never half-written
  process.stdout.write(`wrote ${out}\n`);
}

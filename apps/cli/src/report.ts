import type { EpochRecord } from '@gradkit/trainer';
import { writeFileAtomic } from '@gradkit/trainer/node';
import type { Panel, Series } from './plot.js';
import { renderChart } from './plot.js';

const COLORS = { train: '#1f77b4', val: '#d62728', test: '#2ca02c' };

/** Writes the loss and accuracy curves (training and validation, per epoch) as an SVG file. */
export function writeCurves(
  path: string,
  title: string,
  history: readonly EpochRecord[],
  testAccuracy?: number,
): void {
  const pts = (key: string) => history.map((r) => [r.epoch, r.logs[key] ?? Number.NaN] as const);
  const series = (key: string, name: string, color: string, dashed = false): Series => ({
    name,
    color,
    dashed,
    points: pts(key),
  });
  const loss: Panel = {
    title: 'Loss',
    xLabel: 'epoch',
    yLabel: 'cross-entropy',
    series: [series('loss', 'training', COLORS.train), series('val_loss', 'validation', COLORS.val, true)],
  };
  const accSeries = [
    series('accuracy', 'training', COLORS.train),
    series('val_accuracy', 'validation', COLORS.val, true),
  ];
  if (testAccuracy !== undefined && history.length > 0) {
    accSeries.push({
      name: `test ${(100 * testAccuracy).toFixed(2)}%`,
      color: COLORS.test,
      points: [[history[history.length - 1].epoch, testAccuracy]],
    });
  }
  const acc: Panel = {
    title: 'Accuracy',
    xLabel: 'epoch',
    yLabel: 'accuracy',
    series: accSeries.map((s) => ({ ...s, points: s.points.map(([x, y]) => [x, y] as const) })),
    yFormat: (v) => `${Number((100 * v).toPrecision(4))}%`,
    legend: 'bottom',
  };
  writeFileAtomic(path, renderChart(title, [loss, acc])); // replaces a planted link, never half-written
}

/** A boxed two-column table for the terminal. */
export function summaryTable(rows: readonly (readonly [string, string])[]): string {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const line = `+${'-'.repeat(w0 + 2)}+${'-'.repeat(w1 + 2)}+`;
  return [line, ...rows.map(([a, b]) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} |`), line].join('\n');
}

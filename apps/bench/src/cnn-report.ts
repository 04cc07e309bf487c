// The cnn workload in the report: the table, the targets of issue 12, the notes and the chart panel.
import type { BarGroup, Panel } from './chart.js';
import { colorOf } from './chart.js';
import { CNN_CHECK_TOLERANCE, CNN_REFERENCES, describeLenet } from './cnn.js';
import type { Target } from './report.js';
import { fmt, ratio, table } from './stats.js';
import type { CnnCannotTrain, CnnRow } from './types.js';

const isGradkit = (id: string) => id.startsWith('gradkit-');

/** A row whose check passed (or was not run): it counts for ratios and targets. */
export const trustedCnn = (r: CnnRow | undefined): r is CnnRow => !!r && r.check?.ok !== false;

/** The fastest of `rows` by samples/s, complete epochs preferred over partial ones. */
function fastest(rows: readonly CnnRow[]): CnnRow | undefined {
  const pool = rows.some((r) => !r.partial) ? rows.filter((r) => !r.partial) : rows;
  return pool.reduce<CnnRow | undefined>(
    (a, b) => (!a || b.samplesPerSecond > a.samplesPerSecond ? b : a),
    undefined,
  );
}

/** The fastest gradkit cnn run that passed the check (complete epochs preferred). */
export const bestGradkitCnn = (rows: readonly CnnRow[]): CnnRow | undefined =>
  fastest(rows.filter((r) => isGradkit(r.contender) && trustedCnn(r)));

/**
 * The fastest TF.js backend that can train the CNN and passed the check, by samples/s (a partial
 * epoch's samples/s are valid; here every trained step counts, whether or not the epoch finished).
 */
export const fastestTfjsCnn = (rows: readonly CnnRow[]): CnnRow | undefined =>
  rows
    .filter((r) => r.contender.startsWith('tfjs-') && trustedCnn(r))
    .reduce<CnnRow | undefined>((a, b) => (!a || b.samplesPerSecond > a.samplesPerSecond ? b : a), undefined);

function checkCell(r: CnnRow): string {
  const c = r.check;
  if (!c) return 'not checked';
  if (!c.ok) return `WRONG (${c.problems.join('; ')})`;
  if (c.reference === null || c.reference === r.contender) return 'ok (the reference)';
  return `ok (${fmt(c.worst, 2)} of tol vs ${c.reference})`;
}

/** The cnn table: throughput, step times, accuracy, cores, memory, ratios, the check; "cannot train" rows with the error. */
export function cnnTable(
  rows: readonly CnnRow[],
  cannot: readonly CnnCannotTrain[],
  order: readonly string[],
): string {
  const tf = fastestTfjsCnn(rows);
  const torch = rows.find((r) => r.contender === 'torch-cpu');
  const body: string[][] = [];
  for (const id of order) {
    const r = rows.find((x) => x.contender === id);
    const ct = cannot.find((x) => x.contender === id);
    if (r) {
      const gk = isGradkit(id) && trustedCnn(r);
      body.push([
        id,
        `${r.trainSamples}${r.partial ? '*' : ''}`,
        fmt(r.seconds),
        fmt(r.samplesPerSecond),
        `${fmt(r.step.medianMs)} [${fmt(r.step.minMs)}-${fmt(r.step.maxMs)}]`,
        `${(100 * r.testAccuracy).toFixed(2)}%`,
        r.lastLoss === null ? '-' : fmt(r.lastLoss),
        r.cpuSeconds > 0 && r.seconds > 0 ? fmt(r.cpuSeconds / r.seconds, 2) : '-',
        `${fmt(r.peakRssMiB)} (${fmt(r.dataRssMiB)})`,
        gk && tf ? `${ratio(r.samplesPerSecond, tf.samplesPerSecond)} (${tf.contender})` : '',
        gk && trustedCnn(torch) ? ratio(r.samplesPerSecond, torch.samplesPerSecond) : '',
        checkCell(r),
      ]);
    } else if (ct) {
      body.push([id, '-', '-', '-', '-', '-', '-', '-', '-', '', '', `cannot train: ${ct.error}`]);
    }
  }
  return table(
    [
      'contender',
      'samples',
      'seconds',
      'samples/s',
      'ms/step median [min-max]',
      'test acc',
      'last loss',
      'cores',
      'peak RSS MiB (data)',
      'vs fastest TF.js that trains',
      'vs torch-cpu',
      'check',
    ],
    body,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

/**
 * The cnn targets of issue 12: the best gradkit epoch (samples/s; checked rows only, complete
 * epochs preferred) at least 10x the fastest TF.js backend that can train the CNN, at least 0.3x
 * PyTorch 1 thread (aim 0.5x), and the peak memory next to TF.js' (reported).
 */
export function cnnTargets(
  rows: readonly CnnRow[],
  cannot: readonly CnnCannotTrain[],
  quick: boolean,
): Target[] {
  const gkRows = rows.filter((r) => isGradkit(r.contender));
  if (!gkRows.length && !rows.length && !cannot.length) return [];
  const best = bestGradkitCnn(rows);
  const failed = !best && gkRows.length > 0;
  const bestWhy = failed
    ? `every gradkit run failed the check (${gkRows.map((r) => r.contender).join(', ')})`
    : 'missing: a gradkit cnn run';
  const note = quick ? ' (quick mode: a short slice at batch 32, not the epoch)' : '';
  const partial = (r: CnnRow) =>
    r.partial ? ` (${r.contender}: partial epoch, ${r.trainSamples} samples in ${fmt(r.seconds)} s)` : '';
  const tf = fastestTfjsCnn(rows);
  const cannotText = cannot
    .filter((c) => c.contender.startsWith('tfjs-'))
    .map((c) => `${c.contender} cannot train: ${c.error}`);
  const out: Target[] = [];
  {
    const r = best && tf ? best.samplesPerSecond / tf.samplesPerSecond : null;
    out.push({
      name: 'CNN epoch samples/s: best gradkit vs the fastest TF.js backend that can train it',
      goal: '>= 10x',
      value: r === null ? (failed ? 'fails' : 'n/a') : `${fmt(r)}x`,
      met: failed ? false : r === null ? null : r >= 10,
      detail:
        (best && tf
          ? `${best.contender} ${fmt(best.samplesPerSecond)} vs ${tf.contender} ${fmt(tf.samplesPerSecond)} samples/s${partial(best)}${partial(tf)}`
          : best
            ? 'no TF.js backend could train it'
            : bestWhy) +
        (cannotText.length ? `; ${cannotText.join('; ')}` : '') +
        note,
    });
  }
  {
    const t = rows.find((x) => x.contender === 'torch-cpu');
    const ok = trustedCnn(t);
    const r = best && ok ? best.samplesPerSecond / t.samplesPerSecond : null;
    out.push({
      name: 'CNN epoch samples/s: best gradkit vs PyTorch (1 thread)',
      goal: '>= 0.3x (aim 0.5x)',
      value: r === null ? (failed ? 'fails' : 'n/a') : `${fmt(r)}x`,
      met: failed ? false : r === null ? null : r >= 0.3,
      detail:
        best && ok
          ? `${best.contender} ${fmt(best.samplesPerSecond)} vs torch-cpu ${fmt(t.samplesPerSecond)} samples/s; aim 0.5x ${r! >= 0.5 ? 'met' : 'not met'}${partial(best)}${partial(t)}${note}`
          : best
            ? `${t ? 'torch-cpu failed the check' : 'PyTorch did not run (optional)'}${note}`
            : bestWhy,
    });
  }
  out.push({
    name: 'CNN peak memory (RSS): best gradkit next to TF.js',
    goal: 'reported',
    value: best && tf ? `${fmt(best.peakRssMiB)} vs ${fmt(tf.peakRssMiB)} MiB` : 'n/a',
    met: null,
    detail:
      best && tf
        ? `${best.contender} / ${tf.contender} = ${ratio(best.peakRssMiB, tf.peakRssMiB)} (peak resident set of the worker process, data ${fmt(best.dataRssMiB)} and ${fmt(tf.dataRssMiB)} MiB of it)`
        : 'missing: a gradkit or TF.js cnn run',
  });
  return out;
}

/** The notes of the cnn workload: data agreement, starting weights, the check, what could not train. */
export function cnnNotes(rows: readonly CnnRow[], cannot: readonly CnnCannotTrain[]): string[] {
  if (!rows.length && !cannot.length) return [];
  const notes: string[] = [];
  const ref = rows.find((r) => isGradkit(r.contender)) ?? rows[0];
  let mismatch = false;
  for (const r of rows) {
    if (ref && !(Math.abs(r.checksum - ref.checksum) <= 1e-9 * Math.abs(ref.checksum))) {
      mismatch = true;
      notes.push(
        `DATA MISMATCH: ${r.contender} trained the CNN on different data than ${ref.contender} (checksum ${r.checksum} vs ${ref.checksum})`,
      );
    }
  }
  if (rows.length > 1 && !mismatch)
    notes.push(
      `CNN: every contender trained on identical images in identical order (checksum ${ref?.checksum.toFixed(3)})`,
    );
  notes.push(
    `CNN model: ${describeLenet()}; the check: every contender computes, untimed, from the shared starting weights (Glorot-uniform, zero biases) the loss on the first batch and, after one Adam step on it, the loss on it again; a row passes when both agree with the first of ${CNN_REFERENCES.join(', ')} within ${CNN_CHECK_TOLERANCE.before} and ${CNN_CHECK_TOLERANCE.after} relative, the step lowered the loss and every epoch loss was finite. A row that fails is marked WRONG and counts for no ratio or target`,
  );
  const same = rows.filter((r) => !r.partial && (isGradkit(r.contender) || r.contender.startsWith('tfjs-')));
  if (same.length > 1)
    notes.push(
      `CNN accuracy from identical starting weights: ${same.map((r) => `${r.contender} ${(100 * r.testAccuracy).toFixed(2)}%`).join(', ')}; PyTorch's epoch starts from its own default initialization`,
    );
  for (const c of cannot)
    notes.push(
      `${c.contender} cannot train the CNN: ${c.error}${c.lossBefore !== null ? ` (its forward runs: loss ${fmt(c.lossBefore, 6)} on the first batch)` : ''}`,
    );
  return notes;
}

/** The chart panel: samples/s per contender (lighter: partial or failed the check; "cannot train" named). */
export function cnnPanel(
  rows: readonly CnnRow[],
  cannot: readonly CnnCannotTrain[],
  order: readonly string[],
  quick: boolean,
  batch: number,
): Panel {
  const groups: BarGroup[] = [];
  for (const id of order) {
    const r = rows.find((x) => x.contender === id);
    const c = cannot.find((x) => x.contender === id);
    if (r) {
      const notes = [
        ...(r.partial ? [`partial: ${r.trainSamples} samples`] : []),
        ...(r.check?.ok === false ? ['WRONG numbers'] : []),
      ];
      groups.push({
        label: id,
        bars: [
          {
            label: 'samples/s',
            value: r.samplesPerSecond,
            color: colorOf(id),
            ...(notes.length ? { note: notes.join(', ') } : {}),
          },
        ],
      });
    } else if (c) {
      groups.push({
        label: id,
        bars: [{ label: 'samples/s', value: 0, color: colorOf(id), note: 'cannot train' }],
      });
    }
  }
  return {
    title: `LeNet-5 CNN on MNIST, Adam, batch ${batch}: training samples/s${quick ? ' (quick slice)' : ' (one epoch)'}`,
    unit: 'samples/s',
    groups,
  };
}

// Helpers shared by the worker processes.
import { summarize } from '../stats.js';
import type { CnnRow, MnistRow } from '../types.js';

/** A progress line for the orchestrator (which shows lines starting with `progress:`). */
export function progress(message: string): void {
  process.stderr.write(`progress: ${message}\n`);
}

/** Peak resident set size of this process so far, MiB (Node's resourceUsage().maxRSS is in KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Current resident set size of this process, MiB. */
export function rssMiB(): number {
  return process.memoryUsage.rss() / 2 ** 20;
}

/** CPU time (user + system, every thread) of this process since `since`, seconds. */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** One-hot rows of labels, as a Float32Array [n, classes]. */
export function oneHot(labels: ArrayLike<number>, from: number, to: number, classes: number): Float32Array {
  const out = new Float32Array((to - from) * classes);
  for (let i = from; i < to; i++) out[(i - from) * classes + labels[i]] = 1;
  return out;
}

/** Index of the largest value in each row of `[rows, cols]`. */
export function argmaxRows(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Thrown inside a training loop when the time limit cuts the epoch. */
export class Cutoff extends Error {}

/** What a worker measured over its MNIST epoch; {@link epochRow} derives the rest of the row. */
export interface EpochMeasurement {
  readonly contender: string;
  /** Rows trained in the timed epoch, and rows asked for. */
  readonly trained: number;
  readonly requested: number;
  /** Wall time of the timed epoch, seconds. */
  readonly seconds: number;
  /** Per-step times, ms. */
  readonly steps: readonly number[];
  /** Per-step training losses in the contender's own loss. */
  readonly losses: readonly number[];
  readonly testAccuracy: number;
  readonly testSamples: number;
  readonly cpuSeconds: number;
  readonly dataRssMiB: number;
  readonly checksum: number;
  readonly warmupSteps: number;
  readonly config: string;
}

/** The MNIST row of a worker: partial flag, samples/s, step summary, mean of the last 10 losses, peak RSS. */
export function epochRow(m: EpochMeasurement): MnistRow {
  const tail = m.losses.slice(-10);
  return {
    contender: m.contender,
    trainSamples: m.trained,
    requestedSamples: m.requested,
    partial: m.trained < m.requested,
    seconds: m.seconds,
    samplesPerSecond: m.trained / m.seconds,
    step: summarize([...m.steps]),
    testAccuracy: m.testAccuracy,
    testSamples: m.testSamples,
    lastLoss: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : null,
    cpuSeconds: m.cpuSeconds,
    dataRssMiB: m.dataRssMiB,
    peakRssMiB: peakRssMiB(),
    checksum: m.checksum,
    warmupSteps: m.warmupSteps,
    config: m.config,
  };
}

/** The cnn row of a worker: {@link epochRow} plus the check's losses and whether every epoch loss was finite. */
export function cnnEpochRow(
  m: EpochMeasurement & { readonly lossBefore: number | null; readonly lossAfter: number | null },
): CnnRow {
  const { lossBefore, lossAfter, ...rest } = m;
  const fin = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null);
  return {
    ...epochRow(rest),
    lossBefore: fin(lossBefore),
    lossAfter: fin(lossAfter),
    lossesFinite: m.losses.every((l) => Number.isFinite(l)),
  };
}

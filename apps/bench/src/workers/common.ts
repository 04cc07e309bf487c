// Helpers shared by the worker processes.

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

/** Median, min and max of repeated timings (milliseconds), after `warmup` untimed runs. */
export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly reps: number;
  readonly warmup: number;
}

/** The median of a list of numbers (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median, min and max of measured times. */
export function summarize(times: readonly number[], warmup = 0): Timing {
  return {
    medianMs: median(times),
    minMs: times.length ? Math.min(...times) : Number.NaN,
    maxMs: times.length ? Math.max(...times) : Number.NaN,
    reps: times.length,
    warmup,
  };
}

/** How many times {@link measure} runs a function. */
export interface MeasureOptions {
  /** Untimed runs first (at least 1: compiles kernels, warms the JIT) ... */
  readonly warmup: number;
  /** ... and more until this many milliseconds of warm-up have passed (thread pools, caches, clocks). */
  readonly warmupMs?: number;
  /** Timed runs at least ... */
  readonly minReps: number;
  /** ... and at most. */
  readonly maxReps: number;
  /** Between those bounds: as many as fit in this many milliseconds (estimated from the last warm-up). */
  readonly budgetMs: number;
}

/** The number of timed repetitions for one run taking `estimateMs`. */
export function repsFor(estimateMs: number, o: MeasureOptions): number {
  const fit = estimateMs > 0 ? Math.floor(o.budgetMs / estimateMs) : o.maxReps;
  return Math.max(o.minReps, Math.min(o.maxReps, fit));
}

/** Runs `fn` `warmup` times untimed, then repeatedly timed; median, min and max. */
export function measure(fn: () => void, o: MeasureOptions): Timing {
  let estimate = 0;
  let warmup = 0;
  const start = performance.now();
  while (warmup < Math.max(1, o.warmup) || (performance.now() - start < (o.warmupMs ?? 0) && warmup < 1000)) {
    const t0 = performance.now();
    fn();
    estimate = performance.now() - t0;
    warmup++;
  }
  const reps = repsFor(estimate, o);
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return summarize(ts, warmup);
}

/**
 * Timing of a workload whose first run was already timed (`firstMs`): when that run took at least
 * `singleRunMs`, it is the only sample (`reps` 1, `warmup` 0: one cold run, whose warm-up share is
 * negligible at that length), so a very slow contender costs one run, not several; otherwise
 * {@link measure} as usual.
 */
export function measureAfterFirst(
  firstMs: number,
  fn: () => void,
  o: MeasureOptions,
  singleRunMs: number,
): Timing {
  return firstMs >= singleRunMs ? summarize([firstMs], 0) : measure(fn, o);
}

/** Milliseconds one call of `fn` takes. */
export function timeOnce(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Whether a timing is one cold run ({@link measureAfterFirst} on a slow contender). */
export const isSingleRun = (t: Timing): boolean => t.reps === 1 && t.warmup === 0;

/** Column alignment of {@link table}: left or right. */
export type Align = 'l' | 'r';

/** Formats rows as an aligned text table (first column left-aligned, the others right-aligned by default). */
export function table(
  header: readonly string[],
  rows: readonly (string | number)[][],
  align?: readonly Align[],
): string {
  const cells = [header.map(String), ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const al = (c: number): Align => align?.[c] ?? (c === 0 ? 'l' : 'r');
  const line = (r: string[]) =>
    r
      .map((s, c) => (al(c) === 'l' ? (s ?? '').padEnd(widths[c]) : (s ?? '').padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/** A number with about three significant digits (no exponent below 1e6): 0.0123, 1.23, 12.3, 1234. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 10 ** digits) return Math.round(x).toString();
  if (a === 0) return '0';
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return x.toFixed(Math.min(decimals, 6));
}

/** `a / b` as "1.23x", or "-" when either is missing. */
export function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0) || !Number.isFinite(a))
    return '-';
  return `${fmt(a / b)}x`;
}

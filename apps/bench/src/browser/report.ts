// The browser benchmark's report: what each page published, put together (loss and checksum
// agreement, the issue's ratios and targets, the thread sweep's crossover), the terminal tables
// and the result file's shape. Pure: no browser, no files.
import type { Machine } from '../machine.js';
import { fmt, median, table } from '../stats.js';
import type {
  BrowserContender,
  BrowserSizes,
  ContenderPageResult,
  MatmulResult,
  StepResult,
  ThreadPageResult,
} from './plan.js';

/** The result file's schema id. */
export const BROWSER_SCHEMA = 'gradkit-bench-browser/1';

/** One contender in the result file: what it is, whether its page ran, what it measured. */
export interface BrowserContenderReport {
  readonly id: string;
  readonly label: string;
  readonly library: BrowserContender['library'];
  readonly backend: BrowserContender['backend'];
  readonly threads: number | null;
  readonly isolated: boolean;
  readonly ran: boolean;
  /** Why the page failed (its error, or the runner's timeout), else null. */
  readonly error: string | null;
  readonly backendInfo: string;
  readonly threadsRunning: number | null;
  readonly crossOriginIsolated: boolean | null;
  readonly matmul: MatmulResult | null;
  readonly step: StepResult | null;
  /** Wall time of the page, load to result (s). */
  readonly seconds: number;
}

/** One size of the thread sweep with its medians over rounds and the speed-up (1 thread / 2). */
export interface ThreadSummaryRow {
  readonly what: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly macs: number;
  readonly oneMs: number;
  readonly twoMs: number;
  /** Per round, 1-thread ms / 2-thread ms. */
  readonly roundSpeedups: readonly number[];
  /** Median 1-thread ms / median 2-thread ms (>1: two threads faster). */
  readonly speedup: number;
}

/** The thread sweep in the result file. */
export interface ThreadReport {
  readonly ran: boolean;
  readonly error: string | null;
  readonly threadsRunning: number | null;
  readonly backendInfo: string;
  readonly rows: readonly ThreadSummaryRow[];
  readonly step: { readonly oneMs: number; readonly twoMs: number; readonly speedup: number } | null;
  readonly stepRounds: { readonly oneMs: readonly number[]; readonly twoMs: readonly number[] } | null;
  /** Smallest product (MACs) from which every measured product is faster on 2 threads, or null. */
  readonly crossoverMacs: number | null;
}

/** How closely the contenders' losses follow the reference's, step by step. */
export interface LossAgreement {
  readonly reference: string | null;
  readonly rows: readonly {
    readonly id: string;
    readonly steps: number;
    readonly firstLoss: number;
    readonly lastLoss: number;
    /** Largest |loss - reference loss| over the steps both ran. */
    readonly maxAbsDiff: number;
  }[];
}

/** A same-run ratio of the issues (>= 1: gradkit at least as fast). */
export interface BrowserRatio {
  readonly gradkit: string | null;
  readonly tfjs: string | null;
  readonly gradkitValue: number | null;
  readonly tfjsValue: number | null;
  /** gradkit's speed over TF.js' (time ratio tfjs / gradkit, or GFLOP/s ratio gradkit / tfjs). */
  readonly ratio: number | null;
}

/** The ratios the issues name. */
export interface BrowserRatios {
  /** gradkit's fastest backend against TF.js' fastest on the MLP step. */
  readonly stepBest: BrowserRatio;
  /** gradkit gl against TF.js webgl, matmul GFLOP/s. */
  readonly glMatmul: BrowserRatio;
  /** gradkit gl against TF.js webgl, MLP step. */
  readonly glStep: BrowserRatio;
}

/** A target of issue 15 or 16, and whether this run met it. */
export interface BrowserTarget {
  readonly issue: string;
  readonly name: string;
  readonly want: number;
  readonly got: number | null;
  /** null: not measured in this run. */
  readonly met: boolean | null;
}

/** The whole result file (`browser-<date>[-quick].json`). */
export interface BrowserReport {
  readonly schema: typeof BROWSER_SCHEMA;
  readonly date: string;
  readonly quick: boolean;
  readonly argv: readonly string[];
  /** `--contenders` of the run (null: every contender): the ratios compare the selected ones only. */
  readonly selection: readonly string[] | null;
  readonly seconds: number;
  readonly machine: Machine;
  /**
   * The checkout the page was bundled from: its commit, and whether `packages/` had uncommitted
   * changes (the page bundles the packages' dist as it was at the start of the run).
   */
  readonly workspace: { readonly commit: string | null; readonly dirtyPackages: boolean | null };
  readonly browser: { readonly version: string; readonly userAgent: string | null };
  /** WebGL's renderer in the pages (SwiftShader without a GPU). */
  readonly renderer: string | null;
  readonly load: { readonly start: number; readonly end: number };
  readonly sizes: BrowserSizes;
  readonly contenders: readonly BrowserContenderReport[];
  readonly threads: ThreadReport | null;
  readonly losses: LossAgreement;
  readonly ratios: BrowserRatios;
  readonly targets: readonly BrowserTarget[];
  readonly notes: readonly string[];
}

/** A contender's report from its page's result (or from the error that stopped it). */
export function contenderReport(
  c: BrowserContender,
  r: ContenderPageResult | { readonly error: string },
  seconds: number,
): BrowserContenderReport {
  const page = 'ok' in r ? r : null;
  const ok = page?.ok === true;
  return {
    id: c.id,
    label: c.label,
    library: c.library,
    backend: c.backend,
    threads: c.threads,
    isolated: c.isolated,
    ran: ok,
    error: ok ? null : (r.error ?? 'failed'),
    backendInfo: page?.backendInfo ?? '',
    threadsRunning: page?.threadsRunning ?? null,
    crossOriginIsolated: page ? page.crossOriginIsolated : null,
    matmul: ok ? page!.matmul : null,
    step: ok ? page!.step : null,
    seconds,
  };
}

/** The thread sweep's medians, speed-ups and crossover. */
export function threadReport(r: ThreadPageResult | { readonly error: string }): ThreadReport {
  if (!('ok' in r) || !r.ok)
    return {
      ran: false,
      error: r.error ?? 'failed',
      threadsRunning: 'ok' in r ? r.threadsRunning : null,
      backendInfo: 'ok' in r ? r.backendInfo : '',
      rows: [],
      step: null,
      stepRounds: null,
      crossoverMacs: null,
    };
  const rows = r.matmul.map((x) => {
    const oneMs = median(x.oneMs);
    const twoMs = median(x.twoMs);
    return {
      what: x.what,
      m: x.m,
      k: x.k,
      n: x.n,
      macs: x.m * x.k * x.n,
      oneMs,
      twoMs,
      roundSpeedups: x.oneMs.map((o, i) => o / x.twoMs[i]),
      speedup: oneMs / twoMs,
    };
  });
  const step =
    r.stepOneMs.length && r.stepTwoMs.length
      ? {
          oneMs: median(r.stepOneMs),
          twoMs: median(r.stepTwoMs),
          speedup: median(r.stepOneMs) / median(r.stepTwoMs),
        }
      : null;
  return {
    ran: true,
    error: null,
    threadsRunning: r.threadsRunning,
    backendInfo: r.backendInfo,
    rows,
    step,
    stepRounds: { oneMs: r.stepOneMs, twoMs: r.stepTwoMs },
    crossoverMacs: crossover(rows),
  };
}

/**
 * The smallest product size (MACs) from which every measured product of that size or larger ran
 * faster on two threads (speed-up above 1), or null when the largest did not.
 */
export function crossover(
  rows: readonly { readonly macs: number; readonly speedup: number }[],
): number | null {
  const sorted = [...rows].sort((a, b) => a.macs - b.macs);
  let from: number | null = null;
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (!(sorted[i].speedup > 1)) break;
    from = sorted[i].macs;
  }
  return from;
}

/** Loss agreement against gradkit wasm (1 thread) or else the first contender that trained. */
export function lossAgreement(cs: readonly BrowserContenderReport[]): LossAgreement {
  const trained = cs.filter((c) => c.step && c.step.losses.length > 0);
  const ref = trained.find((c) => c.id === 'gradkit-wasm-1t') ?? trained[0];
  if (!ref) return { reference: null, rows: [] };
  const want = ref.step!.losses;
  return {
    reference: ref.id,
    rows: trained.map((c) => {
      const got = c.step!.losses;
      const steps = Math.min(got.length, want.length);
      let maxAbsDiff = 0;
      for (let i = 0; i < steps; i++) {
        const d = Math.abs(got[i] - want[i]);
        maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(maxAbsDiff, d);
      }
      return { id: c.id, steps, firstLoss: got[0], lastLoss: got[got.length - 1], maxAbsDiff };
    }),
  };
}

const stepMs = (c: BrowserContenderReport): number | null => c.step?.timing.medianMs ?? null;

function fastest(
  cs: readonly BrowserContenderReport[],
  library: 'gradkit' | 'tfjs',
): BrowserContenderReport | null {
  let best: BrowserContenderReport | null = null;
  for (const c of cs) {
    const ms = stepMs(c);
    if (c.library !== library || ms === null || !Number.isFinite(ms)) continue;
    if (best === null || ms < stepMs(best)!) best = c;
  }
  return best;
}

function timeRatio(g: BrowserContenderReport | null, t: BrowserContenderReport | null): BrowserRatio {
  const gv = g ? stepMs(g) : null;
  const tv = t ? stepMs(t) : null;
  return {
    gradkit: g?.id ?? null,
    tfjs: t?.id ?? null,
    gradkitValue: gv,
    tfjsValue: tv,
    ratio: gv !== null && tv !== null && gv > 0 ? tv / gv : null,
  };
}

/** The issues' ratios from the contenders that ran (>1: gradkit faster). */
export function computeRatios(cs: readonly BrowserContenderReport[]): BrowserRatios {
  const gl = cs.find((c) => c.id === 'gradkit-gl' && c.ran) ?? null;
  const webgl = cs.find((c) => c.id === 'tfjs-webgl' && c.ran) ?? null;
  const gg = gl?.matmul?.gflops ?? null;
  const tg = webgl?.matmul?.gflops ?? null;
  return {
    stepBest: timeRatio(fastest(cs, 'gradkit'), fastest(cs, 'tfjs')),
    glMatmul: {
      gradkit: gl?.id ?? null,
      tfjs: webgl?.id ?? null,
      gradkitValue: gg,
      tfjsValue: tg,
      ratio: gg !== null && tg !== null && tg > 0 ? gg / tg : null,
    },
    glStep: timeRatio(gl, webgl),
  };
}

const target = (issue: string, name: string, want: number, got: number | null): BrowserTarget => ({
  issue,
  name,
  want,
  got,
  met: got === null || !Number.isFinite(got) ? null : got >= want,
});

/** The issue-15/16 targets this page measures. */
export function computeTargets(ratios: BrowserRatios, threads: ThreadReport | null): BrowserTarget[] {
  return [
    target('15', 'gradkit best >= 3x TF.js best on the MLP step', 3, ratios.stepBest.ratio),
    target('15, 16', 'gradkit gl >= 1x TF.js webgl on the MLP step', 1, ratios.glStep.ratio),
    target('16', 'gradkit gl >= 1x TF.js webgl on matmul n=512', 1, ratios.glMatmul.ratio),
    target(
      '15',
      'gradkit wasm 2 threads (the isolated default) never slower than 1 thread on the MLP step',
      1,
      threads?.step?.speedup ?? null,
    ),
  ];
}

/** Notes on the run: failures, loss and checksum disagreement, threads that did not start. */
export function browserNotes(
  cs: readonly BrowserContenderReport[],
  losses: LossAgreement,
  threads: ThreadReport | null,
  selection: readonly string[] | null = null,
): string[] {
  const notes: string[] = [];
  if (selection)
    notes.push(
      `only the contenders selected by --contenders ${selection.join(',')} ran: "best" and the ratios compare those alone`,
    );
  for (const c of cs) if (!c.ran) notes.push(`FAILED ${c.id}: ${(c.error ?? '').split('\n')[0]}`);
  for (const c of cs) {
    if (c.ran && c.threads !== null && c.threadsRunning !== null && c.threadsRunning !== c.threads)
      notes.push(`${c.id}: ${c.threadsRunning} thread(s) running, ${c.threads} asked for`);
    if (c.matmul?.capped || c.step?.capped)
      notes.push(
        `${c.id}: time cap reached (${[c.matmul?.capped ? `matmul ${c.matmul.timing.reps} reps` : '', c.step?.capped ? `step ${c.step.timing.reps} steps` : ''].filter(Boolean).join(', ')})`,
      );
  }
  const ref = cs.find((c) => c.id === losses.reference);
  const refSum = ref?.matmul?.checksum;
  if (refSum !== undefined) {
    for (const c of cs) {
      const s = c.matmul?.checksum;
      if (s === undefined || c === ref) continue;
      // sum(C) of 512^2 products of 512 terms each: float32 rounding differs by summation order
      if (!(Math.abs(s - refSum) <= 1e-2 * Math.max(1, Math.abs(refSum))))
        notes.push(`MATMUL MISMATCH: ${c.id} sum(C) ${s} vs ${ref!.id} ${refSum}`);
    }
  }
  const worst = Math.max(0, ...losses.rows.map((r) => r.maxAbsDiff));
  if (losses.reference) {
    notes.push(
      `losses: every contender trained the same batches from the same weights; largest |loss - ${losses.reference}| ` +
        `${worst.toExponential(1)} over the steps both ran (${losses.rows.map((r) => `${r.id} ${r.maxAbsDiff.toExponential(1)} over ${r.steps}`).join(', ')})`,
    );
    if (worst > 1e-2)
      notes.push(`LOSS MISMATCH: a contender's losses differ from ${losses.reference} by ${worst}`);
  }
  if (threads && !threads.ran) notes.push(`thread sweep FAILED: ${(threads.error ?? '').split('\n')[0]}`);
  if (threads?.ran && threads.threadsRunning !== 2)
    notes.push(`thread sweep: ${threads.threadsRunning} thread(s) running, 2 asked for`);
  return notes;
}

const ms = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : fmt(x));
const x = (r: number | null): string => (r === null || !Number.isFinite(r) ? '-' : `${fmt(r)}x`);

/** The terminal report: contenders table, ratios, targets, thread sweep, notes. */
export function formatBrowserReport(r: BrowserReport): string {
  const out: string[] = [];
  out.push(
    `== browser: Chromium ${r.browser.version}; WebGL renderer: ${r.renderer ?? 'none'}${r.quick ? ' (quick: few repetitions, indicative only)' : ''}`,
  );
  out.push(
    `   workspace ${r.workspace.commit?.slice(0, 10) ?? 'unknown'}${r.workspace.dirtyPackages ? ' with uncommitted changes in packages/' : ''}; load average ${r.load.start.toFixed(2)} at the start, ${r.load.end.toFixed(2)} at the end`,
  );
  out.push(
    `   matmul n=${r.sizes.matmulN} (GFLOP/s = 2n^3 / median; each rep awaits sum(C)); MLP ${r.sizes.layers.join('-')} ` +
      `ReLU, Adam lr ${r.sizes.lr}, batch ${r.sizes.batch}: ms per step (median; loss awaited each step)`,
  );
  out.push(
    table(
      ['contender', 'GFLOP/s', 'reps', 'ms/step', '[min-max]', 'steps', 'page s', 'backend'],
      r.contenders.map((c) => [
        c.id,
        c.ran ? fmt(c.matmul?.gflops) : 'FAILED',
        c.matmul ? `${c.matmul.timing.reps}${c.matmul.capped ? '*' : ''}` : '-',
        ms(c.step?.timing.medianMs),
        c.step ? `${fmt(c.step.timing.minMs)}-${fmt(c.step.timing.maxMs)}` : '-',
        c.step ? `${c.step.timing.reps}${c.step.capped ? '*' : ''}` : '-',
        c.seconds.toFixed(1),
        c.ran ? c.backendInfo : (c.error ?? '').split('\n')[0].slice(0, 80),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  out.push('   * stopped by the time cap');
  const rt = r.ratios;
  out.push('');
  out.push('== ratios (>1: gradkit faster)');
  out.push(
    `   MLP step, gradkit best / TF.js best: ${x(rt.stepBest.ratio)} (${rt.stepBest.gradkit ?? '-'} ${ms(rt.stepBest.gradkitValue)} ms vs ${rt.stepBest.tfjs ?? '-'} ${ms(rt.stepBest.tfjsValue)} ms)`,
  );
  out.push(
    `   matmul n=${r.sizes.matmulN}, gradkit gl / TF.js webgl: ${x(rt.glMatmul.ratio)} (${fmt(rt.glMatmul.gradkitValue)} vs ${fmt(rt.glMatmul.tfjsValue)} GFLOP/s)`,
  );
  out.push(
    `   MLP step, gradkit gl / TF.js webgl: ${x(rt.glStep.ratio)} (${ms(rt.glStep.gradkitValue)} vs ${ms(rt.glStep.tfjsValue)} ms)`,
  );
  if (r.threads) {
    const t = r.threads;
    out.push('');
    out.push(
      `== thread policy: gradkit wasm, 1 vs 2 threads in one cross-origin-isolated page (${t.threadsRunning ?? '?'} running), ms (median of ${r.sizes.threadRounds} alternating rounds)`,
    );
    if (t.ran) {
      out.push(
        table(
          ['product', 'MACs', '1 thread', '2 threads', 'speed-up', 'per round'],
          [
            ...t.rows.map((row) => [
              row.what,
              fmt(row.macs, 3),
              fmt(row.oneMs),
              fmt(row.twoMs),
              x(row.speedup),
              row.roundSpeedups.map((s) => fmt(s)).join(' '),
            ]),
            ...(t.step && t.stepRounds
              ? [
                  [
                    'MLP step',
                    '',
                    fmt(t.step.oneMs),
                    fmt(t.step.twoMs),
                    x(t.step.speedup),
                    t.stepRounds.oneMs.map((o, i) => fmt(o / t.stepRounds!.twoMs[i])).join(' '),
                  ],
                ]
              : []),
          ],
        ),
      );
      out.push(
        `   crossover: 2 threads faster from ${t.crossoverMacs === null ? '(none measured)' : `${fmt(t.crossoverMacs)} MACs`} on (every measured product of that size or larger)`,
      );
    } else out.push(`   FAILED: ${(t.error ?? '').split('\n')[0]}`);
  }
  out.push('');
  out.push(`== targets of issues 15 and 16${r.quick ? ' (quick mode: indicative only)' : ''}`);
  for (const t of r.targets)
    out.push(
      `   [${t.met === null ? 'n/a' : t.met ? 'met' : 'NOT met'}] ${t.name} (issue ${t.issue}): ${x(t.got)}, want >= ${t.want}x`,
    );
  if (r.notes.length) {
    out.push('');
    out.push('== notes');
    for (const n of r.notes) out.push(`- ${n}`);
  }
  return out.join('\n');
}

/** The measured parts of a run, before the derived ones (agreement, ratios, targets, notes). */
export type BrowserRunParts = Omit<BrowserReport, 'schema' | 'losses' | 'ratios' | 'targets' | 'notes'>;

/** The result file of a run: its measured parts plus loss agreement, ratios, targets and notes. */
export function buildBrowserReport(p: BrowserRunParts): BrowserReport {
  const losses = lossAgreement(p.contenders);
  const ratios = computeRatios(p.contenders);
  return {
    schema: BROWSER_SCHEMA,
    ...p,
    losses,
    ratios,
    targets: computeTargets(ratios, p.threads),
    notes: browserNotes(p.contenders, losses, p.threads, p.selection),
  };
}

/** File names of a run's results: `browser-<date>[-quick].json` and `browser-latest[-quick].json`. */
export function resultFileNames(date: string, quick: boolean): { stamped: string; latest: string } {
  const suffix = quick ? '-quick' : '';
  return {
    stamped: `browser-${date.replace(/[:.]/g, '-')}${suffix}.json`,
    latest: `browser-latest${suffix}.json`,
  };
}

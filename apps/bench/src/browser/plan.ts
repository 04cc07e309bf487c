// What the browser benchmark runs: its contenders, its sizes (full and quick) and the message types
// between the Node runner and the page. Shared by the runner (Node), the page (Chromium) and the
// report, so it imports nothing platform-specific.
import type { Timing } from '../stats.js';

/** A library's backend in one page configuration. */
export interface BrowserContender {
  /** Stable id, `<library>-<backend>[-<threads>t]`: selected by `--contenders` prefixes. */
  readonly id: string;
  readonly library: 'gradkit' | 'tfjs';
  /** gradkit's `gl`/`wasm`/`cpu`, TF.js' `webgl`/`wasm`/`cpu`. */
  readonly backend: 'gl' | 'webgl' | 'wasm' | 'cpu';
  /** WebAssembly threads asked for (wasm only), else null. */
  readonly threads: number | null;
  /** Served with COOP/COEP (cross-origin isolated: SharedArrayBuffer, so wasm threads). */
  readonly isolated: boolean;
  /** What the report calls it. */
  readonly label: string;
}

/**
 * Every contender of the page, gradkit's first. The two-thread pages are cross-origin isolated
 * (threads need shared memory); the others are not, so TF.js wasm loads its single-threaded SIMD
 * binary there.
 */
export const BROWSER_CONTENDERS: readonly BrowserContender[] = [
  {
    id: 'gradkit-gl',
    library: 'gradkit',
    backend: 'gl',
    threads: null,
    isolated: false,
    label: 'gradkit gl',
  },
  {
    id: 'gradkit-wasm-1t',
    library: 'gradkit',
    backend: 'wasm',
    threads: 1,
    isolated: false,
    label: 'gradkit wasm, 1 thread',
  },
  {
    id: 'gradkit-wasm-2t',
    library: 'gradkit',
    backend: 'wasm',
    threads: 2,
    isolated: true,
    label: 'gradkit wasm, 2 threads (isolated page)',
  },
  {
    id: 'gradkit-cpu',
    library: 'gradkit',
    backend: 'cpu',
    threads: null,
    isolated: false,
    label: 'gradkit cpu',
  },
  {
    id: 'tfjs-webgl',
    library: 'tfjs',
    backend: 'webgl',
    threads: null,
    isolated: false,
    label: 'TF.js webgl',
  },
  {
    id: 'tfjs-wasm-1t',
    library: 'tfjs',
    backend: 'wasm',
    threads: 1,
    isolated: false,
    label: 'TF.js wasm, 1 thread',
  },
  {
    id: 'tfjs-wasm-2t',
    library: 'tfjs',
    backend: 'wasm',
    threads: 2,
    isolated: true,
    label: 'TF.js wasm, threaded build with setThreadsCount(2) (isolated page)',
  },
  { id: 'tfjs-cpu', library: 'tfjs', backend: 'cpu', threads: null, isolated: false, label: 'TF.js cpu' },
];

/** Sizes, repetitions and time caps of one browser run. */
export interface BrowserSizes {
  /** matmul n x n x n, the same operands for every contender. */
  readonly matmulN: number;
  readonly matmulWarmup: number;
  /** Timed repetitions at most ... */
  readonly matmulReps: number;
  /** ... stopping early (after at least 3) once the timed ones took this long. */
  readonly matmulBudgetMs: number;
  /** The MLP: layer widths, batch, Adam's learning rate. */
  readonly layers: readonly number[];
  readonly batch: number;
  readonly lr: number;
  /** Distinct MNIST batches the steps cycle through (step i trains batch i mod this). */
  readonly batches: number;
  readonly stepWarmup: number;
  /** Timed steps at most ... */
  readonly steps: number;
  /** ... stopping early (after at least 3) once the timed ones took this long. */
  readonly stepBudgetMs: number;
  /** The thread sweep (gradkit wasm, 1 vs 2 threads in one isolated page): square matmul sizes. */
  readonly threadNs: readonly number[];
  /** Alternating rounds of the sweep (1 thread, then 2, per size and round). */
  readonly threadRounds: number;
  /** Timed repetitions per size, round and thread count (at most; a round's budget cuts it). */
  readonly threadReps: number;
  /** Timed MLP steps per round and thread count in the sweep. */
  readonly threadSteps: number;
  /** The whole page of one contender must publish its result within this (ms). */
  readonly pageTimeoutMs: number;
}

const MLP = { layers: [784, 256, 256, 10], batch: 128, lr: 1e-3 } as const;

/**
 * Untimed calls before timing anything: gradkit wasm's measured thread policy tries each product
 * shape three times on one thread and three times split before it settles (WasmBackend's
 * `split: 'measured'`), so timing starts after those six calls and one more; every contender gets
 * the same warm-up.
 */
export const SETTLE_CALLS = 7;

/** Full run: matmul median of 21, MLP step median of up to 60 (each capped in time). */
export const BROWSER_FULL: BrowserSizes = {
  matmulN: 512,
  matmulWarmup: SETTLE_CALLS,
  matmulReps: 21,
  matmulBudgetMs: 20_000,
  ...MLP,
  batches: 16,
  stepWarmup: SETTLE_CALLS,
  steps: 60,
  stepBudgetMs: 25_000,
  threadNs: [64, 128, 256, 512, 1024],
  threadRounds: 3,
  threadReps: 15,
  threadSteps: 20,
  pageTimeoutMs: 240_000,
};

/** Quick run (CI): the same shapes, few repetitions, short caps. */
export const BROWSER_QUICK: BrowserSizes = {
  matmulN: 512,
  matmulWarmup: SETTLE_CALLS,
  matmulReps: 3,
  matmulBudgetMs: 800,
  ...MLP,
  batches: 4,
  stepWarmup: SETTLE_CALLS,
  steps: 5,
  stepBudgetMs: 1_000,
  threadNs: [128, 512],
  threadRounds: 1,
  threadReps: 3,
  threadSteps: 3,
  pageTimeoutMs: 90_000,
};

/** What the runner asks one page to do (served as `job.json`, chosen by `?job=`). */
export type PageJob =
  | { readonly kind: 'contender'; readonly contender: BrowserContender; readonly sizes: BrowserSizes }
  | { readonly kind: 'threads'; readonly sizes: BrowserSizes };

/** A matmul measurement: GFLOP/s = 2n^3 / median time; each repetition reads back sum(C). */
export interface MatmulResult {
  readonly n: number;
  readonly timing: Timing;
  readonly gflops: number;
  /** sum(C) of the last repetition (the same operands everywhere: compared across contenders). */
  readonly checksum: number;
  /** True when the time budget stopped the repetitions before `matmulReps`. */
  readonly capped: boolean;
}

/** An MLP training-step measurement: ms per step (upload, forward, backward, Adam, loss awaited). */
export interface StepResult {
  readonly timing: Timing;
  /** Loss of every step, warm-up included, in order (the same batches for every contender). */
  readonly losses: readonly number[];
  readonly capped: boolean;
}

/** What a contender's page publishes on `window.__result`. */
export interface ContenderPageResult {
  readonly ok: boolean;
  readonly error?: string;
  /** The backend's own description (gradkit `info().renderer`, TF.js backend and flags). */
  readonly backendInfo: string;
  /** The WebGL renderer string (UNMASKED_RENDERER_WEBGL), or null when the page has no WebGL. */
  readonly glRenderer: string | null;
  readonly crossOriginIsolated: boolean;
  /** Threads actually running (gradkit wasm: active threads; TF.js wasm: getThreadsCount), else null. */
  readonly threadsRunning: number | null;
  readonly matmul: MatmulResult | null;
  readonly step: StepResult | null;
  readonly userAgent: string;
}

/** One size of the thread sweep: the same product on 1 and on 2 threads, alternating. */
export interface ThreadRow {
  /** `matmul n=256`, or an MLP step's GEMM shape `128x784x256`. */
  readonly what: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** Medians per round: 1 thread, 2 threads (ms). */
  readonly oneMs: readonly number[];
  readonly twoMs: readonly number[];
}

/** What the thread-sweep page publishes. */
export interface ThreadPageResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly crossOriginIsolated: boolean;
  readonly threadsRunning: number;
  readonly backendInfo: string;
  readonly matmul: readonly ThreadRow[];
  /** MLP step ms (median per round) on 1 and on 2 threads. */
  readonly stepOneMs: readonly number[];
  readonly stepTwoMs: readonly number[];
  readonly userAgent: string;
}

import { describe, expect, it } from 'vitest';
import { selects } from '../args.js';
import type { Machine } from '../machine.js';
import { summarize } from '../stats.js';
import type { BrowserContender, ContenderPageResult, ThreadPageResult } from './plan.js';
import { BROWSER_CONTENDERS, BROWSER_FULL, BROWSER_QUICK } from './plan.js';
import {
  BROWSER_SCHEMA,
  buildBrowserReport,
  computeRatios,
  computeTargets,
  contenderReport,
  crossover,
  formatBrowserReport,
  lossAgreement,
  resultFileNames,
  threadReport,
} from './report.js';

const byId = (id: string): BrowserContender => {
  const c = BROWSER_CONTENDERS.find((x) => x.id === id);
  if (!c) throw new Error(id);
  return c;
};

/** A page result with a given matmul GFLOP/s and step times. */
function page(
  gflops: number,
  stepTimes: number[],
  losses: number[],
  extra: Partial<ContenderPageResult> = {},
) {
  const r: ContenderPageResult = {
    ok: true,
    backendInfo: 'info',
    glRenderer: 'ANGLE (SwiftShader)',
    crossOriginIsolated: false,
    threadsRunning: null,
    matmul: { n: 512, timing: summarize([1, 2, 3]), gflops, checksum: 100, capped: false },
    step: { timing: summarize(stepTimes, 2), losses, capped: false },
    userAgent: 'test',
    ...extra,
  };
  return r;
}

const LOSSES = [2.3, 2.0, 1.8, 1.5];
const MACHINE: Machine = {
  cpu: 'test cpu',
  cores: 2,
  mhz: null,
  memoryGiB: 24,
  node: 'v20',
  platform: 'linux x64',
  simd: 'avx2+fma',
  peakNativeGflops: null,
  peakSimd128Gflops: null,
};

function contenders() {
  return [
    contenderReport(byId('gradkit-gl'), page(2, [100, 120, 110], LOSSES), 10),
    contenderReport(byId('gradkit-wasm-1t'), page(40, [6, 5, 7], LOSSES), 3),
    contenderReport(byId('gradkit-wasm-2t'), page(60, [8, 9, 7], [2.3, 2.0, 1.8005, 1.5]), 3),
    contenderReport(byId('tfjs-webgl'), page(4, [50, 40, 45], LOSSES), 8),
    contenderReport(byId('tfjs-wasm-1t'), page(30, [30, 32, 31], LOSSES), 4),
    contenderReport(byId('tfjs-cpu'), { error: 'no result within 90 s' }, 90),
  ];
}

describe('the contenders', () => {
  it('have unique ids selected by library and backend prefixes; threads only on wasm, isolated when > 1', () => {
    const ids = BROWSER_CONTENDERS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => selects(['gradkit-wasm'], id))).toEqual(['gradkit-wasm-1t', 'gradkit-wasm-2t']);
    expect(ids.filter((id) => selects(['tfjs'], id))).toEqual([
      'tfjs-webgl',
      'tfjs-wasm-1t',
      'tfjs-wasm-2t',
      'tfjs-cpu',
    ]);
    for (const c of BROWSER_CONTENDERS) {
      expect(c.threads !== null).toBe(c.backend === 'wasm');
      expect(c.isolated).toBe((c.threads ?? 1) > 1);
    }
  });

  it('full and quick runs share the shapes: matmul n=512 and the 784-256-256-10 MLP at batch 128', () => {
    for (const s of [BROWSER_FULL, BROWSER_QUICK]) {
      expect(s.matmulN).toBe(512);
      expect(s.layers).toEqual([784, 256, 256, 10]);
      expect(s.batch).toBe(128);
      expect(s.lr).toBe(1e-3);
    }
    expect(BROWSER_FULL.matmulReps).toBe(21);
    expect(BROWSER_FULL.threadNs).toEqual([64, 128, 256, 512, 1024]);
  });
});

describe('contenderReport', () => {
  it('keeps what a page measured, and the error of one that failed', () => {
    const [gl, , , , , cpu] = contenders();
    expect(gl).toMatchObject({ id: 'gradkit-gl', ran: true, error: null, backendInfo: 'info' });
    expect(gl.step?.timing.medianMs).toBe(110);
    expect(cpu).toMatchObject({ id: 'tfjs-cpu', ran: false, error: 'no result within 90 s', matmul: null });
    const failed = contenderReport(
      byId('gradkit-cpu'),
      { ...page(1, [1], [1]), ok: false, error: 'boom' },
      1,
    );
    expect(failed).toMatchObject({ ran: false, error: 'boom', matmul: null, step: null });
  });
});

describe('computeRatios', () => {
  it('compares the fastest of each library on the step, and gl with webgl (>1: gradkit faster)', () => {
    const r = computeRatios(contenders());
    expect(r.stepBest).toEqual({
      gradkit: 'gradkit-wasm-1t',
      tfjs: 'tfjs-wasm-1t',
      gradkitValue: 6,
      tfjsValue: 31,
      ratio: 31 / 6,
    });
    expect(r.glMatmul).toMatchObject({ gradkitValue: 2, tfjsValue: 4, ratio: 0.5 });
    expect(r.glStep).toMatchObject({ gradkitValue: 110, tfjsValue: 45, ratio: 45 / 110 });
  });

  it('leaves a ratio null when a side did not run', () => {
    const cs = contenders().filter((c) => c.library === 'gradkit');
    const r = computeRatios(cs);
    expect(r.stepBest.ratio).toBeNull();
    expect(r.stepBest.tfjs).toBeNull();
    expect(r.glMatmul.ratio).toBeNull();
  });
});

describe('targets', () => {
  it('met, not met, or not measured', () => {
    const t = computeTargets(computeRatios(contenders()), null);
    expect(t.map((x) => [x.name, x.met])).toEqual([
      ['gradkit best >= 3x TF.js best on the MLP step', true],
      ['gradkit gl >= 1x TF.js webgl on the MLP step', false],
      ['gradkit gl >= 1x TF.js webgl on matmul n=512', false],
      ['gradkit wasm 2 threads (the isolated default) never slower than 1 thread on the MLP step', null],
    ]);
  });
});

describe('lossAgreement', () => {
  it('compares every step both ran against gradkit wasm 1 thread', () => {
    const a = lossAgreement(contenders());
    expect(a.reference).toBe('gradkit-wasm-1t');
    const two = a.rows.find((r) => r.id === 'gradkit-wasm-2t')!;
    expect(two.steps).toBe(4);
    expect(two.maxAbsDiff).toBeCloseTo(5e-4, 9);
    expect(a.rows.find((r) => r.id === 'tfjs-cpu')).toBeUndefined();
  });

  it('a NaN loss is an infinite difference', () => {
    const cs = [
      contenderReport(byId('gradkit-wasm-1t'), page(1, [1], [2, 1]), 1),
      contenderReport(byId('gradkit-cpu'), page(1, [1], [2, Number.NaN]), 1),
    ];
    expect(lossAgreement(cs).rows[1].maxAbsDiff).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('thread sweep', () => {
  const sweep: ThreadPageResult = {
    ok: true,
    crossOriginIsolated: true,
    threadsRunning: 2,
    backendInfo: 'wasm 2 threads',
    matmul: [
      { what: 'matmul n=64', m: 64, k: 64, n: 64, oneMs: [0.1, 0.1, 0.1], twoMs: [0.1, 0.11, 0.1] },
      { what: 'matmul n=128', m: 128, k: 128, n: 128, oneMs: [1, 1, 1], twoMs: [1.2, 1.3, 1.1] },
      { what: 'matmul n=256', m: 256, k: 256, n: 256, oneMs: [8, 8, 8], twoMs: [5, 6, 5] },
      { what: 'matmul n=512', m: 512, k: 512, n: 512, oneMs: [60, 60, 60], twoMs: [35, 33, 34] },
    ],
    stepOneMs: [5, 5.2, 5.1],
    stepTwoMs: [6, 4.7, 10.2],
    userAgent: 'test',
  };

  it('medians over rounds, speed-ups per round, and the crossover', () => {
    const t = threadReport(sweep);
    expect(t.rows.map((r) => r.macs)).toEqual([64 ** 3, 128 ** 3, 256 ** 3, 512 ** 3]);
    expect(t.rows[2]).toMatchObject({ oneMs: 8, twoMs: 5, speedup: 1.6 });
    expect(t.rows[1].roundSpeedups.map((s) => Number(s.toFixed(3)))).toEqual([0.833, 0.769, 0.909]);
    expect(t.step).toEqual({ oneMs: 5.1, twoMs: 6, speedup: 5.1 / 6 });
    expect(t.crossoverMacs).toBe(256 ** 3);
  });

  it('crossover: the smallest size from which every larger one gains, null when the largest does not', () => {
    expect(crossover([])).toBeNull();
    expect(
      crossover([
        { macs: 1, speedup: 1.5 },
        { macs: 2, speedup: 0.9 },
        { macs: 3, speedup: 1.1 },
      ]),
    ).toBe(3);
    expect(crossover([{ macs: 3, speedup: 1 }])).toBeNull();
  });

  it('a failed sweep keeps its error', () => {
    expect(threadReport({ error: 'no result within 90 s' })).toMatchObject({
      ran: false,
      error: 'no result within 90 s',
      rows: [],
      crossoverMacs: null,
    });
  });
});

describe('the result file', () => {
  const report = buildBrowserReport({
    date: '2026-12-06T04:05:25.964Z',
    quick: true,
    argv: ['--browser', '--quick'],
    selection: null,
    seconds: 60,
    machine: MACHINE,
    workspace: { commit: '0123456789abcdef', dirtyPackages: true },
    browser: { version: '156.0', userAgent: 'test' },
    renderer: 'ANGLE (SwiftShader)',
    load: { start: 1, end: 2 },
    sizes: BROWSER_QUICK,
    contenders: contenders(),
    threads: null,
  });

  it('has the schema, the measured parts and the derived ones, and survives JSON', () => {
    expect(Object.keys(report).sort()).toEqual(
      [
        'schema',
        'date',
        'quick',
        'argv',
        'selection',
        'seconds',
        'machine',
        'workspace',
        'browser',
        'renderer',
        'load',
        'sizes',
        'contenders',
        'threads',
        'losses',
        'ratios',
        'targets',
        'notes',
      ].sort(),
    );
    expect(report.schema).toBe(BROWSER_SCHEMA);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(report.notes).toContain('FAILED tfjs-cpu: no result within 90 s');
    expect(report.notes.some((n) => n.startsWith('LOSS MISMATCH'))).toBe(false);
  });

  it('says when --contenders narrowed the comparison', () => {
    const narrowed = buildBrowserReport({ ...report, selection: ['gradkit-gl', 'tfjs-webgl'] });
    expect(narrowed.notes[0]).toBe(
      'only the contenders selected by --contenders gradkit-gl,tfjs-webgl ran: "best" and the ratios compare those alone',
    );
    expect(report.notes.some((n) => n.includes('--contenders'))).toBe(false);
  });

  it('names its files by date, with -quick for quick runs', () => {
    expect(resultFileNames('2026-12-06T04:05:25.964Z', true)).toEqual({
      stamped: 'browser-2026-12-06T04-05-25-964Z-quick.json',
      latest: 'browser-latest-quick.json',
    });
    expect(resultFileNames('2026-12-06T04:05:25.964Z', false).latest).toBe('browser-latest.json');
  });

  it('prints the renderer, every contender, the ratios and the targets', () => {
    const text = formatBrowserReport(report);
    expect(text).toContain('WebGL renderer: ANGLE (SwiftShader)');
    expect(text).toContain(
      'workspace 0123456789 with uncommitted changes in packages/; load average 1.00 at the start, 2.00 at the end',
    );
    expect(text).toMatch(/^tfjs-cpu +FAILED/m);
    expect(text).toContain(
      'MLP step, gradkit best / TF.js best: 5.17x (gradkit-wasm-1t 6.00 ms vs tfjs-wasm-1t 31.0 ms)',
    );
    expect(text).toContain('matmul n=512, gradkit gl / TF.js webgl: 0.500x (2.00 vs 4.00 GFLOP/s)');
    expect(text).toContain(
      '[met] gradkit best >= 3x TF.js best on the MLP step (issue 15): 5.17x, want >= 3x',
    );
    expect(text).toContain('[NOT met] gradkit gl >= 1x TF.js webgl on matmul n=512 (issue 16): 0.500x');
  });
});

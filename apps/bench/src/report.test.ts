import { describe, expect, it } from 'vitest';
import { renderChart } from './chart.js';
import type { Machine } from './machine.js';
import { computeTargets, matmulTable, mnistTable, targetN } from './report.js';
import type { MatmulRow, MnistRow, Variant } from './types.js';

const machine: Machine = {
  cpu: 'test CPU',
  cores: 2,
  mhz: 2000,
  memoryGiB: 8,
  node: 'v20',
  platform: 'linux x64',
  simd: 'avx2+fma',
  peakNativeGflops: 64,
  peakSimd128Gflops: 16,
};
const t = (ms: number) => ({ medianMs: ms, minMs: ms * 0.9, maxMs: ms * 1.1, reps: 5, warmup: 1 });
const mm = (contender: string, variant: Variant, n: number, gflops: number): MatmulRow => ({
  contender,
  variant,
  n,
  gflops,
  timing: t((2 * n ** 3) / gflops / 1e6),
});
const mnist = (contender: string, sps: number, acc: number, rss: number, partial = false): MnistRow => ({
  contender,
  trainSamples: partial ? 1000 : 60000,
  requestedSamples: 60000,
  partial,
  seconds: (partial ? 1000 : 60000) / sps,
  samplesPerSecond: sps,
  step: t(10),
  testAccuracy: acc,
  testSamples: 10000,
  lastLoss: 0.1,
  cpuSeconds: 1,
  dataRssMiB: 100,
  peakRssMiB: rss,
  checksum: 1,
  warmupSteps: 3,
  config: 'test',
});

describe('targets', () => {
  const matmul = [
    mm('tfjs-wasm', 'A*B', 512, 30),
    mm('gradkit-cpu', 'A*B', 512, 10),
    mm('gradkit-wasm', 'A*B', 512, 31),
    mm('gradkit-wasm', 'A^T*B', 512, 29),
    mm('gradkit-gl', 'A*B^T', 512, 100),
    mm('gradkit-wasm', 'A*B', 256, 5),
    mm('torch-cpu', 'A*B', 512, 60),
  ];
  const runs = [
    mnist('gradkit-wasm', 20000, 0.97, 500),
    mnist('gradkit-cpu', 3000, 0.969, 450),
    mnist('tfjs-wasm', 2500, 0.968, 480),
    mnist('tfjs-cpu', 200, 0.9, 470, true),
  ];
  const targets = computeTargets(matmul, runs, machine, false);

  it('matmul: best gradkit CPU backend per variant against TF.js wasm A*B at n=512; gl does not count', () => {
    expect(targetN(matmul)).toBe(512);
    expect(targets[0]).toMatchObject({ met: true, value: '1.03x' });
    expect(targets[1]).toMatchObject({ met: false, value: '0.967x' });
    expect(targets[2]).toMatchObject({ met: null, value: 'n/a' });
  });

  it('MNIST: speed ratios, accuracy, memory against TF.js; partial runs flagged', () => {
    expect(targets[3]).toMatchObject({ met: true, value: '8.00x' });
    expect(targets[3].detail).toContain('aim 5x met');
    expect(targets[4]).toMatchObject({ met: true, value: '100x' });
    expect(targets[4].detail).toContain('partial epoch');
    expect(targets[5]).toMatchObject({ met: true, value: '+0.20 points' });
    expect(targets[6]).toMatchObject({ met: false });
    expect(targets[7].met).toBeNull();
    expect(targets[7].detail).toContain('gradkit-gl');
  });

  it('tables name every contender that has rows', () => {
    const order = ['tfjs-wasm', 'gradkit-wasm', 'gradkit-cpu', 'gradkit-gl', 'torch-cpu', 'tfjs-cpu'];
    expect(matmulTable(matmul, order)).toMatch(/gradkit-wasm\s+A\^T\*B/);
    const m = mnistTable(runs, order);
    expect(m).toContain('1000*');
    expect(m).toContain('97.00%');
  });
});

describe('chart', () => {
  it('renders escaped labels, one rect per bar, and skips empty panels', () => {
    const svg = renderChart('a <b>', 'sub', [
      { title: 'empty', unit: 'x', groups: [] },
      {
        title: 'speed',
        unit: 'samples/s',
        groups: [
          { label: 'g&k', bars: [{ label: 'v', value: 12.5, color: '#000' }] },
          { label: 'p', bars: [{ label: 'v', value: 2000, color: '#111', note: 'partial' }] },
        ],
      },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg).toContain('<title>a &lt;b&gt;: speed</title>'); // accessible name, non-empty panels only
    expect(svg).toContain('g&amp;k');
    expect(svg).not.toContain('>empty<');
    expect(svg.match(/<rect x="210"/g)?.length).toBe(2);
    expect(svg).toContain('2000 (partial)');
  });
});

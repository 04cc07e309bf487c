import { describe, expect, it } from 'vitest';
import { renderChart } from './chart.js';
import { cnnNotes, cnnPanel, cnnTable, cnnTargets } from './cnn-report.js';
import type { CnnCannotTrain, CnnRow } from './types.js';

const t = (ms: number) => ({ medianMs: ms, minMs: ms * 0.9, maxMs: ms * 1.1, reps: 5, warmup: 0 });
const row = (contender: string, sps: number, over: Partial<CnnRow> = {}): CnnRow => ({
  contender,
  trainSamples: 60000,
  requestedSamples: 60000,
  partial: false,
  seconds: 60000 / sps,
  samplesPerSecond: sps,
  step: t(128_000 / sps),
  testAccuracy: 0.98,
  testSamples: 10000,
  lastLoss: 0.05,
  cpuSeconds: 60000 / sps,
  dataRssMiB: 300,
  peakRssMiB: 400,
  checksum: 1234.5,
  warmupSteps: 3,
  config: 'test',
  lossBefore: 2.3,
  lossAfter: 2.2,
  lossesFinite: true,
  check: { ok: true, reference: 'torch-cpu', worst: 0.01, problems: [] },
  ...over,
});
const partial = (contender: string, sps: number, samples: number): CnnRow =>
  row(contender, sps, { trainSamples: samples, partial: true, seconds: samples / sps });
const wrong = {
  ok: false,
  reference: 'torch-cpu',
  worst: 30,
  problems: ['loss after one step 2.5 vs torch-cpu 2.2'],
};
const wasm: CnnCannotTrain = {
  contender: 'tfjs-wasm',
  error: "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'",
  lossBefore: 2.3,
  config: 'tfjs wasm',
};

describe('cnnTargets', () => {
  it('best checked gradkit epoch vs the fastest TF.js that trains (partial counts) and vs PyTorch', () => {
    const rows = [
      row('gradkit-wasm', 700),
      row('gradkit-cpu', 300),
      partial('gradkit-gl', 900, 2000), // faster, but a complete epoch is preferred
      partial('tfjs-cpu', 14, 1664),
      row('torch-cpu', 2000),
    ];
    const [tf, torch, mem] = cnnTargets(rows, [wasm], false);
    expect(tf).toMatchObject({ met: true, value: '50.0x' });
    expect(tf.detail).toContain('gradkit-wasm 700 vs tfjs-cpu 14.0 samples/s');
    expect(tf.detail).toContain('tfjs-cpu: partial epoch, 1664 samples');
    expect(tf.detail).toContain("tfjs-wasm cannot train: Kernel 'Conv2DBackpropFilter' not registered");
    expect(torch).toMatchObject({ met: true, value: '0.350x' });
    expect(torch.detail).toContain('aim 0.5x not met');
    expect(mem).toMatchObject({ met: null, value: '400 vs 400 MiB' });
  });

  it('a gradkit row that failed the check does not count; all failed: the targets fail', () => {
    const rows = [row('gradkit-wasm', 5000, { check: wrong }), row('gradkit-cpu', 100), row('tfjs-cpu', 20)];
    const [tf, torch] = cnnTargets(rows, [], false);
    expect(tf).toMatchObject({ met: false, value: '5.00x' });
    expect(tf.detail).toContain('gradkit-cpu 100');
    expect(torch).toMatchObject({ met: null, value: 'n/a' });
    expect(torch.detail).toContain('PyTorch did not run');
    const all = cnnTargets([row('gradkit-cpu', 100, { check: wrong }), row('tfjs-cpu', 20)], [], true);
    expect(all[0]).toMatchObject({ met: false, value: 'fails' });
    expect(all[0].detail).toContain('every gradkit run failed the check');
  });

  it('no TF.js backend that trains: not measurable, the error shown', () => {
    const [tf] = cnnTargets([row('gradkit-wasm', 700)], [wasm], true);
    expect(tf).toMatchObject({ met: null, value: 'n/a' });
    expect(tf.detail).toContain('no TF.js backend could train it');
    expect(tf.detail).toContain('Conv2DBackpropFilter');
    expect(tf.detail).toContain('quick mode');
    expect(cnnTargets([], [], false)).toEqual([]);
  });
});

describe('cnn table, notes and chart', () => {
  const rows = [
    row('gradkit-wasm', 700),
    partial('tfjs-cpu', 14, 96),
    row('torch-cpu', 2000, { check: wrong }),
  ];
  const order = ['gradkit-wasm', 'tfjs-wasm', 'tfjs-cpu', 'torch-cpu'];

  it('the table has ratios for gradkit rows, the partial mark, the check and the cannot-train error', () => {
    const text = cnnTable(rows, [wasm], order);
    const lines = text.split('\n');
    expect(lines[2]).toMatch(/^gradkit-wasm .* 50\.0x \(tfjs-cpu\)\s+ok \(0\.010 of tol vs torch-cpu\)$/);
    expect(lines[3]).toMatch(
      /^tfjs-wasm .*cannot train: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'$/,
    );
    expect(lines[4]).toContain('96*');
    expect(lines[5]).toContain('WRONG (loss after one step 2.5 vs torch-cpu 2.2)');
    expect(lines[2]).not.toMatch(/2000|0\.350x/); // no ratio to a PyTorch row that failed its check
  });

  it('notes: data agreement or mismatch, accuracies from the same weights, what cannot train', () => {
    const notes = cnnNotes(rows, [wasm]);
    expect(notes[0]).toContain('identical images in identical order');
    expect(
      notes.some((n) => n.startsWith('tfjs-wasm cannot train the CNN') && n.includes('loss 2.30000')),
    ).toBe(true);
    expect(notes.some((n) => n.includes('gradkit-wasm 98.00%'))).toBe(false); // tfjs-cpu partial: one row only
    const bad = cnnNotes([row('gradkit-cpu', 1), row('tfjs-cpu', 1, { checksum: 99 })], []);
    expect(bad[0]).toContain('DATA MISMATCH: tfjs-cpu');
    expect(bad.some((n) => n.includes('gradkit-cpu 98.00%, tfjs-cpu 98.00%'))).toBe(true);
    expect(cnnNotes([], [])).toEqual([]);
  });

  it('the chart panel: one bar per contender, notes for partial, wrong and cannot train', () => {
    const p = cnnPanel(rows, [wasm], order, false, 128);
    expect(p.title).toContain('batch 128');
    expect(p.groups.map((g) => g.label)).toEqual(order);
    expect(p.groups.map((g) => g.bars[0].note)).toEqual([
      undefined,
      'cannot train',
      'partial: 96 samples',
      'WRONG numbers',
    ]);
    const svg = renderChart('t', 's', [p]);
    expect(svg).toContain('n/a (cannot train)');
    expect(svg).toContain('700');
  });
});

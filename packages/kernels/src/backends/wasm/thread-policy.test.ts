import { describe, expect, it } from 'vitest';
import { BackendError } from '../../errors.js';
import { testData } from '../../testing/reference.js';
import type { ThreadMode } from './thread-policy.js';
import { ThreadPolicy } from './thread-policy.js';
import { threadSupport } from './threads.js';
import { WasmBackend } from './wasm.js';

// The measured thread policy: per shape, three probes of each mode (split first), then the faster
// by median (split only when at least 5% faster), one call in 64 in the other mode, the last five
// samples of each deciding; small products never split. Then the backend with it: the same bits
// whichever mode runs, and threadStats() reporting the shapes.

/** Runs `calls` products of one shape whose time in each mode is given; returns the modes used. */
function drive(
  p: ThreadPolicy,
  shape: string,
  calls: number,
  ms: (mode: ThreadMode, call: number) => number,
): ThreadMode[] {
  const modes: ThreadMode[] = [];
  for (let i = 0; i < calls; i++) {
    const mode = p.choose(shape, 1 << 22);
    modes.push(mode);
    p.record(shape, mode, ms(mode, i));
  }
  return modes;
}

describe('ThreadPolicy', () => {
  it('probes both modes three times, split first, then keeps the faster', () => {
    const p = new ThreadPolicy(1 << 20);
    const modes = drive(p, 'A', 20, (m) => (m === 'split' ? 0.6 : 1.0));
    expect(modes.slice(0, 6)).toEqual(['split', 'single', 'split', 'single', 'split', 'single']);
    expect(modes.slice(6)).toEqual(Array(14).fill('split'));
    const q = new ThreadPolicy(1 << 20);
    const slow = drive(q, 'B', 20, (m) => (m === 'split' ? 1.4 : 1.0));
    expect(slow.slice(6)).toEqual(Array(14).fill('single'));
    expect(q.stats()).toEqual([{ shape: 'B', mode: 'single', calls: 20, singleMs: 1, splitMs: 1.4 }]);
  });

  it('splits only when at least 5% faster: a tie stays on one thread', () => {
    const p = new ThreadPolicy(1 << 20);
    expect(drive(p, 'tie', 10, (m) => (m === 'split' ? 0.97 : 1.0)).slice(6)).toEqual(
      Array(4).fill('single'),
    );
    const q = new ThreadPolicy(1 << 20);
    expect(drive(q, 'gain', 10, (m) => (m === 'split' ? 0.94 : 1.0)).slice(6)).toEqual(
      Array(4).fill('split'),
    );
  });

  it('decides by the median, so one outlier does not flip it', () => {
    const p = new ThreadPolicy(1 << 20);
    // split is faster except one 50 ms stall during the probes
    const modes = drive(p, 'A', 10, (m, i) => (m === 'split' ? (i === 2 ? 50 : 0.5) : 1.0));
    expect(modes.slice(6)).toEqual(Array(4).fill('split'));
  });

  it('rechecks the other mode once in 64 calls and follows a change of the machine', () => {
    const p = new ThreadPolicy(1 << 20);
    // split pays for the first 300 calls, then costs (another job took the second core)
    const modes = drive(p, 'A', 1000, (m, i) => (m === 'split' ? (i < 300 ? 0.5 : 2.0) : 1.0));
    const settled = modes.slice(6, 300);
    expect(settled.filter((m) => m === 'single').length).toBe(Math.floor(300 / 64)); // the rechecks at calls 64, 128, 192, 256
    // after the change, three rechecks move the split's median above one thread's: single from then on
    const after = modes.slice(300);
    const firstSingleRun = after.findIndex((m, i) => m === 'single' && after[i + 1] === 'single');
    expect(firstSingleRun).toBeGreaterThan(0);
    expect(firstSingleRun).toBeLessThan(4 * 64);
    const tail = after.slice(firstSingleRun);
    expect(tail.filter((m) => m === 'split').length).toBeLessThanOrEqual(Math.ceil(tail.length / 64));
  });

  it('never splits a product below the threshold, and keeps no entry for it', () => {
    const p = new ThreadPolicy(1 << 20);
    expect(p.choose('small', (1 << 20) - 1)).toBe('single');
    p.record('small', 'single', 0.01);
    expect(p.stats()).toEqual([]);
    expect(p.choose('big', 1 << 20)).toBe('split');
  });

  it('ignores a time that is not a number of milliseconds', () => {
    const p = new ThreadPolicy(1 << 20);
    p.choose('A', 1 << 21);
    p.record('A', 'split', Number.NaN);
    p.record('A', 'split', -1);
    expect(p.stats()[0].splitMs).toBeNaN();
  });
});

describe.runIf(threadSupport().ok)('WasmBackend with the measured policy', () => {
  it('gives the same bits whichever mode a shape settles on, and reports the shapes', () => {
    const one = new WasmBackend({ threads: 1 });
    const two = new WasmBackend({ threads: 2 });
    try {
      expect(two.waitForWorkers(10_000)).toBe(true);
      const [m, k, n] = [128, 784, 256];
      const a = testData(m * k, 1);
      const b = testData(n * k, 2);
      const pa1 = one.upload(a);
      const pb1 = one.upload(b);
      const want = Buffer.from(one.read(one.matmul(pa1, pb1, m, k, n, false, true)).buffer);
      const pa = two.upload(a);
      const pb = two.upload(b);
      for (let i = 0; i < 12; i++) {
        const c = two.matmul(pa, pb, m, k, n, false, true);
        expect(Buffer.from(two.read(c).buffer).equals(want), `call ${i}`).toBe(true);
        two.free(c);
      }
      // a small product never enters the table
      two.free(two.matmul(pa, pb, 4, 784, 4, false, true));
      const stats = two.threadStats();
      expect(stats.map((s) => s.shape)).toEqual(['128,784,256,NT']);
      expect(stats[0].calls).toBe(12);
      expect(stats[0].singleMs).toBeGreaterThan(0);
      expect(stats[0].splitMs).toBeGreaterThan(0);
      expect(['single', 'split']).toContain(stats[0].mode);
      console.info(
        `[wasm threads] 128x784x256 NT: one thread ${stats[0].singleMs.toFixed(3)} ms, split ${stats[0].splitMs.toFixed(3)} ms -> ${stats[0].mode}`,
      );
      expect(one.threadStats()).toEqual([]);
      const always = new WasmBackend({ threads: 2, split: 'always' });
      expect(always.threadStats()).toEqual([]);
      always.destroy();
    } finally {
      one.destroy();
      two.destroy();
    }
  });

  it('refuses an unknown split option by name', () => {
    expect(() => new WasmBackend({ threads: 2, split: 'sometimes' as 'always' })).toThrow(BackendError);
    expect(() => new WasmBackend({ threads: 2, split: 'sometimes' as 'always' })).toThrow(
      `split must be 'measured' or 'always', got "sometimes"`,
    );
  });
});

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
    // the split from then on, but for the recheck of one thread at call 16
    expect(modes.slice(6)).toEqual(
      Array(14)
        .fill('split')
        .map((m, j) => (j + 7 === 16 ? 'single' : m)),
    );
    const q = new ThreadPolicy(1 << 20);
    const slow = drive(q, 'B', 20, (m) => (m === 'split' ? 1.4 : 1.0));
    expect(slow.slice(6)).toEqual(
      Array(14)
        .fill('single')
        .map((m, j) => (j + 7 === 16 ? 'split' : m)),
    );
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

  it('rechecks the other mode once in 16 calls, then once in 64, and follows a change of the machine', () => {
    const p = new ThreadPolicy(1 << 20);
    // split pays for the first 600 calls, then costs (another job took the second core)
    const modes = drive(p, 'A', 1200, (m, i) => (m === 'split' ? (i < 600 ? 0.5 : 2.0) : 1.0));
    const singles = (from: number, to: number) =>
      modes.slice(from, to).flatMap((m, j) => (m === 'single' ? [from + j + 1] : []));
    // rechecks at call numbers 16, 32, ..., 256, then 320, 384, ... (the six probes come first)
    expect(singles(6, 600)).toEqual([
      16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 320, 384, 448, 512, 576,
    ]);
    // after the change, the split's own two slow calls move its median of three above one
    // thread's: single from call 603 on, with a recheck of the split at every 64th call
    expect(modes.slice(600, 602)).toEqual(['split', 'split']);
    const tail = modes.slice(602);
    expect(tail.flatMap((m, j) => (m === 'split' ? [603 + j] : []))).toEqual([
      640, 704, 768, 832, 896, 960, 1024, 1088, 1152,
    ]);
  });

  it('undoes a choice made while the machine was briefly busy within about 32 calls', () => {
    const p = new ThreadPolicy(1 << 20);
    // the probes ran while another job held the second core: split looked 2x slower; then quiet
    const modes = drive(p, 'A', 100, (m, i) => (m === 'split' ? (i < 6 ? 2.0 : 0.5) : 1.0));
    expect(modes.slice(6, 15)).toEqual(Array(9).fill('single'));
    // rechecks at calls 16 and 32 give the split two fast samples of three: split from call 33 on
    expect(modes.slice(32)).toEqual(
      Array(68)
        .fill('split')
        .map((m, j) => ((33 + j) % 16 === 0 ? 'single' : m)),
    );
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

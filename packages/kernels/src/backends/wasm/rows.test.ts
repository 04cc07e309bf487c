import { afterAll, describe, expect, it } from 'vitest';
import type { ReduceOp } from '../../backend.js';
import { CpuBackend } from '../cpu.js';
import { probeWasm, WasmBackend } from './wasm.js';

// The wasm backend's reductions over the last axis of contiguous rows (row_max, row_min,
// row_sum, row_lse_parts in scripts/wasm-gen.mjs) against the CPU backend's JavaScript:
// max, min, argmax, argmin and sum bit for bit (Object.is: the sign of zero, NaN where there is
// one), on rows of every length around the 4- and 8-lane steps, with NaN, ±0, ±Infinity,
// subnormals, and ranges wide enough that the sum takes its in-order path. logsumexp within
// 2e-6 |ref| + 1e-6 of a float64 reference (its exp is float32, as the JIT's).

/** A seeded generator of float32 test rows. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Kind = 'normal' | 'specials' | 'zeros' | 'wide' | 'ties';

function rowsOf(kind: Kind, rows: number, n: number, seed: number): Float32Array {
  const rnd = lcg(seed);
  const x = new Float32Array(rows * n);
  const specials = [Number.NaN, 0, -0, Infinity, -Infinity, 1e-45, -3e-40, 3.4e38, -3.4e38];
  for (let i = 0; i < x.length; i++) {
    const u = rnd();
    switch (kind) {
      case 'normal':
        x[i] = (u - 0.5) * 8;
        break;
      case 'specials':
        x[i] = rnd() < 0.15 ? specials[Math.floor(u * specials.length)] : (u - 0.5) * 8;
        break;
      case 'zeros':
        x[i] = u < 0.3 ? 0 : u < 0.6 ? -0 : -u; // max is a zero of either sign, min negative
        break;
      case 'wide':
        x[i] = (rnd() < 0.5 ? -1 : 1) * 2 ** Math.floor(u * 80 - 40) * (1 + rnd());
        break;
      case 'ties':
        x[i] = Math.floor(u * 3); // the extreme appears many times: the first must win
        break;
    }
  }
  return x;
}

const LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 15, 16, 17, 31, 33, 100, 1000];
const KINDS: Kind[] = ['normal', 'specials', 'zeros', 'wide', 'ties'];

describe.runIf(probeWasm().ok)('wasm row reductions', () => {
  const wasm = new WasmBackend({ threads: 1 });
  const cpu = new CpuBackend();
  afterAll(() => wasm.destroy());

  const both = (op: ReduceOp, x: Float32Array, shape: number[], axes: number[]) => [
    wasm.read(wasm.reduce(op, wasm.upload(x), shape, axes)),
    cpu.read(cpu.reduce(op, cpu.upload(x), shape, axes)),
  ];

  for (const op of ['max', 'min', 'argmax', 'argmin', 'sum'] as const) {
    it(`${op} over the last axis equals the JavaScript path bit for bit`, () => {
      let seed = 1;
      for (const kind of KINDS)
        for (const n of LENGTHS) {
          const rows = n >= 100 ? 7 : 23;
          const x = rowsOf(kind, rows, n, seed++);
          // one row made of NaN only, and in 'specials' rows a NaN right after the extreme
          const [w, c] = both(op, x, [rows, n], [1]);
          for (let i = 0; i < rows; i++)
            if (!Object.is(w[i], c[i]))
              expect.fail(`${op} ${kind} [${rows}, ${n}] row ${i}: wasm ${w[i]}, JavaScript ${c[i]}`);
        }
    });
  }

  it('sum of a row whose range forces the in-order path, and one that is exact in any order', () => {
    // 1 + 2^-24 (a float32 tie) + 999 x 2^-60: in order each 2^-60 vanishes in float64 and the tie
    // rounds to even (1); summed in lanes they add up to about 2^-52 and tip it to 1 + 2^-23
    const x = new Float32Array(1001).fill(2 ** -60);
    x[0] = 1;
    x[1] = 2 ** -24;
    const [w, c] = both('sum', x, [1001], [0]);
    expect(c[0]).toBe(1);
    expect(w[0]).toBe(1);
    const y = Float32Array.from({ length: 1003 }, (_, i) => (i % 7) - 3 + 0.25);
    const [w2, c2] = both('sum', y, [1003], [0]);
    expect(w2[0]).toBe(c2[0]);
  });

  it('reductions over rows of a higher-rank array and of every element take the same path', () => {
    const x = rowsOf('specials', 6 * 5, 13, 99);
    for (const op of ['max', 'argmin', 'sum'] as const) {
      const [w, c] = both(op, x, [6, 5, 13], [2]);
      expect(Array.from(w).every((v, i) => Object.is(v, c[i]))).toBe(true);
    }
    const [w, c] = both('sum', rowsOf('normal', 1, 4099, 5), [4099], [0]);
    expect(w[0]).toBe(c[0]);
  });

  it('logsumexp over the last axis: within 2e-6 |ref| + 1e-6 of float64, NaN and infinities as JavaScript', () => {
    let seed = 500;
    for (const kind of ['normal', 'specials', 'ties'] as const)
      for (const n of LENGTHS) {
        const rows = 9;
        const x = rowsOf(kind, rows, n, seed++);
        if (kind === 'normal') for (let i = 0; i < x.length; i++) x[i] *= 10; // terms down to e^-80
        const [w, c] = both('logsumexp', x, [rows, n], [1]);
        for (let r = 0; r < rows; r++) {
          const row = Array.from(x.subarray(r * n, r * n + n));
          let m = Number.NEGATIVE_INFINITY;
          for (const v of row) m = Math.max(m, v);
          const ref = Number.isFinite(m) ? m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) : m;
          if (!Number.isFinite(ref)) {
            if (!Object.is(w[r], c[r])) expect.fail(`logsumexp ${kind} n=${n} row ${r}: ${w[r]} vs ${c[r]}`);
          } else if (!(Math.abs(w[r] - ref) <= 2e-6 * Math.abs(ref) + 1e-6))
            expect.fail(`logsumexp ${kind} n=${n} row ${r}: wasm ${w[r]}, float64 ${ref}`);
        }
      }
  });
});

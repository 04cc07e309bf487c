import { afterAll, describe, expect, it } from 'vitest';
import { defineKernel } from '../../spec/define.js';
import { probeWasm, WasmBackend } from './wasm.js';

// The JIT's vectorized Math.log (Cephes' logf in f32x4 and f32) against Math.fround(Math.log(x)):
// every 997th float32 bit pattern (4.3 million values, both signs, subnormals, NaNs, infinities),
// within 1 ulp of the correctly rounded value, and the special values exactly as Math.log.

const LOG = defineKernel({ name: 'test_log', arity: 1, params: 0, expr: 'Math.log(a)' });

/** Distance in float32 units in the last place between two finite floats of the same sign. */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (v: number) => (v < 0 ? 0x80000000 - v : v); // monotone in the float's value
  return Math.abs(key(i[0]) - key(i[1]));
}

describe.runIf(probeWasm().ok)('the JIT’s Math.log', () => {
  const wasm = new WasmBackend({ threads: 1 });
  afterAll(() => wasm.destroy());

  const run = (x: Float32Array) => {
    const out = wasm.read(wasm.map(LOG, [wasm.upload(x)], [[x.length]], [x.length], []));
    expect(wasm.jitStats().javascript).toBe(0); // the spec ran as WebAssembly, not the fallback
    return { out };
  };

  it('compiles to WebAssembly (vector steps and scalar tail)', () => {
    const x = Float32Array.of(1, 2, Math.E, 0.5, 10, 1e-30, 3);
    const { out } = run(x);
    expect(wasm.jitStats().wasm).toBe(1);
    for (let k = 0; k < x.length; k++)
      expect(ulps(out[k], Math.fround(Math.log(x[k])))).toBeLessThanOrEqual(1);
  });

  it('is within 1 ulp of Math.fround(Math.log(x)) on every 997th bit pattern, special values exact', () => {
    const n = Math.floor(2 ** 32 / 997) + 1;
    const bits = new Uint32Array(n);
    for (let k = 0; k < n; k++) bits[k] = (k * 997) >>> 0;
    const x = new Float32Array(bits.buffer);
    const { out } = run(x);
    let worst = 0;
    let checked = 0;
    for (let k = 0; k < n; k++) {
      const ref = Math.fround(Math.log(x[k]));
      const got = out[k];
      if (Number.isNaN(ref) || !Number.isFinite(ref)) {
        if (!Object.is(got, ref))
          expect.fail(`log(${x[k]}) (bits 0x${bits[k].toString(16)}): got ${got}, want ${ref}`);
        continue;
      }
      const u = ulps(got, ref);
      if (u > worst) worst = u;
      if (u > 1)
        expect.fail(`log(${x[k]}) (bits 0x${bits[k].toString(16)}): got ${got}, want ${ref} (${u} ulp)`);
      checked++;
    }
    expect(checked).toBeGreaterThan(2_000_000); // the positive finite half
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('special values as Math.log: log(±0) = -Infinity, log(x < 0) = NaN, log(+Infinity) = Infinity, log(NaN) = NaN', () => {
    const x = Float32Array.of(
      0,
      -0,
      -1,
      -Infinity,
      Infinity,
      Number.NaN,
      1,
      1.4e-45,
      -1.4e-45,
      3.4028234663852886e38,
    );
    const { out } = run(x);
    for (let k = 0; k < x.length; k++) {
      const ref = Math.fround(Math.log(x[k]));
      if (Number.isFinite(ref)) expect(ulps(out[k], ref)).toBeLessThanOrEqual(1);
      else expect(Object.is(out[k], ref)).toBe(true);
    }
    expect(out[6]).toBe(0); // log(1) is exactly 0
  });
});

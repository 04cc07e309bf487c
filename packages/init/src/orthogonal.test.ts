import { Parameter, Rng, ShapeError, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { orthogonal, orthogonal_ } from './orthogonal.js';
import { orthogonalFromNormal } from './qr.js';
import { FIXTURE } from './testing/fixture.js';

// Reference: torch.nn.init.orthogonal_ run on known normal matrices (fixtures/init.json); our
// float64 Householder QR with the same sign correction reproduces torch's float32 result within
// 1e-6 absolute (largest difference seen: 2.6e-7). Orthogonality of our float32 output, checked
// in float64: |W W^T - gain^2 I| <= 1e-5 gain^2 (rows <= cols) or |W^T W - gain^2 I| <= 1e-5 gain^2
// (rows > cols), entry-wise.

/** max |G - gain^2 I| for G = W W^T (rows <= cols) or W^T W (rows > cols), W as rows x cols. */
function orthogonalityError(w: ArrayLike<number>, rows: number, cols: number, gain: number): number {
  const byRows = rows <= cols;
  const k = byRows ? rows : cols;
  const len = byRows ? cols : rows;
  const at = (i: number, t: number) => (byRows ? w[i * cols + t] : w[t * cols + i]);
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < len; t++) s += at(i, t) * at(j, t);
      worst = Math.max(worst, Math.abs(s - (i === j ? gain * gain : 0)));
    }
  }
  return worst;
}

describe('orthogonal: PyTorch reference (same normal matrix, torch.nn.init.orthogonal_)', () => {
  it.each(FIXTURE.orthogonal)('shape $shape, gain $gain', ({ shape, gain, normal, result }) => {
    const rows = shape[0];
    const cols = normal.length / rows;
    const got = orthogonalFromNormal(normal, rows, cols, gain);
    let worst = 0;
    for (let i = 0; i < result.length; i++) worst = Math.max(worst, Math.abs(got[i] - result[i]));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});

describe.each(testBackends)('orthogonal on %s', (backend) => {
  useBackend(backend);

  it.each([
    [[64, 128], 1],
    [[128, 64], 1],
    [[16, 3, 3, 3], 1],
    [[30, 2, 5], 1],
    [[48, 48], 2],
    [[20, 10], Math.sqrt(2)],
  ] as const)('shape %j, gain %d: orthonormal rows or columns, scaled by gain', (shape, gain) => {
    const w = orthogonal(shape, { gain, rng: new Rng(61) });
    expect(w.shape).toEqual(shape);
    const rows = shape[0];
    const cols = w.size / rows;
    expect(orthogonalityError(w.dataSync(), rows, cols, gain)).toBeLessThanOrEqual(1e-5 * gain * gain);
    w.dispose();
  });

  it('draws the row-major normal matrix from the generator, then QR: deterministic per seed', () => {
    const a = new Rng(5).fillNormal(new Float32Array(12));
    const want = Float32Array.from(orthogonalFromNormal(a, 3, 4, 1));
    expect(orthogonal([3, 4], { rng: new Rng(5) }).dataSync()).toEqual(want);
    expect(orthogonal([3, 4], { rng: new Rng(6) }).dataSync()).not.toEqual(want);
    const p = new Parameter(tensorZeros([3, 2, 2]));
    orthogonal_(p, { rng: new Rng(5) });
    expect(p.dataSync()).toEqual(want);
    p.dispose();
  });

  it('errors: rank < 2 (as PyTorch), non-finite gain', () => {
    expect(FIXTURE.orthogonalError).toBe('Only tensors with 2 or more dimensions are supported');
    expect(() => orthogonal([5])).toThrow(ShapeError);
    expect(() => orthogonal([5])).toThrow(
      'orthogonal: only tensors with 2 or more dimensions are supported, got shape [5]',
    );
    expect(() => orthogonal([2, 2], { gain: Number.NaN })).toThrow(ValueError);
    expect(orthogonal([0, 3]).size).toBe(0);
  });
});

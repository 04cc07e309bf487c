import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Device } from './device.js';
import type { ActivationGradOp, BinaryOp, ScalarOp, UnaryOp } from './elementwise.js';
import { ACTIVATION_GRAD, BINARY, SCALAR, UNARY } from './elementwise.js';
import { backendsToTest, createDevice } from './select.js';

// NaN, infinities and signed zeros through every element-wise kernel and reduction, on every
// backend, against what PyTorch 1.13 computes (fixtures/special-values.json, written by
// fixtures/special_values_generate.py). The class of each result (NaN, +inf, -inf, finite) must
// match exactly: a NaN that turns into a finite number is a silent wrong answer. Finite results
// must be within |got - want| <= ATOL + RTOL |want| (float32 storage, GL transcendentals).
// Each input is also run shifted by 1, 2 and 3 positions, so every special value passes through
// every lane of the wasm backend's f32x4 loop and its scalar tail.
const ATOL = 1e-5;
const RTOL = 1e-4;

// Where gradkit deliberately differs from PyTorch 1.13:
// - sign(NaN) is NaN (NumPy, TensorFlow 2), not 0, so that a sign never hides a NaN (PyTorch's
//   own tracker calls its 0 a bug: pytorch/pytorch#41245);
// - (-inf)^0.5 is +inf as C99 pow says (and as torch's tensor-exponent pow gives); torch's
//   scalar pow takes a sqrt shortcut for the exponent 0.5 and gives NaN there.
const DEVIATIONS: Record<string, (x: number, torchY: number) => number> = {
  'unary sign': (x, y) => (Number.isNaN(x) ? Number.NaN : y),
  'scalar powScalar(0.5)': (x, y) => (x === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : y),
};

type Cell = number | 'nan' | 'inf' | '-inf' | '-0';
interface Fixture {
  torch: string;
  unary: Record<UnaryOp, { x: Cell[]; y: Cell[] }>;
  scalar: { op: ScalarOp; params: Cell[]; x: Cell[]; y: Cell[] }[];
  binary: Record<BinaryOp, { a: Cell[]; b: Cell[]; y: Cell[] }>;
  activationGrad: Record<ActivationGradOp, { a: Cell[]; b: Cell[]; params: number[]; y: Cell[] }>;
  where: { cond: Cell[]; y: Cell[] };
  reduce: {
    op: 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'logsumexp';
    shape: [number, number];
    axis: number;
    x?: Cell[];
    sparse?: boolean;
    set?: [number, number, Cell][];
    y: Cell[];
  }[];
}

const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'special-values.json'), 'utf8'),
) as Fixture;

function num(c: Cell): number {
  if (c === 'nan') return Number.NaN;
  if (c === 'inf') return Number.POSITIVE_INFINITY;
  if (c === '-inf') return Number.NEGATIVE_INFINITY;
  if (c === '-0') return -0;
  return c;
}

function kind(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+inf';
  if (v === Number.NEGATIVE_INFINITY) return '-inf';
  return 'finite';
}

/** Every mismatch between `got` and `want` as a message, or null. */
function mismatch(
  got: ArrayLike<number>,
  want: readonly number[],
  inputs: (i: number) => string,
): string | null {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (kind(g) !== kind(w)) bad.push(`${inputs(i)}: got ${g} (${kind(g)}), torch gives ${w} (${kind(w)})`);
    else if (kind(w) === 'finite' && !(Math.abs(g - w) <= ATOL + RTOL * Math.abs(w))) {
      bad.push(`${inputs(i)}: got ${g}, torch gives ${w}`);
    }
  }
  return bad.length ? bad.join('; ') : null;
}

// GLSL's sin and cos lose all accuracy for huge arguments (sin(3e38) is -1 on llvmpipe); their
// finite values there are not compared on gl (NaN and inf classes still are).
const GL_HUGE_ARGUMENT = new Set(['unary sin', 'unary cos']);

/** Runs `f` on the inputs as given and shifted by 1-3 leading ones; checks each result. */
function checkShifted(
  label: string,
  inputs: readonly (readonly number[])[],
  want: readonly number[],
  f: (arrays: Float32Array[]) => Float32Array,
  backend: string,
): void {
  const dev = DEVIATIONS[label];
  let expected = dev ? want.map((w, i) => dev(inputs[0][i], w)) : want;
  if (backend === 'gl' && GL_HUGE_ARGUMENT.has(label)) {
    // keep the class check only: expect the value GL computes when torch's is finite
    const got = f(inputs.map((xs) => Float32Array.from(xs)));
    expected = expected.map((w, i) => (Math.abs(inputs[0][i]) > 1e4 && Number.isFinite(w) ? got[i] : w));
  }
  for (let shift = 0; shift < 4; shift++) {
    const arrays = inputs.map((xs) => Float32Array.from([...new Array<number>(shift).fill(1), ...xs]));
    const got = f(arrays).subarray(shift);
    const err = mismatch(got, expected, (i) => `${label}(${inputs.map((xs) => xs[i]).join(', ')})`);
    expect(err, `shift ${shift}`).toBeNull();
  }
}

describe.each(backendsToTest())('special values (NaN, ±inf, ±0) as PyTorch %s', (name) => {
  const d: Device = createDevice({ backend: name });
  afterAll(() => d.destroy());

  type Arr = ReturnType<Device['array']>;
  /** Uploads every input, runs `f`, reads the result back and frees everything. */
  const run = (f: (...xs: Arr[]) => Arr) => (xs: Float32Array[]) => {
    const ins = xs.map((v) => d.array(v));
    const y = f(...ins);
    try {
      return y.read();
    } finally {
      for (const t of [...ins, y]) t.dispose();
    }
  };

  it.each(Object.keys(UNARY) as UnaryOp[])('unary %s', (op) => {
    const c = fixture.unary[op];
    expect(c, `no fixture for ${op}: regenerate special-values.json`).toBeDefined();
    checkShifted(
      `unary ${op}`,
      [c.x.map(num)],
      c.y.map(num),
      run((x) => d.unary(op, x)),
      name,
    );
  });

  it('covers every scalar op', () => {
    expect(new Set(fixture.scalar.map((c) => c.op))).toEqual(new Set(Object.keys(SCALAR)));
  });

  it.each(fixture.scalar.map((c) => [`${c.op}(${c.params.join(', ')})`, c] as const))('scalar %s', (_, c) => {
    const params = c.params.map(num);
    const label = `scalar ${c.op}(${params.join(', ')})`;
    checkShifted(
      label,
      [c.x.map(num)],
      c.y.map(num),
      run((x) => d.scalar(c.op, x, ...params)),
      name,
    );
  });

  it.each(Object.keys(BINARY) as BinaryOp[])('binary %s', (op) => {
    const c = fixture.binary[op];
    checkShifted(
      `binary ${op}`,
      [c.a.map(num), c.b.map(num)],
      c.y.map(num),
      run((a, b) => d.binary(op, a, b)),
      name,
    );
  });

  it.each(Object.keys(ACTIVATION_GRAD) as ActivationGradOp[])('activation gradient %s', (op) => {
    const c = fixture.activationGrad[op];
    checkShifted(
      `grad ${op}`,
      [c.a.map(num), c.b.map(num)],
      c.y.map(num),
      run((a, b) => d.activationGrad(op, a, b, ...c.params)),
      name,
    );
  });

  it('where: a NaN condition is true', () => {
    const c = fixture.where;
    const n = c.cond.length;
    expect(n).toBeGreaterThan(0);
    checkShifted(
      'where',
      [c.cond.map(num), new Array<number>(n).fill(1), new Array<number>(n).fill(2)],
      c.y.map(num),
      run((cond, one, two) => d.where(cond, one, two)),
      name,
    );
  });

  it.each(fixture.reduce.map((c) => [`${c.op} over [${c.shape.join(', ')}]`, c] as const))(
    'reduce %s',
    (_, c) => {
      const [rows, cols] = c.shape;
      let xs: Float32Array;
      if (c.sparse) {
        // row 0: 0, 1, 2, ...; row 1: -inf; then the listed positions set
        xs = new Float32Array(rows * cols);
        for (let j = 0; j < cols; j++) {
          xs[j] = j;
          xs[cols + j] = Number.NEGATIVE_INFINITY;
        }
        for (const [r, j, v] of c.set!) xs[r * cols + j] = num(v);
      } else xs = Float32Array.from(c.x!.map(num));
      const x = d.array(xs, [rows, cols]);
      const y = d.reduce(c.op, x, c.axis);
      try {
        const err = mismatch(y.read(), c.y.map(num), (i) => `${c.op} of row ${i}`);
        expect(err).toBeNull();
      } finally {
        x.dispose();
        y.dispose();
      }
    },
  );

  it('argmax/argmin find the first NaN in every position of long rows (GL reduces in stages)', () => {
    const cols = 3000;
    const picks = [0, 1, 54, 55, 56, 1499, 2999];
    const xs = new Float32Array(picks.length * cols);
    picks.forEach((p, r) => {
      for (let j = 0; j < cols; j++) xs[r * cols + j] = j === 7 ? 1e30 : -j;
      xs[r * cols + p] = Number.NaN;
      if (p + 10 < cols) xs[r * cols + p + 10] = Number.NaN; // a second, later NaN
    });
    const x = d.array(xs, [picks.length, cols]);
    for (const op of ['argmax', 'argmin'] as const) {
      const y = d.reduce(op, x, 1);
      expect(Array.from(y.read()), op).toEqual(picks);
      y.dispose();
    }
    const mx = d.reduce('max', x, 1);
    expect(Array.from(mx.read()).every(Number.isNaN)).toBe(true);
    mx.dispose();
    x.dispose();
  });
});

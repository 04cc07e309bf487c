// Test-only: the PyTorch reference values of fixtures/reference.json (written by
// fixtures/generate.py), typed, and the tolerances the tests state. Not part of the build.
import { loadFixture } from '@gradkit/test-utils';

/** Outputs and gradients (of sum(y * dy)) for one input. */
export interface Pass {
  readonly x: number[];
  readonly dy: number[];
  readonly y: number[];
  readonly dx: number[];
  readonly dweight?: number[] | null;
  readonly dbias?: number[] | null;
}

export interface BatchNormStep extends Pass {
  readonly runningMean?: number[];
  readonly runningVar?: number[];
  readonly numBatchesTracked?: number;
}

export interface BatchNormCase {
  readonly name: string;
  readonly layer: 'BatchNorm1d' | 'BatchNorm2d';
  readonly shape: number[];
  readonly options: {
    readonly momentum: number | null;
    readonly eps: number;
    readonly affine: boolean;
    readonly trackRunningStats: boolean;
    readonly convention: 'pytorch' | 'keras';
  };
  readonly weight?: number[];
  readonly bias?: number[];
  readonly train: BatchNormStep[];
  readonly eval: Pass;
}

export interface LayerNormCase extends Pass {
  readonly name: string;
  readonly shape: number[];
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly hasBias: boolean;
  readonly weight?: number[];
  readonly bias?: number[];
}

export interface GroupNormCase extends Pass {
  readonly name: string;
  readonly shape: number[];
  readonly numGroups: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly weight?: number[];
  readonly bias?: number[];
}

export interface RmsNormCase extends Pass {
  readonly name: string;
  readonly shape: number[];
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly weight?: number[];
}

export interface Reference {
  readonly torch: string;
  readonly batchNorm: BatchNormCase[];
  readonly layerNorm: LayerNormCase[];
  readonly groupNorm: GroupNormCase[];
  readonly rmsNorm: RmsNormCase[];
}

/** The fixtures, loaded once per test file. */
export const reference: Reference = loadFixture<Reference>(
  new URL('../../fixtures/reference.json', import.meta.url),
);

/**
 * Tolerances against the float64 references (pass when |got - want| <= atol + rtol |want|),
 * for float32 kernels on every backend. Measured worst errors (cpu, wasm, gl on llvmpipe):
 * outputs 1.7e-6 absolute, gradients 3.3e-5 absolute (GroupNorm on [4,6]: groups of 3 values,
 * so 1/std amplifies the cancellation in dy - mean(dy) - xhat mean(dy xhat)), elsewhere 1.3e-6;
 * running statistics 4e-7. The tolerances leave about 3x to 10x of room for other GPUs:
 * - OUTPUT: normalized outputs;
 * - GRAD: gradients of x, weight and bias;
 * - STATS: running statistics after several updates.
 */
export const OUTPUT = { atol: 1e-5, rtol: 1e-4 } as const;
export const GRAD = { atol: 1e-4, rtol: 1e-4 } as const;
export const STATS = { atol: 2e-6, rtol: 1e-5 } as const;

/** Per-group mean and biased variance of `values` (row-major `[groups, size]`), in float64. */
export function moments(values: ArrayLike<number>, groups: number): { mean: number[]; variance: number[] } {
  const size = values.length / groups;
  const mean: number[] = [];
  const variance: number[] = [];
  for (let g = 0; g < groups; g++) {
    let s = 0;
    for (let i = 0; i < size; i++) s += values[g * size + i];
    const m = s / size;
    let v = 0;
    for (let i = 0; i < size; i++) v += (values[g * size + i] - m) ** 2;
    mean.push(m);
    variance.push(v / size);
  }
  return { mean, variance };
}

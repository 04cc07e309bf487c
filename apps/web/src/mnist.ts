// The MNIST subset the build wrote next to the page (scripts/build.mjs): raw bytes, one per pixel
// (28 x 28 per image, row-major) and one per label, described by data/mnist.json.

/** One split of the subset, as loaded. */
export interface MnistSplit {
  /** Number of images. */
  readonly count: number;
  /** `count * 784` pixel bytes (0 = background, 255 = ink). */
  readonly images: Uint8Array;
  /** `count` labels, 0..9. */
  readonly labels: Uint8Array;
}

/** The whole subset. */
export interface MnistSubset {
  readonly train: MnistSplit;
  readonly test: MnistSplit;
  /** Where the images came from (package, files, which images). */
  readonly source: string;
}

interface SplitManifest {
  readonly count: number;
  readonly images: string;
  readonly labels: string;
}
interface Manifest {
  readonly format: 'gradkit-web-mnist';
  readonly rows: number;
  readonly cols: number;
  readonly source: string;
  readonly train: SplitManifest;
  readonly test: SplitManifest;
}

/** Pixels per image. */
export const PIXELS = 28 * 28;
/** MNIST's training mean and standard deviation in unit scale (PyTorch's MNIST example). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

async function bytes(url: URL, what: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`loading ${what} from ${url.pathname}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function split(base: URL, m: SplitManifest, name: string): Promise<MnistSplit> {
  const [images, labels] = await Promise.all([
    bytes(new URL(m.images, base), `the ${name} images`),
    bytes(new URL(m.labels, base), `the ${name} labels`),
  ]);
  if (images.length !== m.count * PIXELS)
    throw new Error(
      `${m.images}: expected ${m.count * PIXELS} bytes (${m.count} images), got ${images.length}`,
    );
  if (labels.length !== m.count)
    throw new Error(`${m.labels}: expected ${m.count} labels, got ${labels.length}`);
  const bad = labels.findIndex((l) => l > 9);
  if (bad >= 0) throw new Error(`${m.labels}: label ${labels[bad]} at index ${bad} is not a digit`);
  return { count: m.count, images, labels };
}

/** Loads the subset from `data/mnist.json` under `base` (the page's folder). */
export async function loadMnist(base: URL): Promise<MnistSubset> {
  const url = new URL('data/mnist.json', base);
  const res = await fetch(url);
  if (!res.ok)
    throw new Error(`loading ${url.pathname}: HTTP ${res.status} (run \`pnpm --filter @gradkit/web build\`)`);
  const m = (await res.json()) as Manifest;
  if (m.format !== 'gradkit-web-mnist' || m.rows !== 28 || m.cols !== 28)
    throw new Error(`${url.pathname}: not a 28x28 gradkit-web-mnist manifest`);
  const dir = new URL('data/', base);
  const [train, test] = await Promise.all([split(dir, m.train, 'training'), split(dir, m.test, 'test')]);
  return { train, test, source: m.source };
}

/** Writes image `i` of `images` into `out` at `offset`, normalized as the model expects. */
export function normalizeInto(images: Uint8Array, i: number, out: Float32Array, offset: number): void {
  const o = i * PIXELS;
  for (let p = 0; p < PIXELS; p++) out[offset + p] = (images[o + p] / 255 - MNIST_MEAN) / MNIST_STD;
}

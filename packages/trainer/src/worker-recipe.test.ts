import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Rng } from '@gradkit/tensor';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from './checkpoint/bytes.js';

// The README's "Training in a Web Worker" recipe, run in Node's worker_threads as a stand-in for
// a browser worker: src/testing/train-worker.ts is the README's worker code (checked below),
// bundled by esbuild with the workspace packages from their sources, behind a small shim that
// maps self/onmessage/postMessage onto parentPort.

const src = dirname(fileURLToPath(import.meta.url));
const packages = join(src, '..', '..');
let dir = '';
let bundle = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gradkit-worker-'));
  bundle = join(dir, 'worker.mjs');
  const result = await build({
    entryPoints: [join(src, 'testing', 'worker-shim.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [
      {
        name: 'workspace-sources',
        setup(b) {
          b.onResolve({ filter: /^@gradkit\/[a-z-]+$/ }, (args) => ({
            path: join(packages, args.path.slice('@gradkit/'.length), 'src', 'index.ts'),
          }));
        },
      },
    ],
  });
  writeFileSync(bundle, result.outputFiles[0].contents);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function task(n: number) {
  const rng = new Rng(5);
  const features = Float32Array.from({ length: n * 4 }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => (features[4 * i] > features[4 * i + 1] ? 1 : 0));
  return { type: 'train', features, labels, numFeatures: 4, epochs: 3 };
}

interface Message {
  type: string;
  [k: string]: unknown;
}

/** Starts the worker, sends `train`, and collects messages until 'done' or 'error'. */
function run(n: number, onMessage: (m: Message, w: Worker) => void = () => {}): Promise<Message[]> {
  const worker = new Worker(bundle);
  const got: Message[] = [];
  return new Promise<Message[]>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: Message) => {
      got.push(m);
      onMessage(m, worker);
      if (m.type === 'done' || m.type === 'error') resolve(got);
    });
    const t = task(n);
    worker.postMessage(t, [t.features.buffer, t.labels.buffer]);
  }).finally(() => worker.terminate());
}

describe('training in a worker (the README recipe)', () => {
  it('reports progress per batch and epoch, and returns the history and checkpoint bytes', async () => {
    const got = await run(400);
    const batches = got.filter((m) => m.type === 'batch');
    const epochs = got.filter((m) => m.type === 'epoch');
    expect(batches.length).toBe(3 * Math.ceil(360 / 32)); // 10% held out for validation
    expect(batches[0]).toEqual({ type: 'batch', epoch: 1, done: 1, of: 12 });
    expect(epochs.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(Object.keys(epochs[2].logs as object)).toEqual(
      expect.arrayContaining(['loss', 'accuracy', 'val_loss', 'val_accuracy']),
    );
    const done = got.at(-1) as Message;
    expect(done.type).toBe('done');
    const ckpt = decodeCheckpoint(done.checkpoint as Uint8Array);
    expect(ckpt.trainer.epoch).toBe(3);
    expect(Object.keys(ckpt.model).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
  });

  it("stops on a 'stop' message while it trains (the worker's event loop keeps turning)", async () => {
    const got = await run(4000, (m, w) => {
      if (m.type === 'epoch' && m.epoch === 1) w.postMessage({ type: 'stop' });
    });
    expect(got.at(-1)).toMatchObject({ type: 'error', name: 'AbortError' });
    expect(got.filter((m) => m.type === 'epoch').map((m) => m.epoch)).toEqual([1]);
  });

  it("is the README's worker code", () => {
    const readme = readFileSync(join(src, '..', 'README.md'), 'utf8');
    const code = readFileSync(join(src, 'testing', 'train-worker.ts'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${code}\`\`\``);
  });
});

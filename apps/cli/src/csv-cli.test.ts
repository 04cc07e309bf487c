import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { Rng } from '@gradkit/tensor';
import { permutation } from '@gradkit/trainer';
import { beforeAll, describe, expect, it } from 'vitest';

// The CSV path and bad pictures, through the built command in a subprocess (as a user runs it).
const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const backend = process.env.GRADKIT_BACKEND ?? 'cpu';
const dir = mkdtempSync(join(tmpdir(), 'gradkit-csv-cli-'));

function gradkit(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof gradkit>, code: number, pattern: RegExp) {
  expect(r.code, r.err).toBe(code);
  const lines = r.err.trim().split('\n');
  expect(lines.length, r.err).toBe(1);
  expect(lines[0]).toMatch(/^gradkit: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

/** Two separable classes: cat around (-2, -1), dog around (2, 1); features times `scale`. */
function animals(n: number, seed: number, only?: 'dog', scale = 1): string[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const dog = only === 'dog' || i % 2 === 1;
    const x1 = (dog ? 2 : -2) + rng.uniform() - 0.5;
    const x2 = (dog ? 1 : -1) + rng.uniform() - 0.5;
    return [String(x1 * scale), String(x2 * scale), dog ? 'dog' : 'cat'];
  });
}

const write = (name: string, header: string[] | null, rows: string[][]): string => {
  const path = join(dir, name);
  writeFileSync(path, `${[...(header ? [header] : []), ...rows].map((r) => r.join(',')).join('\n')}\n`);
  return path;
};

const TRAIN_FLAGS = [
  '--epochs',
  '8',
  '--lr',
  '0.01',
  '--batch-size',
  '32',
  '--hidden',
  '16',
  '--backend',
  backend,
];
const accuracyOf = (out: string) => Number(/accuracy\s+\|\s+([\d.]+)%/.exec(out)?.[1]);

describe('the CSV path: classes, features and statistics survive', () => {
  const train = write('animals.csv', ['x1', 'x2', 'animal'], animals(400, 1));
  const dogs = write('dogs.csv', ['x1', 'x2', 'animal'], animals(160, 2, 'dog'));
  const run = join(dir, 'run');

  beforeAll(() => {
    const t = gradkit(
      'train',
      '--dataset',
      train,
      '--label',
      'animal',
      '--test',
      dogs,
      '--out',
      run,
      ...TRAIN_FLAGS,
    );
    expect(t.code, t.err).toBe(0);
  });

  it('a dog-only test/eval file is read with the training classes (issue 10: 1.9% before)', () => {
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(summary.test.accuracy).toBeGreaterThan(0.9);
    const e = gradkit('eval', '--checkpoint', run, '--data', dogs, '--backend', backend);
    expect(e.code, e.err).toBe(0);
    expect(accuracyOf(e.out)).toBeGreaterThan(90);
    // without --data, a CSV model is evaluated on its run's --test file
    const d = gradkit('eval', '--checkpoint', run, '--backend', backend);
    expect(d.code, d.err).toBe(0);
    expect(d.out).toContain(dogs);
  });

  it('the run config and every checkpoint store the data description under `data`', () => {
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    const ck = JSON.parse(readFileSync(join(run, 'checkpoints', 'last', 'trainer.json'), 'utf8'));
    for (const data of [cfg.data, ck.config.data]) {
      expect(data).toMatchObject({
        kind: 'csv',
        labelName: 'animal',
        labelType: 'categorical',
        classNames: ['cat', 'dog'],
        numClasses: 2,
        featureNames: ['x1', 'x2'],
        header: true,
        normalize: 'standard',
        statsRows: 360,
      });
    }
    // the statistics are those of the 360 rows fit trains on (validation split 0.1, seed 0)
    const rows = readFileSync(train, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    const kept = Array.from(permutation(400, new Rng(0)).subarray(0, 360));
    for (let j = 0; j < 2; j++) {
      const v = kept.map((i) => Math.fround(rows[i][j]));
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      expect(cfg.data.featureMean[j]).toBeCloseTo(mean, 12);
      expect(cfg.data.featureStd[j]).toBeCloseTo(std, 12);
    }
    expect(cfg.normalize).toBe('standard');
  });

  it('predict reads a file without the label column (columns by name), prints class names, writes all rows', () => {
    const rows = animals(30, 3, 'dog').map(([x1, x2]) => [x2, x1]);
    const input = write('unlabeled.csv', ['x2', 'x1'], rows);
    const p = gradkit('predict', '--checkpoint', run, '--input', input, '--limit', '3', '--backend', backend);
    expect(p.code, p.err).toBe(0);
    const lines = p.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^\d+: predicted dog {2}\[dog: \d+\.\d%, cat: \d+\.\d%\]$/);

    const csvOut = join(dir, 'pred.csv');
    const c = gradkit(
      'predict',
      '--checkpoint',
      run,
      '--input',
      input,
      '--output',
      csvOut,
      '--backend',
      backend,
    );
    expect(c.code, c.err).toBe(0);
    const table = readFileSync(csvOut, 'utf8').trim().split('\n');
    expect(table[0]).toBe('row,predicted,probability,p_cat,p_dog');
    expect(table).toHaveLength(31); // every row, not just the 10 printed
    for (const [i, line] of table.slice(1).entries()) {
      const [row, predicted, prob, pc, pd] = line.split(',');
      expect(Number(row)).toBe(i);
      expect(predicted).toBe('dog');
      expect(Number(prob)).toBe(Number(pd));
      expect(Number(pc) + Number(pd)).toBeCloseTo(1, 12);
    }
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]); // renamed into place

    const jsonOut = join(dir, 'pred.json');
    const j = gradkit('predict', '--checkpoint', run, '--input', dogs, '--output', jsonOut, '--label', '-1');
    expect(j.code, j.err).toBe(0);
    const doc = JSON.parse(readFileSync(jsonOut, 'utf8'));
    expect(doc.classes).toEqual(['cat', 'dog']);
    expect(doc.rows).toHaveLength(160);
    expect(doc.rows[0]).toMatchObject({ row: 0, predicted: 'dog', label: 'dog' });
    expect(doc.rows[0].probabilities).toHaveLength(2);
    expect(j.out.split('\n')[0]).toMatch(/^0: predicted dog {2}\[.*\] {2}\(label dog\)$/);
  });

  it('an unseen label, a missing feature column and bad predict flags are one-line errors', () => {
    const bird = write(
      'bird.csv',
      ['x1', 'x2', 'animal'],
      [
        ['1', '2', 'dog'],
        ['3', '4', 'bird'],
      ],
    );
    expectOneLineError(
      gradkit('eval', '--checkpoint', run, '--data', bird),
      1,
      new RegExp(
        `DataError: ${bird}: line 3, column 3 \\(animal\\): label "bird" is not one of the classNames \\(cat, dog\\)`,
      ),
    );
    const other = write('other.csv', ['x1', 'x3'], [['1', '2']]);
    expectOneLineError(
      gradkit('predict', '--checkpoint', run, '--input', other),
      1,
      /feature column 'x2' not found in the header/,
    );
    expectOneLineError(
      gradkit('predict', '--checkpoint', run, '--input', dogs, '--limit', '-5'),
      2,
      /--limit: must be (a positive integer|at least 1), got "-5"/,
    );
    const pgm = join(dir, 'digit.pgm');
    writeFileSync(pgm, 'P2\n1 1\n1\n0\n');
    expectOneLineError(
      gradkit('predict', '--checkpoint', run, '--input', pgm),
      2,
      /trained on CSV features, not on images/,
    );
    expectOneLineError(
      gradkit('predict', '--checkpoint', run, '--input', dogs, '--output', join(dir, 'x.txt')),
      2,
      /--output: expected a file name ending in .csv or .json/,
    );
  });

  it('resume reuses the stored classes and statistics', () => {
    const r = gradkit('resume', run, '--epochs', '9');
    expect(r.code, r.err).toBe(0);
    const ck = JSON.parse(readFileSync(join(run, 'checkpoints', 'last', 'trainer.json'), 'utf8'));
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(ck.config.data).toEqual(cfg.data);
  });
});

describe('the CSV path: targets and scales', () => {
  it('a continuous target is refused with what to do; --label-type categorical overrides', () => {
    const rows = animals(200, 4).map(([a, b], i) => [a, b, (i * 0.37 + 1).toFixed(2)]);
    const reg = write('regression.csv', ['a', 'b', 'price'], rows);
    const out = join(dir, 'reg-run');
    expectOneLineError(
      gradkit('train', '--dataset', reg, '--label', 'price', '--out', out, ...TRAIN_FLAGS),
      2,
      /label column 'price' holds non-integer numbers .* looks like a continuous \(regression\) target; .*--label-type categorical/,
    );
    expect(existsSync(out)).toBe(false);
    const forced = gradkit(
      ...['train', '--dataset', reg, '--label', 'price', '--label-type', 'categorical', '--epochs', '1'],
      ...['--hidden', '8', '--backend', backend, '--out', out],
    );
    expect(forced.code, forced.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).data.numClasses).toBe(200);
    const big = write(
      'bigint.csv',
      null,
      animals(50, 5).map(([a, b], i) => [a, b, String(i % 2 ? 2e9 : 0)]),
    );
    expectOneLineError(
      gradkit('train', '--dataset', big, '--label', '-1', '--out', join(dir, 'bigint-run'), ...TRAIN_FLAGS),
      2,
      /would make 2000000001 classes \(more than 1000\)/,
    );
  });

  it('integer labels: a label >= numClasses in an eval file is an error naming the line', () => {
    const rows = animals(200, 6).map(([a, b, c]) => [a, b, c === 'dog' ? '1' : '0']);
    const train = write('int.csv', null, rows);
    const run = join(dir, 'int-run');
    const t = gradkit('train', '--dataset', train, '--label', '-1', '--out', run, ...TRAIN_FLAGS);
    expect(t.code, t.err).toBe(0);
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(cfg.data).toMatchObject({ labelType: 'integer', classNames: null, numClasses: 2, header: false });
    const bad = write('int-bad.csv', null, [
      ['1', '1', '1'],
      ['2', '2', '2'],
    ]);
    expectOneLineError(
      gradkit('eval', '--checkpoint', run, '--data', bad),
      1,
      /line 2, column 3 \(column 3\): label "2" is outside the 2 classes \[0, 2\) \(an unseen class\)/,
    );
    // headerless predict input without the label column: matched by count
    const p = gradkit(
      'predict',
      '--checkpoint',
      run,
      '--input',
      write('int-nolabel.csv', null, [['2.1', '1.2']]),
    );
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/^0: predicted 1 {2}\[1: /);
  });

  it('features scaled by 1e4 train exactly as the unscaled ones (standardized with training statistics)', () => {
    const small = write('small.csv', ['x1', 'x2', 'animal'], animals(400, 7));
    const large = write('large.csv', ['x1', 'x2', 'animal'], animals(400, 7, undefined, 1e4));
    const smallTest = write('small-test.csv', ['x1', 'x2', 'animal'], animals(100, 8));
    const largeTest = write('large-test.csv', ['x1', 'x2', 'animal'], animals(100, 8, undefined, 1e4));
    const losses = (data: string, test: string, name: string) => {
      const out = join(dir, name);
      const r = gradkit(
        'train',
        '--dataset',
        data,
        '--label',
        'animal',
        '--test',
        test,
        '--out',
        out,
        ...TRAIN_FLAGS,
      );
      expect(r.code, r.err).toBe(0);
      const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      return { first: metrics[0].loss as number, val: metrics[0].val_loss as number, test: summary.test };
    };
    const a = losses(small, smallTest, 'small-run');
    const b = losses(large, largeTest, 'large-run');
    // unnormalized, the 1e4 features give a first-epoch loss orders of magnitude off
    expect(Math.abs(a.first - b.first)).toBeLessThan(1e-3 * a.first);
    expect(Math.abs(a.val - b.val)).toBeLessThan(1e-3 * a.val);
    expect(b.test.accuracy).toBe(a.test.accuracy);
    expect(b.test.accuracy).toBeGreaterThan(0.9);
  });
});

describe('bad pictures never predict a class', () => {
  const run = join(dir, 'mnist-run');
  beforeAll(() => {
    const t = gradkit(
      'train',
      ...[
        '--limit',
        '300',
        '--epochs',
        '1',
        '--hidden',
        '8',
        '--test',
        'none',
        '--backend',
        backend,
        '--out',
        run,
      ],
    );
    expect(t.code, t.err).toBe(0);
  });

  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = (w: number, h: number) => {
    const b = Buffer.alloc(13);
    b.writeUInt32BE(w, 0);
    b.writeUInt32BE(h, 4);
    b[8] = 8;
    return chunk('IHDR', b);
  };
  const iend = chunk('IEND', Buffer.alloc(0));
  const files: [string, Buffer, RegExp][] = [
    ['noihdr.png', Buffer.concat([sig, chunk('IDAT', deflateSync(Buffer.alloc(10))), iend]), /expected IHDR/],
    ['zero.pgm', Buffer.from('P5\n0 0\n255\n'), /it has no pixels/],
    ['maxval0.pgm', Buffer.from('P5\n2 2\n0\n\0\0\0\0'), /maxval is 0/],
    [
      'huge.png',
      Buffer.concat([sig, ihdr(100000, 100000), chunk('IDAT', deflateSync(Buffer.alloc(100))), iend]),
      /above the limit/,
    ],
    [
      'bomb.png',
      Buffer.concat([sig, ihdr(64, 64), chunk('IDAT', deflateSync(Buffer.alloc(64 << 20))), iend]),
      /inflates to more than the 4160 bytes/,
    ],
    [
      'truncated.png',
      Buffer.concat([sig, ihdr(4, 4), chunk('IDAT', deflateSync(Buffer.alloc(20)))]).subarray(0, 50),
      /truncated/,
    ],
  ];
  it.each(files)('%s: one line, exit 1, fast', (name, bytes, pattern) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const t0 = performance.now();
    const r = gradkit('predict', '--checkpoint', run, '--input', path, '--backend', backend);
    expectOneLineError(r, 1, pattern);
    expect(r.out).toBe('');
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('NaN pixels in a float IDX file are a DataError with their position', () => {
    const n = 2 * 28 * 28;
    const b = Buffer.alloc(4 + 12 + 4 * n);
    b.set([0, 0, 0x0d, 3]);
    b.writeUInt32BE(2, 4);
    b.writeUInt32BE(28, 8);
    b.writeUInt32BE(28, 12);
    b.writeFloatBE(Number.NaN, 16 + 4 * 800);
    const path = join(dir, 'nan-idx3');
    writeFileSync(path, b);
    expectOneLineError(
      gradkit('predict', '--checkpoint', run, '--input', path),
      1,
      /float32 value NaN at index 800 \(position \[1,0,16\] of shape \[2,28,28\]\) is not finite/,
    );
  });

  it('a good picture still predicts a digit', () => {
    const path = join(dir, 'ok.pgm');
    writeFileSync(path, 'P2\n1 1\n1\n0\n');
    const p = gradkit('predict', '--checkpoint', run, '--input', path);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/^0: predicted \d {2}\[/);
  });
});

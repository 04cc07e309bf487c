// Issue 10, items 3 and 4, as a user meets them: a diverged run or an empty split is one
// `gradkit:` line with exit 1 (or a usage error, exit 2), never "completed" with Infinity weights
// in the checkpoints or a loss of 0.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The real command in a subprocess: built dist/main.js, as a user runs it.
const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const backend = process.env.GRADKIT_BACKEND ?? 'cpu';

function gradkit(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit `code`, exactly one `gradkit:` line on stderr (a train run may print its banner first), no stack trace. */
function expectFailure(r: ReturnType<typeof gradkit>, code: number, pattern: RegExp) {
  expect(r.code, r.err).toBe(code);
  const errors = r.err
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('gradkit:'));
  expect(errors.length, r.err).toBe(1);
  expect(errors[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.out).not.toMatch(/completed/);
}

const newOut = (name: string) => join(mkdtempSync(join(tmpdir(), 'gradkit-cli-nonfinite-')), name);

describe('gradkit train: no silent non-finite results', () => {
  it('a learning rate that is not finite in float32, or rounds to 0 there, is a usage error', () => {
    const out = newOut('lr');
    const train = (lr: string) =>
      gradkit('train', '--optimizer', 'sgd', '--lr', lr, '--backend', backend, '--out', out);
    expectFailure(
      train('1e300'),
      2,
      /^gradkit: --lr: must be finite in float32 \(at most 3\.4028235e\+38\), got 1e\+300$/,
    );
    expectFailure(train('3.5e38'), 2, /^gradkit: --lr: must be finite in float32 .*, got 3\.5e\+38$/);
    expectFailure(
      train('1e-50'),
      2,
      /^gradkit: --lr: rounds to 0 in float32 \(the smallest positive float32 is 1\.4e-45\), got 1e-50$/,
    );
    expect(existsSync(join(out, 'checkpoints'))).toBe(false);
  });

  it('a blow-up on the last (only) update names the parameter and writes no checkpoint', () => {
    // features of about 1e6, not normalized: the weight gradients are about 1e5, so lr 1e35 (finite
    // in float32) overflows the first layer's weights in the one update; the loss before it is finite
    const dir = mkdtempSync(join(tmpdir(), 'gradkit-cli-nonfinite-'));
    const csv = join(dir, 'big.csv');
    const rows = ['a,b,c,label'];
    for (let i = 0; i < 60; i++) {
      const y = i % 3;
      rows.push(
        `${[0, 1, 2].map((k) => (k === y ? 1e6 : 0) + ((i * 7919 + k * 104729) % 200000) - 1e5).join(',')},${y}`,
      );
    }
    writeFileSync(csv, `${rows.join('\n')}\n`);
    const out = join(dir, 'run');
    const r = gradkit(
      'train',
      ...['--dataset', csv, '--test', 'none', '--normalize', 'none', '--optimizer', 'sgd', '--lr', '1e35'],
      ...['--epochs', '1', '--batch-size', '64', '--hidden', '16', '--backend', backend, '--out', out],
    );
    expectFailure(
      r,
      1,
      /^gradkit: NonFiniteError: parameter 0\.weight: \d+ of 48 values (is|are) not finite \(first: -?Infinity at index \d+\) at the end of epoch 1 \(step 1, after batch 0\)/,
    );
    expect(existsSync(join(out, 'checkpoints', 'last'))).toBe(false);
    expect(existsSync(join(out, 'checkpoints', 'best'))).toBe(false);
  });

  it('weights finite but too large for the validation data: val_loss NaN stops the run before any checkpoint', () => {
    const out = newOut('val');
    const r = gradkit(
      'train',
      ...['--optimizer', 'sgd', '--lr', '1e30', '--epochs', '1', '--limit', '256', '--batch-size', '256'],
      ...['--hidden', '16', '--backend', backend, '--out', out],
    );
    expectFailure(
      r,
      1,
      /^gradkit: NonFiniteError: val_loss is (NaN|Infinity) at the end of epoch 1 \(step 1\) although every parameter is finite/,
    );
    expect(existsSync(join(out, 'checkpoints', 'last'))).toBe(false);
  });

  it('without validation, a test loss that is not finite fails the run instead of printing NaN with exit 0', () => {
    const out = newOut('test-nan');
    const r = gradkit(
      'train',
      ...['--optimizer', 'sgd', '--lr', '1e30', '--epochs', '1', '--limit', '256', '--batch-size', '256'],
      ...['--validation-split', '0', '--hidden', '16', '--backend', backend, '--out', out],
    );
    expectFailure(
      r,
      1,
      /^gradkit: test loss is (NaN|Infinity) on the test set: the model overflows on the test data/,
    );
    expect(r.out).not.toMatch(/test accuracy/);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
  });

  it('a validation split that leaves an empty part is refused with the sizes, not reported as loss 0', () => {
    const run = (...args: string[]) =>
      gradkit(
        'train',
        '--epochs',
        '1',
        '--hidden',
        '16',
        '--backend',
        backend,
        '--out',
        newOut('split'),
        ...args,
      );
    expectFailure(
      run('--limit', '1'),
      1,
      /^gradkit: ValueError: fit: validationSplit 0\.1 of 1 row leaves 1 training row and 0 validation rows; both need at least one$/,
    );
    expectFailure(
      run('--limit', '100', '--validation-split', '0.9999'),
      1,
      /^gradkit: ValueError: fit: validationSplit 0\.9999 of 100 rows leaves 0 training rows and 100 validation rows; both need at least one$/,
    );
  });
});

import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EpochRecord } from '../logs.js';
import type { TrainingContext } from './callback.js';
import { MetricsLogger } from './metrics-logger.js';

// The logger's callbacks driven by hand, as the loop calls them (see trainer.ts).

function ctxAfter(epochs: number): TrainingContext {
  const history: EpochRecord[] = Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    step: (i + 1) * 10,
    seconds: 1,
    logs: { loss: 1 / (i + 1) },
  }));
  return { history } as unknown as TrainingContext;
}

function run(logger: MetricsLogger, from: number, to: number): void {
  logger.onTrainBegin(ctxAfter(from));
  for (let e = from + 1; e <= to; e++) logger.onEpochEnd(e, { loss: 1 / e }, ctxAfter(e));
}

const epochsOf = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).epoch);

describe('MetricsLogger crash windows', () => {
  it('a resumed run trims lines logged after its checkpoint (killed before the save): one line per epoch', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradkit-ml-')), 'metrics.jsonl');
    const first = new MetricsLogger({ path });
    run(first, 0, 3); // epoch 3 logged, then the process was killed before checkpoint 3 was written
    const saved = first.stateDict(); // as checkpoint 2 held it
    const resumed = new MetricsLogger({ path, append: true });
    resumed.loadStateDict(saved);
    run(resumed, 2, 4); // resume from checkpoint 2: epochs 3 and 4 again
    expect(epochsOf(path)).toEqual([1, 2, 3, 4]);
  });

  it('drops a torn last line (a kill in the middle of an append) and keeps a complete one', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradkit-ml-')), 'metrics.jsonl');
    writeFileSync(path, '{"epoch":1,"loss":1}\n{"epoch":2,"loss":0.5}\n{"epoch":3,"lo');
    const logger = new MetricsLogger({ path, append: true });
    logger.loadStateDict({ columns: null });
    run(logger, 2, 3);
    expect(epochsOf(path)).toEqual([1, 2, 3]);
    writeFileSync(path, '{"epoch":1,"loss":1}\n{"epoch":2,"loss":0.5}');
    const again = new MetricsLogger({ path, append: true });
    again.loadStateDict({ columns: null });
    run(again, 2, 3);
    expect(epochsOf(path)).toEqual([1, 2, 3]);
  });

  it('trims a CSV log by its epoch column', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradkit-ml-')), 'metrics.csv');
    const first = new MetricsLogger({ path, format: 'csv' });
    run(first, 0, 3);
    const resumed = new MetricsLogger({ path, format: 'csv', append: true });
    resumed.loadStateDict(first.stateDict());
    run(resumed, 1, 2);
    const rows = readFileSync(path, 'utf8').trim().split('\n');
    expect(rows.map((r) => r.split(',')[0])).toEqual(['epoch', '1', '2']);
  });

  it('an appending logger that was not resumed keeps the file as it is', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradkit-ml-')), 'metrics.jsonl');
    writeFileSync(path, '{"epoch":7}\n');
    run(new MetricsLogger({ path, append: true }), 0, 1);
    expect(epochsOf(path)).toEqual([7, 1]);
  });
});

describe('MetricsLogger and symbolic links', () => {
  it('a new log replaces a planted link instead of truncating its target', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradkit-ml-'));
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const path = join(dir, 'metrics.jsonl');
    symlinkSync(victim, path);
    run(new MetricsLogger({ path }), 0, 2);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(epochsOf(path)).toEqual([1, 2]);
  });

  it('appending (a resumed run) to a link is an error naming the path, and the target is untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradkit-ml-'));
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const path = join(dir, 'metrics.jsonl');
    symlinkSync(victim, path);
    const resumed = new MetricsLogger({ path, append: true });
    resumed.loadStateDict({ columns: null });
    expect(() => run(resumed, 1, 2)).toThrow(
      /metrics.jsonl is a symbolic link; refusing to write through it/,
    );
    const plain = new MetricsLogger({ path, append: true }); // not resumed: the append itself refuses
    expect(() => run(plain, 0, 1)).toThrow(/is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(path)).toBe(true);
  });
});

import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ValueError } from '@gradkit/tensor';
import { writeFileAtomic } from '../checkpoint/atomic.js';
import type { EpochLogs } from '../logs.js';
import type { Callback, Json, TrainingContext } from './callback.js';

/** Options of {@link MetricsLogger}. */
export interface MetricsLoggerOptions {
  /** File to write. */
  readonly path: string;
  /** `'jsonl'` (one JSON object per epoch, default) or `'csv'` (header from the first epoch). */
  readonly format?: 'jsonl' | 'csv';
  /** Keep the existing file and add to it (default false; a resumed run appends). */
  readonly append?: boolean;
  /** Callback name (default `'metricsLogger'`); give two loggers different names. */
  readonly name?: string;
}

/**
 * Writes one record per epoch (epoch number, step, seconds, and every logged value) to a JSONL
 * or CSV file, flushed at every epoch so an interrupted run keeps what it logged.
 *
 * A resumed run (its state restored from a checkpoint) first trims the file to the checkpoint's
 * epoch: a run killed after an epoch's line was written but before its checkpoint was saved
 * repeats that epoch, and would otherwise log it twice. The trimmed file replaces the old one
 * atomically. The logger never writes through a symbolic link: a new file replaces a link by a
 * rename, and appending to a link is an error.
 *
 * @example
 * ```ts
 * new MetricsLogger({ path: 'runs/mnist/metrics.jsonl' });
 * ```
 */
export class MetricsLogger implements Callback {
  readonly name: string;
  /** The file it writes. */
  readonly path: string;
  /** `'jsonl'` (one JSON object per epoch) or `'csv'`. */
  readonly format: 'jsonl' | 'csv';
  private columns: string[] | null = null;
  private started: boolean;
  private resumed = false;

  constructor(options: MetricsLoggerOptions) {
    if (!options?.path) throw new ValueError('MetricsLogger', 'path is required');
    const format = options.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') {
      throw new ValueError('MetricsLogger', `format must be 'jsonl' or 'csv', got ${JSON.stringify(format)}`);
    }
    this.path = options.path;
    this.format = format;
    this.name = options.name ?? 'metricsLogger';
    this.started = options.append ?? false;
  }

  onTrainBegin(ctx: TrainingContext): void {
    mkdirSync(dirname(this.path), { recursive: true });
    if (!this.started) {
      writeFileAtomic(this.path, '');
      this.started = true;
    } else if (this.resumed) {
      this.trim(ctx.history.length > 0 ? ctx.history[ctx.history.length - 1].epoch : 0);
    }
    this.resumed = false;
  }

  /** Drops the records of epochs after `epoch` (and a torn last line), rewriting the file atomically. */
  private trim(epoch: number): void {
    let text: string;
    try {
      if (lstatSync(this.path).isSymbolicLink()) throw this.linkError();
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const lines = text.split('\n');
    // the part after the last newline: '' normally, a torn record when a kill cut an append short
    const torn = lines.pop() ?? '';
    if (torn !== '' && this.format === 'jsonl' && parsesAsJson(torn)) lines.push(torn); // complete, only unterminated
    let keep: string[];
    if (this.format === 'jsonl') {
      keep = lines.filter((line) => {
        try {
          const e = (JSON.parse(line) as { epoch?: unknown }).epoch;
          return !(typeof e === 'number' && e > epoch);
        } catch {
          return line.trim() !== '';
        }
      });
    } else {
      const col = lines.length ? lines[0].split(',').indexOf('epoch') : -1;
      keep = col < 0 ? lines : lines.filter((line, i) => i === 0 || !(Number(line.split(',')[col]) > epoch));
    }
    if (keep.length === lines.length && torn === '') return; // nothing to drop, ends with a newline
    writeFileAtomic(this.path, keep.map((l) => `${l}\n`).join(''));
  }

  private linkError(): ValueError {
    return new ValueError('MetricsLogger', `${this.path} is a symbolic link; refusing to write through it`);
  }

  /** Appends one line, without following a symbolic link at the path. */
  private append(line: string): void {
    let fd: number;
    try {
      fd = openSync(
        this.path,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0),
        0o644,
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw this.linkError();
      throw e;
    }
    try {
      const bytes = Buffer.from(line);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    } finally {
      closeSync(fd);
    }
  }

  onEpochEnd(
    epoch: number,
    logs: EpochLogs,
    ctx: { history: readonly { step: number; seconds: number }[] },
  ): void {
    const last = ctx.history[ctx.history.length - 1];
    const record: Record<string, number> = {
      epoch,
      step: last?.step ?? 0,
      seconds: last?.seconds ?? 0,
      ...logs,
    };
    if (this.format === 'jsonl') {
      this.append(`${JSON.stringify(record)}\n`);
      return;
    }
    if (!this.columns) {
      this.columns = Object.keys(record);
      this.append(`${this.columns.join(',')}\n`);
    }
    this.append(`${this.columns.map((c) => (record[c] === undefined ? '' : String(record[c]))).join(',')}\n`);
  }

  stateDict(): Json {
    return { columns: this.columns };
  }

  loadStateDict(state: Json): void {
    this.columns = (state as { columns: string[] | null }).columns;
    this.started = true;
    this.resumed = true;
  }
}

function parsesAsJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

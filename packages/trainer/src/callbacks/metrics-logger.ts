import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ValueError } from '@gradkit/tensor';
import type { EpochLogs } from '../logs.js';
import type { Callback, Json } from './callback.js';

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

  onTrainBegin(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    if (!this.started) {
      writeFileSync(this.path, '');
      this.started = true;
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
      appendFileSync(this.path, `${JSON.stringify(record)}\n`);
      return;
    }
    if (!this.columns) {
      this.columns = Object.keys(record);
      appendFileSync(this.path, `${this.columns.join(',')}\n`);
    }
    appendFileSync(
      this.path,
      `${this.columns.map((c) => (record[c] === undefined ? '' : String(record[c]))).join(',')}\n`,
    );
  }

  stateDict(): Json {
    return { columns: this.columns };
  }

  loadStateDict(state: Json): void {
    this.columns = (state as { columns: string[] | null }).columns;
    this.started = true;
  }
}

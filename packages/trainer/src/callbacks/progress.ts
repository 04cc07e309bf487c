import type { BatchInfo, BatchLoss, EpochLogs } from '../logs.js';
import type { Callback, TrainingContext } from './callback.js';

/** Where progress goes: a writable stream (default `process.stderr` in Node, the console elsewhere). */
export interface ProgressStream {
  /** Writes text (a line, or a `\r`-prefixed redraw of the live bar). */
  write(chunk: string): unknown;
  /** True for a terminal: the live bar is drawn only there unless `live` says otherwise. */
  readonly isTTY?: boolean;
  /** The terminal's width in characters (the live bar fits itself into it; default 100). */
  readonly columns?: number;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Where to draw (default `process.stderr` in Node; in a browser or worker, one `console.log` per line). */
  readonly stream?: ProgressStream;
  /** Redraw at most this often, in milliseconds (default 100). */
  readonly intervalMs?: number;
  /** Draw the live bar (default: when the stream is a terminal); the per-epoch line is always printed. */
  readonly live?: boolean;
}

/** `process.stderr` where there is one (Node), else lines to `console.log` (no live bar). */
function defaultStream(): ProgressStream {
  const stderr = (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
  if (stderr) return stderr;
  return {
    write(chunk: string) {
      const line = chunk.replace(/^\r/, '').replace(/\n$/, '');
      if (line !== '') console.log(line);
    },
  };
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

/**
 * Formats an epoch's logs as `loss 0.1234  accuracy 97.10%  val_loss ...`: accuracy-like values
 * as percentages, the rest with 4 significant digits.
 *
 * @example
 * ```ts
 * formatLogs({ loss: 0.123456, accuracy: 0.971 }); // 'loss 0.1235  accuracy 97.10%'
 * ```
 */
export function formatLogs(logs: EpochLogs): string {
  return Object.entries(logs)
    .map(([k, v]) => (/acc/.test(k) ? `${k} ${(100 * v).toFixed(2)}%` : `${k} ${Number(v.toPrecision(4))}`))
    .join('  ');
}

/**
 * A live progress bar on a terminal (batches done, ETA, running loss, samples per second), and
 * one line per epoch with its logs and duration; on a non-terminal stream (CI logs) only the
 * per-epoch lines.
 *
 * @example
 * ```ts
 * trainer.fit(train, { epochs: 5, callbacks: [new ProgressBar()] });
 * // epoch 1/5  469/469 [==============================] 12s  loss 0.2841 ...
 * ```
 */
export class ProgressBar implements Callback {
  readonly name = 'progress';
  private readonly stream: ProgressStream;
  private readonly interval: number;
  private readonly live: boolean;
  private epochStart = 0;
  private lastDraw = 0;
  private lossSum = 0;
  private lossSeen = 0;
  private seen = 0;

  constructor(options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? defaultStream();
    this.interval = options.intervalMs ?? 100;
    this.live = options.live ?? Boolean(this.stream.isTTY);
  }

  onEpochBegin(): void {
    this.epochStart = performance.now();
    this.lastDraw = 0;
    this.lossSum = 0;
    this.lossSeen = 0;
    this.seen = 0;
  }

  /** The running loss: summed as the trainer reads losses (never forces a read). */
  onLossesRead(losses: readonly BatchLoss[]): void {
    for (const b of losses) {
      this.lossSum += b.loss * b.size;
      this.lossSeen += b.size;
    }
  }

  onBatchEnd(info: BatchInfo, ctx: TrainingContext): void {
    this.seen += info.size;
    if (!this.live) return;
    const now = performance.now();
    if (now - this.lastDraw < this.interval && info.batch + 1 < info.numBatches) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const frac = (info.batch + 1) / info.numBatches;
    const eta = elapsed / frac - elapsed;
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 100) - 80));
    const filled = Math.round(frac * width);
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (frac < 1 ? '>' : '=') : ''}${' '.repeat(width - filled)}`;
    const rate = this.seen / Math.max(elapsed, 1e-9);
    this.stream.write(
      `\r\x1b[2Kepoch ${info.epoch}/${ctx.epochs} ${String(info.batch + 1).padStart(String(info.numBatches).length)}/${info.numBatches} ` +
        `[${bar}] ETA ${fmtTime(eta)}  loss ${this.lossSeen ? (this.lossSum / this.lossSeen).toFixed(4) : '...'}  ${Math.round(rate)} samples/s`,
    );
  }

  onEpochEnd(epoch: number, logs: EpochLogs, ctx: TrainingContext): void {
    const seconds = (performance.now() - this.epochStart) / 1000;
    const rate = this.seen / Math.max(seconds, 1e-9);
    if (this.live) this.stream.write('\r\x1b[2K');
    this.stream.write(
      `epoch ${epoch}/${ctx.epochs}  ${formatLogs(logs)}  (${seconds.toFixed(1)}s, ${Math.round(rate)} samples/s)\n`,
    );
  }
}

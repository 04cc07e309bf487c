import { memory, ValueError } from '@gradkit/tensor';

/** Settings of the leak check ({@link configureLeakCheck}). */
export interface LeakCheckOptions {
  /**
   * Watch the live-tensor count at every optimizer `step()`. Default: on, unless the environment
   * variable `GRADKIT_LEAK_CHECK` is `0`, `false`, `off` or `no` (read at each step, so it can be
   * set at any time). An explicit value here takes precedence over the variable.
   */
  readonly enabled?: boolean;
  /**
   * How many consecutive steps the live-tensor count must grow, step over step, before the
   * warning is printed. Default 64: a loop that leaks grows at every step, while a loop that
   * frees what it allocates stays flat (or grows and shrinks, e.g. a buffer flushed every N
   * steps, N < window).
   */
  readonly window?: number;
}

interface Settings {
  enabled: boolean | undefined;
  window: number;
}

const DEFAULT_WINDOW = 64;
const OFF = new Set(['0', 'false', 'off', 'no']);

let settings: Settings = { enabled: undefined, window: DEFAULT_WINDOW };
let warned = false;

function enabled(): boolean {
  if (settings.enabled !== undefined) return settings.enabled;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.GRADKIT_LEAK_CHECK;
  return v === undefined || !OFF.has(v.trim().toLowerCase());
}

/**
 * Configures the check that warns when a training loop leaks tensors: at the end of every
 * `step()` of an `Optimizer` (`adam(...)`, `sgd(...)`, ...) or a `TransformationOptimizer`, the optimizer compares
 * `memory().tensors` with its count at the previous step; when the count grew at each of the
 * last `window` steps (default 64), it prints one warning with `console.warn` (once per process,
 * whichever optimizer sees it) that says how to fix the loop: run each step in `scope()`, or
 * pass the forward and backward to `opt.step(closure)`. Options left out keep their current
 * value.
 *
 * Silence it with `configureLeakCheck({ enabled: false })` or the environment variable
 * `GRADKIT_LEAK_CHECK=0`. The check costs one counter read per step.
 *
 * @returns the settings before the call (pass them back to restore them).
 * @throws {ValueError} when `window` is not an integer >= 2.
 * @example
 * ```ts
 * const previous = configureLeakCheck({ enabled: false }); // e.g. a loop that grows on purpose
 * // ...
 * configureLeakCheck(previous);
 * ```
 * @see https://pytorch.org/docs/1.13/optim.html#optimizer-step-closure (the closure form)
 */
export function configureLeakCheck(options: LeakCheckOptions): LeakCheckOptions {
  const op = 'configureLeakCheck';
  const previous: LeakCheckOptions = { ...settings };
  const next: Settings = { ...settings };
  if (options.enabled !== undefined) {
    if (typeof options.enabled !== 'boolean') {
      throw new ValueError(op, `enabled must be a boolean, got ${String(options.enabled)}`);
    }
    next.enabled = options.enabled;
  } else if ('enabled' in options) next.enabled = undefined;
  if (options.window !== undefined) {
    if (!Number.isInteger(options.window) || options.window < 2) {
      throw new ValueError(op, `window must be an integer >= 2, got ${String(options.window)}`);
    }
    next.window = options.window;
  }
  settings = next;
  return previous;
}

/**
 * @internal Sets whether the warning counts as printed (tests only: it is printed once per
 * process, and test files share a process) and returns the previous value, to restore it.
 */
export function setLeakWarned(value: boolean): boolean {
  const was = warned;
  warned = value;
  return was;
}

/**
 * @internal One optimizer's view of the live-tensor count: call {@link LeakWatch.observe} at the
 * end of each step.
 */
export class LeakWatch {
  private last = -1;
  private rises = 0;
  private start = 0;

  /** Records the count after a step of `owner` (e.g. `'Adam'`); warns once when it keeps growing. */
  observe(owner: string): void {
    if (warned || !enabled()) {
      this.last = -1;
      this.rises = 0;
      return;
    }
    const live = memory().tensors;
    if (this.last >= 0 && live > this.last) {
      if (this.rises === 0) this.start = this.last;
      this.rises++;
    } else this.rises = 0;
    this.last = live;
    if (this.rises < settings.window) return;
    warned = true;
    const per = (live - this.start) / this.rises;
    console.warn(
      `gradkit: the number of live tensors grew at each of the last ${this.rises} ${owner}.step() calls ` +
        `(${this.start} -> ${live}, about ${Number(per.toFixed(1))} per step): the training loop leaks ` +
        'the tensors it creates (gradkit has no garbage collector for device memory). Fix: run each ' +
        'step in scope(() => { ... }), or pass the forward and backward to the optimizer as ' +
        'opt.step(() => { opt.zeroGrad(); const loss = ...; loss.backward(); return loss; }), which ' +
        'frees everything the closure creates but the returned loss (dispose() that, or read it in ' +
        'an enclosing scope). Silence this warning with GRADKIT_LEAK_CHECK=0 or ' +
        'configureLeakCheck({ enabled: false }).',
    );
  }
}

// Runs one contender's job in its own process (Node for JS contenders, Python for PyTorch) and
// collects the JSON it writes. A worker that crashes, hangs or writes nothing becomes an error
// result; the run carries on.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerResult, WorkerSpec } from './types.js';

/** How to start a worker and how long to let it run. */
export interface RunOptions {
  readonly python: string;
  readonly timeoutMs: number;
  /** Print every line the worker writes (else only `progress:` lines, and the tail on failure). */
  readonly verbose: boolean;
  /** Prefix of forwarded lines. */
  readonly prefix: string;
  /** Forward the worker's `progress:` lines. */
  readonly showProgress: boolean;
}

/** The Python script of the PyTorch contender (shipped in apps/bench/python, next to dist/). */
export function torchScript(): string {
  return fileURLToPath(new URL('../python/torch_bench.py', import.meta.url));
}

/** The worker entry (dist/worker.js, beside the running dist/main.js): it imports only what its contender needs. */
export function workerScript(): string {
  return fileURLToPath(new URL('./worker.js', import.meta.url));
}

/** Runs a worker process for `spec` and returns its result (or an error result). */
export function runWorker(spec: WorkerSpec, specFile: string, o: RunOptions): Promise<WorkerResult> {
  writeFileSync(specFile, JSON.stringify(spec));
  const [cmd, args] =
    spec.kind === 'torch'
      ? [o.python, [torchScript(), specFile]]
      : [process.execPath, [...process.execArgv, workerScript(), specFile]];
  return new Promise((resolvePromise) => {
    const tail: string[] = [];
    // PyTorch: torch.set_num_threads(1) limits PyTorch's own pool, not the threads of the BLAS it
    // loads (OpenBLAS, MKL), which read these before they start
    const env =
      spec.kind === 'torch'
        ? { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }
        : { ...process.env };
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    const onData = (buf: Buffer, pending: { s: string }) => {
      pending.s += buf.toString('utf8');
      const lines = pending.s.split('\n');
      pending.s = lines.pop() ?? '';
      for (const line of lines) handle(line);
    };
    const handle = (line: string) => {
      if (!line.trim()) return;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (line.startsWith('progress: ')) {
        if (o.showProgress) process.stdout.write(`${o.prefix}${line.slice(10)}\n`);
      } else if (o.verbose) process.stdout.write(`${o.prefix}| ${line}\n`);
    };
    const out = { s: '' };
    const err = { s: '' };
    child.stdout.on('data', (b: Buffer) => onData(b, out));
    child.stderr.on('data', (b: Buffer) => onData(b, err));
    const finish = (error: string | null) => {
      clearTimeout(timer);
      for (const p of [out, err]) if (p.s) handle(p.s);
      if (error === null && existsSync(spec.resultFile)) {
        try {
          const res = JSON.parse(readFileSync(spec.resultFile, 'utf8')) as WorkerResult;
          resolvePromise(res);
          return;
        } catch (e) {
          error = `unreadable result file: ${(e as Error).message}`;
        }
      }
      const context = tail.filter((l) => !l.startsWith('progress: ')).slice(-12);
      resolvePromise({
        ok: false,
        error: `${error ?? 'the worker wrote no result'}${context.length ? `\n${context.join('\n')}` : ''}`,
      });
    };
    child.on('error', (e) => finish(`could not start ${cmd}: ${e.message}`));
    child.on('close', (code, signal) => {
      if (timedOut) finish(`timed out after ${(o.timeoutMs / 1000).toFixed(0)} s (killed)`);
      else if (code !== 0) finish(`exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
      else finish(null);
    });
  });
}

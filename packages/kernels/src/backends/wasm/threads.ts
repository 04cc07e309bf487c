// Worker threads for the WebAssembly GEMM: every worker instantiates the same module on the same
// shared memory and waits on its slot of a shared control block. A GEMM is split into row or
// column slabs; the calling thread runs the first slab, then takes back every slab whose worker
// has not started it yet and runs it too, and waits for the others, so the API stays synchronous
// and a worker that is not scheduled in time costs no more than running alone. Each C element is computed by exactly one thread with the same sequence of float32
// operations, so results are bit-identical for any number of threads.

/** Int32 words per worker slot (one 64-byte cache line). */
export const SLOT_WORDS = 17;
/** How long an idle worker polls for the next task before it sleeps, in milliseconds. */
export const SPIN_MS = 0.5;
/** Word offsets inside a slot. */
export const SEQ = 0;
export const DONE = 1;
export const FAILED = 2;
export const READY = 3;
export const ARGS = 4;
/**
 * Who runs the slab of ticket `seq`: `seq` while it is open, `-seq` once the worker took it, 0
 * once the calling thread took it back (a worker not scheduled in time must not stall the caller).
 */
export const CLAIM = 16;

/**
 * The worker's program, plain JavaScript so that it runs unchanged as a Node `eval` worker and as a
 * browser worker from a Blob URL (no bundler or file path involved).
 */
export const WORKER_SOURCE = `'use strict';
function serve(mod, memory, ctrl, slot) {
  const gemm = new WebAssembly.Instance(mod, { env: { memory } }).exports.gemm;
  const s = slot * ${SLOT_WORDS};
  let last = 0;
  Atomics.store(ctrl, s + ${READY}, 1);
  Atomics.notify(ctrl, s + ${READY});
  const now = typeof performance === 'object' ? () => performance.now() : () => Date.now();
  let idleSince = now();
  for (;;) {
    // Right after a task the next one usually follows within a fraction of a millisecond (the
    // products of one training step): poll for a while before sleeping, since waking a sleeping
    // thread costs tens of microseconds.
    while (Atomics.load(ctrl, s + ${SEQ}) === last && now() - idleSince < ${SPIN_MS}) {}
    Atomics.wait(ctrl, s + ${SEQ}, last);
    const seq = Atomics.load(ctrl, s + ${SEQ});
    if (seq === last) continue;
    last = seq;
    if (seq < 0) return;
    // the calling thread may have taken the slab back (this worker woke too late): then skip it
    if (Atomics.compareExchange(ctrl, s + ${CLAIM}, seq, -seq) !== seq) continue;
    const a = ${ARGS} + s;
    try {
      gemm(ctrl[a], ctrl[a + 1], ctrl[a + 2], ctrl[a + 3], ctrl[a + 4], ctrl[a + 5],
           ctrl[a + 6], ctrl[a + 7], ctrl[a + 8], ctrl[a + 9], ctrl[a + 10], ctrl[a + 11]);
      ctrl[s + ${FAILED}] = 0;
    } catch (e) {
      ctrl[s + ${FAILED}] = 1;
    }
    Atomics.store(ctrl, s + ${DONE}, seq);
    Atomics.notify(ctrl, s + ${DONE});
    idleSince = now();
  }
}
if (typeof self === 'undefined' && typeof require === 'function') {
  const { workerData } = require('node:worker_threads');
  serve(workerData.mod, workerData.memory, workerData.ctrl, workerData.slot);
} else {
  self.onmessage = (e) => serve(e.data.mod, e.data.memory, e.data.ctrl, e.data.slot);
}
`;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', cb: (e: unknown) => void): void;
}
type NodeWorkerCtor = new (
  src: string,
  opts: { eval: true; workerData: unknown; stdout?: boolean; stderr?: boolean },
) => NodeWorker;
interface WebWorker {
  postMessage(data: unknown): void;
  terminate(): void;
}

/** How the host can run threads: Node worker_threads, browser Workers, or not at all (and why). */
export function threadSupport(): { ok: true; kind: 'node' | 'browser' } | { ok: false; reason: string } {
  const g = globalThis as {
    SharedArrayBuffer?: unknown;
    crossOriginIsolated?: boolean;
    Worker?: unknown;
    process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } };
  };
  if (typeof g.SharedArrayBuffer === 'undefined')
    return { ok: false, reason: 'SharedArrayBuffer is unavailable (browsers need cross-origin isolation)' };
  if (g.process?.versions?.node) {
    if (typeof g.process.getBuiltinModule !== 'function')
      return {
        ok: false,
        reason: 'this Node.js has no process.getBuiltinModule (Node >= 20.16 needed for threads)',
      };
    return { ok: true, kind: 'node' };
  }
  if (g.crossOriginIsolated !== true)
    return {
      ok: false,
      reason: 'the page is not cross-origin isolated (COOP/COEP headers), so no shared memory',
    };
  if (typeof g.Worker !== 'function') return { ok: false, reason: 'Web Workers are unavailable' };
  return { ok: true, kind: 'browser' };
}

/** Whether this thread may block in `Atomics.wait` (Node's main thread may; a browser's may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A fixed set of workers serving GEMM slabs. Workers start in the background; a slab goes only
 * to workers that have reported ready, so the first calls may run on fewer threads.
 */
export class GemmThreads {
  private readonly ctrl: Int32Array;
  private readonly handles: (NodeWorker | WebWorker)[] = [];
  private readonly blocking: boolean;
  private seq = 0;
  private closed = false;

  constructor(
    mod: WebAssembly.Module,
    memory: WebAssembly.Memory,
    readonly workers: number,
    kind: 'node' | 'browser',
  ) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * SLOT_WORDS * (workers + 1)));
    this.blocking = canBlock();
    for (let w = 1; w <= workers; w++) {
      const data = { mod, memory, ctrl: this.ctrl, slot: w };
      if (kind === 'node') {
        const wt = (
          globalThis as { process: { getBuiltinModule(id: string): { Worker: NodeWorkerCtor } } }
        ).process.getBuiltinModule('node:worker_threads');
        const worker = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data });
        worker.on('error', () => {
          // A worker that dies never reports ready again; its slabs stay on the calling thread.
          Atomics.store(this.ctrl, w * SLOT_WORDS + READY, 0);
        });
        worker.unref();
        this.handles.push(worker);
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
        const worker = new (globalThis as unknown as { Worker: new (u: string) => WebWorker }).Worker(url);
        worker.postMessage(data);
        this.handles.push(worker);
      }
    }
  }

  /** Workers that have instantiated the module and wait for work. */
  ready(): number[] {
    const out: number[] = [];
    if (this.closed) return out;
    for (let w = 1; w <= this.workers; w++)
      if (Atomics.load(this.ctrl, w * SLOT_WORDS + READY) === 1) out.push(w);
    return out;
  }

  /** Blocks until worker `w` has started (tests; a timeout in ms). */
  waitReady(w: number, timeoutMs: number): boolean {
    const i = w * SLOT_WORDS + READY;
    const end = Date.now() + timeoutMs;
    while (Atomics.load(this.ctrl, i) !== 1) {
      if (Date.now() > end) return false;
      if (this.blocking) Atomics.wait(this.ctrl, i, 0, 10);
    }
    return true;
  }

  /** Posts one GEMM slab (the wasm `gemm` arguments) to worker `w`; returns the ticket to wait on. */
  post(w: number, args: readonly number[]): number {
    const s = w * SLOT_WORDS;
    const seq = ++this.seq;
    for (let i = 0; i < args.length; i++) this.ctrl[s + ARGS + i] = args[i];
    Atomics.store(this.ctrl, s + CLAIM, seq);
    Atomics.store(this.ctrl, s + SEQ, seq);
    Atomics.notify(this.ctrl, s + SEQ);
    return seq;
  }

  /**
   * Takes ticket `seq` back from worker `w` if the worker has not started it (it was not
   * scheduled in time, e.g. on a loaded machine): true when the caller must now run the slab
   * itself, false when the worker has it (then {@link GemmThreads.wait} for it).
   */
  reclaim(w: number, seq: number): boolean {
    return Atomics.compareExchange(this.ctrl, w * SLOT_WORDS + CLAIM, seq, 0) === seq;
  }

  /** Waits for worker `w` to finish ticket `seq`; false when its slab trapped. */
  wait(w: number, seq: number): boolean {
    const i = w * SLOT_WORDS + DONE;
    // The worker usually finishes within microseconds of the caller's own slab: poll first.
    const spinUntil = performance.now() + 2;
    for (;;) {
      const d = Atomics.load(this.ctrl, i);
      if (d === seq) break;
      if (this.blocking && performance.now() > spinUntil) Atomics.wait(this.ctrl, i, d, 1000);
    }
    return this.ctrl[w * SLOT_WORDS + FAILED] === 0;
  }

  /** Stops every worker. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let w = 1; w <= this.workers; w++) {
      Atomics.store(this.ctrl, w * SLOT_WORDS + SEQ, -1);
      Atomics.notify(this.ctrl, w * SLOT_WORDS + SEQ);
    }
    for (const h of this.handles) void h.terminate();
  }
}

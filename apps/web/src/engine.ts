// The page's handle on the training code: in a Web Worker (wasm, cpu) or on the page's thread (gl,
// see inline.ts), behind one interface.
import type {
  BackendChoice,
  EngineInfo,
  Reply,
  Request,
  TrainEvent,
  TrainOptions,
  TrainResult,
} from './protocol.js';
import type { Session } from './session.js';

/** What the backend menu offers. */
export type BackendRequest = BackendChoice | 'auto';

/** Automatic selection's answer, when the backend was 'auto'. */
export interface AutoChoice {
  readonly name: string;
  readonly reason: string;
  readonly renderer: string;
  readonly softwareRenderer?: boolean;
}

export interface Engine {
  readonly info: EngineInfo;
  readonly auto: AutoChoice | null;
  train(options: TrainOptions, onEvent: (e: TrainEvent) => void): Promise<TrainResult>;
  predict(pixels: Float32Array): Promise<number[]>;
  stop(): void;
  dispose(): void;
}

type Call = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

class WorkerEngine implements Engine {
  private readonly worker: Worker;
  private next = 1;
  private readonly calls = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  private onEvent: ((e: TrainEvent) => void) | null = null;
  info!: EngineInfo;

  private constructor(readonly auto: AutoChoice | null) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
      const r = e.data;
      if (r.type === 'event') {
        this.onEvent?.(r.event);
        return;
      }
      const call = this.calls.get(r.id);
      this.calls.delete(r.id);
      if (r.type === 'ok') call?.ok(r.value);
      else call?.fail(new Error(r.message));
    };
    this.worker.onerror = (e) => {
      const err = new Error(`the training worker failed: ${e.message || 'it could not load'}`);
      for (const c of this.calls.values()) c.fail(err);
      this.calls.clear();
    };
  }

  static async open(backend: BackendChoice, base: string, auto: AutoChoice | null): Promise<WorkerEngine> {
    const e = new WorkerEngine(auto);
    try {
      e.info = (await e.call({ type: 'init', backend, base })) as EngineInfo;
    } catch (err) {
      e.dispose();
      throw err;
    }
    return e;
  }

  private call(req: Call, transfer: Transferable[] = []): Promise<unknown> {
    const id = this.next++;
    return new Promise((ok, fail) => {
      this.calls.set(id, { ok, fail });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async train(options: TrainOptions, onEvent: (e: TrainEvent) => void): Promise<TrainResult> {
    this.onEvent = onEvent;
    try {
      return (await this.call({ type: 'train', options })) as TrainResult;
    } finally {
      this.onEvent = null;
    }
  }

  async predict(pixels: Float32Array): Promise<number[]> {
    return (await this.call({ type: 'predict', pixels })) as number[];
  }

  stop(): void {
    void this.call({ type: 'stop' }).catch(() => {});
  }

  dispose(): void {
    this.worker.terminate();
    const err = new Error('the training worker was closed');
    for (const c of this.calls.values()) c.fail(err);
    this.calls.clear();
  }
}

/** A yield to the event loop: the page paints, handles input and runs its timers between steps. */
const yieldToPage = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

class PageEngine implements Engine {
  readonly info: EngineInfo;
  constructor(
    private readonly session: Session,
    readonly auto: AutoChoice | null,
  ) {
    this.info = session.info();
  }
  train(options: TrainOptions, onEvent: (e: TrainEvent) => void): Promise<TrainResult> {
    return this.session.train(options, onEvent, yieldToPage);
  }
  async predict(pixels: Float32Array): Promise<number[]> {
    return this.session.predict(pixels);
  }
  stop(): void {
    this.session.stop();
  }
  dispose(): void {
    this.session.dispose();
  }
}

const autoOf = (i: AutoChoice): AutoChoice => ({
  name: i.name,
  reason: i.reason,
  renderer: i.renderer,
  ...(i.softwareRenderer !== undefined ? { softwareRenderer: i.softwareRenderer } : {}),
});

/**
 * Opens the training code on `backend`: wasm and cpu in a Web Worker; gl on the page's thread;
 * 'auto' runs automatic selection on the page's thread (so that it can probe WebGL) and then
 * trains where the chosen backend runs.
 */
export async function openEngine(backend: BackendRequest, base: string): Promise<Engine> {
  if (backend === 'wasm' || backend === 'cpu') return WorkerEngine.open(backend, base, null);
  const inline = await import('./inline.js');
  if (backend === 'gl') return new PageEngine(await inline.openGl(base), null);
  const { auto, session } = await inline.selectAuto(base);
  if (session) return new PageEngine(session, autoOf(auto));
  const name = auto.name;
  if (name !== 'wasm' && name !== 'cpu')
    throw new Error(`automatic selection chose '${name}', which this page cannot run in a worker`);
  return WorkerEngine.open(name as BackendChoice, base, autoOf(auto));
}

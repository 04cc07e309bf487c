// The training worker: a Session (session.ts) driven by messages from the page (engine.ts). Used
// for the wasm and cpu backends. (The gl backend of @gradkit/kernels starts only where a DOM
// `document` exists, so WebGL training runs on the page's thread: inline.ts.)
import type { Reply, Request } from './protocol.js';
import { Session } from './session.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply): void;
}
const scope = globalThis as unknown as WorkerScope;

let session: Session | null = null;

// Between training steps: a round trip through a MessageChannel lets queued messages (predict,
// stop) run without setTimeout's clamping.
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
const pause = () =>
  new Promise<void>((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });

const need = (): Session => {
  if (!session) throw new Error('the worker has no session yet (init first)');
  return session;
};

async function handle(req: Request): Promise<unknown> {
  switch (req.type) {
    case 'init':
      session?.dispose();
      session = null;
      session = await Session.create(req.backend, req.base, 'worker');
      return session.info();
    case 'train':
      return need().train(req.options, (event) => scope.postMessage({ id: -1, type: 'event', event }), pause);
    case 'predict':
      return need().predict(req.pixels);
    case 'stop':
      need().stop();
      return null;
  }
}

scope.onmessage = (e) => {
  const req = e.data;
  handle(req).then(
    (value) => scope.postMessage({ id: req.id, type: 'ok', value }),
    (err: unknown) =>
      scope.postMessage({
        id: req.id,
        type: 'error',
        message: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      }),
  );
};

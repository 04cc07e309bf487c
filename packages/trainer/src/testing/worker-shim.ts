// Runs the README's Web Worker recipe (train-worker.ts) in a Node worker_threads worker: the
// worker globals it uses (self, onmessage, postMessage) are mapped onto parentPort.
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('worker-shim: not in a worker thread');
const scope = globalThis as unknown as {
  self: unknown;
  onmessage: ((event: { data: unknown }) => unknown) | null;
  postMessage: (message: unknown, options?: { transfer?: ArrayBuffer[] }) => void;
};
scope.self = globalThis;
scope.postMessage = (message, options) => port.postMessage(message, options?.transfer ?? []);
port.on('message', (data) => scope.onmessage?.({ data }));
await import('./train-worker.js');

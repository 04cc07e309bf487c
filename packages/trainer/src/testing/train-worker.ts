import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import { type Callback, Dataset, encodeCheckpoint, Trainer } from '@gradkit/trainer';

// worker.ts: trains off the page's thread and reports progress with postMessage.
let controller: AbortController | null = null;

self.onmessage = async (event: MessageEvent) => {
  const msg = event.data;
  if (msg.type === 'stop') controller?.abort();
  if (msg.type !== 'train') return;
  const data = new Dataset({ features: msg.features, labels: msg.labels, numFeatures: msg.numFeatures });
  const model = buildModel([
    { type: 'linear', in: msg.numFeatures, out: 64 },
    { type: 'relu' },
    { type: 'linear', in: 64, out: data.numClasses },
  ]);
  const trainer = new Trainer({ model, optimizer: adam(model, { lr: 1e-3 }) });
  const progress: Callback = {
    name: 'progress',
    onBatchEnd: (b) => postMessage({ type: 'batch', epoch: b.epoch, done: b.batch + 1, of: b.numBatches }),
    onEpochEnd: (epoch, logs) => postMessage({ type: 'epoch', epoch, logs }),
  };
  controller = new AbortController();
  try {
    // fitAsync: the worker keeps reading messages ('stop') while it trains
    const history = await trainer.fitAsync(data, {
      epochs: msg.epochs,
      validationSplit: 0.1,
      callbacks: [progress],
      signal: controller.signal,
    });
    const checkpoint = encodeCheckpoint(trainer.checkpoint()); // a Uint8Array: store it, resume from it
    postMessage({ type: 'done', history, checkpoint }, { transfer: [checkpoint.buffer] });
  } catch (e) {
    postMessage({ type: 'error', name: (e as Error).name, message: (e as Error).message });
  }
};

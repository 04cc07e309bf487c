// The page: controls, the live chart, the drawing pad. Training runs behind an Engine (engine.ts):
// in a Web Worker for wasm and cpu, on this thread (yielding between steps) for gl.
//
// Query parameters preset the controls: ?backend=wasm&model=lenet5&epochs=2&lr=0.001&batch=64&images=1000.
// The page's state is published on window.__demo for scripts (the browser test reads it).
import { LiveChart } from './chart.js';
import { DrawingPad, paintImage } from './draw.js';
import { type BackendRequest, type Engine, openEngine } from './engine.js';
import type { ModelName, TrainEvent, TrainOptions, TrainResult } from './protocol.js';

/** What the page publishes for scripts. */
interface DemoState {
  /** An engine is open and idle: Train may be clicked. */
  ready: boolean;
  training: boolean;
  /** The backend menu's value, and what the engine reports. */
  backendRequest: BackendRequest;
  engine: Engine['info'] | null;
  auto: Engine['auto'];
  /** Chart points received in the current run, and drawn on the canvas so far. */
  points: number;
  drawnPoints: number;
  /** Progress events received, and the last one. */
  events: number;
  lastEvent: TrainEvent | null;
  /** performance.now() when the current run's first progress event arrived. */
  firstEventAt: number | null;
  /** Test accuracy after each epoch of the current run. */
  epochs: number[];
  result: (TrainResult & { options: TrainOptions }) | null;
  prediction: { digit: number; probs: number[] } | null;
  /** Predictions answered so far. */
  predictions: number;
  error: string | null;
}

const state: DemoState = {
  ready: false,
  training: false,
  backendRequest: 'auto',
  engine: null,
  auto: null,
  points: 0,
  drawnPoints: 0,
  events: 0,
  lastEvent: null,
  firstEventAt: null,
  epochs: [],
  result: null,
  prediction: null,
  predictions: 0,
  error: null,
};
(window as unknown as { __demo: DemoState }).__demo = state;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};
const ui = {
  backend: $<HTMLSelectElement>('backend'),
  model: $<HTMLSelectElement>('model'),
  epochs: $<HTMLInputElement>('epochs'),
  lr: $<HTMLInputElement>('lr'),
  batch: $<HTMLSelectElement>('batch'),
  images: $<HTMLSelectElement>('images'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  progress: $<HTMLProgressElement>('progress'),
  status: $<HTMLParagraphElement>('status'),
  testAccuracy: $('test-accuracy'),
  engineBackend: $('engine-backend'),
  engineReason: $('engine-reason'),
  engineRenderer: $('engine-renderer'),
  engineThread: $('engine-thread'),
  dataSize: $('data-size'),
  predicted: $('predicted'),
  probs: $<HTMLOListElement>('probs'),
  seen: $<HTMLCanvasElement>('seen'),
  footer: $('footer'),
  runs: $<HTMLTableElement>('runs'),
};
const chart = new LiveChart($<HTMLCanvasElement>('chart'), (n) => {
  state.drawnPoints = n;
});
const base = new URL('./', location.href).href;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function setStatus(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', error);
}
function fail(where: string, e: unknown): void {
  const msg = `${where}: ${e instanceof Error ? e.message : String(e)}`;
  state.error = msg;
  setStatus(msg, true);
  console.error(msg);
}

// Presets from the query string.
const query = new URLSearchParams(location.search);
for (const [key, el] of [
  ['backend', ui.backend],
  ['model', ui.model],
  ['epochs', ui.epochs],
  ['lr', ui.lr],
  ['batch', ui.batch],
] as const) {
  const v = query.get(key);
  if (v !== null) el.value = v;
}

// ---- the engine ---------------------------------------------------------------------------------
let engine: Engine | null = null;

function showEngine(e: Engine | null): void {
  const i = e?.info;
  if (!e || !i) {
    ui.engineBackend.textContent = '–';
    ui.engineReason.textContent = '–';
    ui.engineRenderer.textContent = '–';
    ui.engineThread.textContent = '–';
    return;
  }
  const b = i.backend;
  ui.engineBackend.textContent = `${b.name} (${b.gpuMode})${b.softwareRenderer ? ', software rasterizer' : ''}`;
  ui.engineReason.textContent = e.auto ? e.auto.reason : b.reason;
  ui.engineRenderer.textContent = b.renderer;
  ui.engineThread.textContent =
    (i.thread === 'worker'
      ? 'a Web Worker (the page stays free)'
      : 'this page, yielding between steps (gl needs the page: gradkit’s WebGL backend does not start in a worker)') +
    `; cross-origin isolated: ${i.crossOriginIsolated ? 'yes' : 'no'}`;
}

function fillImages(count: number): void {
  const preset = query.get('images');
  ui.images.replaceChildren();
  for (const n of [count, 3000, 1000].filter((n, k, all) => n <= count && all.indexOf(n) === k)) {
    const o = document.createElement('option');
    o.value = String(n);
    o.textContent = n === count ? `all ${n.toLocaleString('en')}` : n.toLocaleString('en');
    ui.images.append(o);
  }
  if (preset !== null) ui.images.value = preset;
}

function open(backend: BackendRequest): Promise<void> {
  state.ready = false;
  state.backendRequest = backend;
  state.engine = null;
  state.auto = null;
  state.error = null;
  ui.train.disabled = true;
  engine?.dispose();
  engine = null;
  showEngine(null);
  ui.engineBackend.textContent = backend === 'auto' ? 'choosing…' : `starting ${backend}…`;
  setStatus(`Starting the ${backend} backend and loading the images…`);
  return (async () => {
    try {
      const e = await openEngine(backend, base);
      if (state.backendRequest !== backend) {
        e.dispose(); // the menu changed meanwhile
        return;
      }
      engine = e;
      state.engine = e.info;
      state.auto = e.auto;
      showEngine(e);
      ui.dataSize.textContent = `${e.info.trainCount.toLocaleString('en')} training and ${e.info.testCount.toLocaleString('en')} test images`;
      ui.footer.textContent = `Images: ${e.info.source}.`;
      if (ui.images.options.length === 0) fillImages(e.info.trainCount);
      state.ready = true;
      ui.train.disabled = false;
      setStatus(`Ready on ${e.info.backend.name}. Press Train.`);
    } catch (err) {
      ui.engineBackend.textContent = `${backend}: cannot start`;
      fail('The backend could not start', err);
    }
  })();
}

ui.backend.addEventListener('change', () => {
  if (!state.training) void open(ui.backend.value as BackendRequest);
});

// ---- training -----------------------------------------------------------------------------------
function options(): TrainOptions {
  return {
    model: ui.model.value as ModelName,
    epochs: Number(ui.epochs.value),
    lr: Number(ui.lr.value),
    batchSize: Number(ui.batch.value),
    trainImages: Number(ui.images.value),
    seed: 1,
  };
}

function setTraining(on: boolean): void {
  state.training = on;
  ui.train.disabled = on;
  ui.stop.disabled = !on;
  ui.backend.disabled = on;
  for (const el of [ui.model, ui.epochs, ui.lr, ui.batch, ui.images]) el.disabled = on;
}

async function train(): Promise<void> {
  if (!engine || state.training) return;
  const o = options();
  const stepsPerEpoch = Math.floor(o.trainImages / o.batchSize);
  const total = stepsPerEpoch * o.epochs;
  state.points = 0;
  state.events = 0;
  state.lastEvent = null;
  state.firstEventAt = null;
  state.epochs = [];
  state.result = null;
  state.error = null;
  chart.reset(total);
  ui.progress.max = total;
  ui.progress.value = 0;
  ui.testAccuracy.textContent = '–';
  setTraining(true);
  setStatus(`Training ${o.model === 'mlp' ? 'the MLP' : 'LeNet-5'} on ${engine.info.backend.name}…`);
  const onEvent = (ev: TrainEvent) => {
    state.events++;
    state.lastEvent = ev;
    state.firstEventAt ??= performance.now();
    if (ev.type === 'progress') {
      chart.add(ev.totalStep, ev.loss, ev.accuracy);
      state.points = chart.points;
      ui.progress.value = ev.totalStep;
      const rate = (ev.totalStep * o.batchSize) / (ev.elapsedMs / 1000);
      setStatus(
        `Epoch ${ev.epoch}/${ev.epochs}, step ${ev.step}/${ev.steps}: loss ${ev.loss.toFixed(3)}, ` +
          `accuracy ${pct(ev.accuracy)} (${Math.round(rate)} images/s)`,
      );
    } else {
      state.epochs.push(ev.testAccuracy);
      chart.addTest(ev.epoch * stepsPerEpoch, ev.testAccuracy);
      ui.testAccuracy.textContent = `${pct(ev.testAccuracy)} after epoch ${ev.epoch}`;
    }
  };
  try {
    const r = await engine.train(o, onEvent);
    state.result = { ...r, options: o };
    ui.testAccuracy.textContent = `${pct(r.testAccuracy)} on ${engine.info.testCount.toLocaleString('en')} test images`;
    setStatus(
      `${r.stopped ? 'Stopped' : 'Done'}: ${r.steps} steps in ${(r.ms / 1000).toFixed(1)} s on ` +
        `${engine.info.backend.name}; test loss ${r.testLoss.toFixed(3)}. Draw a digit below.`,
    );
    addRun(engine.info.backend.name, o, r);
    void predict();
  } catch (e) {
    fail('training', e);
  } finally {
    setTraining(false);
  }
}

/** One row of the runs table: to compare backends and models side by side. */
function addRun(backend: string, o: TrainOptions, r: TrainResult): void {
  const row = document.createElement('tr');
  const cells = [
    backend,
    o.model === 'mlp' ? 'MLP' : 'LeNet-5',
    String(o.epochs),
    o.trainImages.toLocaleString('en'),
    (r.steps / (r.ms / 1000)).toFixed(1),
    `${(r.ms / 1000).toFixed(1)} s`,
    `${pct(r.testAccuracy)}${r.stopped ? ' (stopped)' : ''}`,
  ];
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    row.append(td);
  }
  ui.runs.tBodies[0].prepend(row);
  ui.runs.hidden = false;
}

ui.train.addEventListener('click', () => void train());
ui.stop.addEventListener('click', () => engine?.stop());

// ---- drawing and prediction ---------------------------------------------------------------------
for (let d = 0; d < 10; d++) {
  const li = document.createElement('li');
  li.innerHTML = `<span>${d}</span><span class="bar"><span style="width:0%"></span></span><span class="p">–</span>`;
  ui.probs.append(li);
}

let predicting = false;
let again = false;
async function predict(): Promise<void> {
  const pixels = pad.image();
  paintImage(ui.seen, pixels);
  if (!pixels || !engine) {
    if (!pixels) showProbs(null);
    return;
  }
  if (predicting) {
    again = true;
    return;
  }
  predicting = true;
  try {
    const probs = await engine.predict(pixels);
    showProbs(probs);
  } catch (e) {
    fail('prediction', e);
  } finally {
    predicting = false;
    if (again) {
      again = false;
      void predict();
    }
  }
}

function showProbs(probs: number[] | null): void {
  const top = probs ? probs.indexOf(Math.max(...probs)) : -1;
  state.prediction = probs ? { digit: top, probs } : null;
  if (probs) state.predictions++;
  ui.predicted.textContent = probs ? String(top) : '–';
  [...ui.probs.children].forEach((li, d) => {
    const p = probs?.[d] ?? 0;
    li.classList.toggle('top', d === top);
    (li.querySelector('.bar span') as HTMLElement).style.width = `${(100 * p).toFixed(1)}%`;
    (li.querySelector('.p') as HTMLElement).textContent = probs ? pct(p) : '–';
  });
}

const pad = new DrawingPad($<HTMLCanvasElement>('pad'), () => void predict());
$('clear').addEventListener('click', () => {
  pad.clear();
  void predict();
});

void open(ui.backend.value as BackendRequest);

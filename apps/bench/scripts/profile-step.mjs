// Where one MNIST MLP training step's time goes on the wasm or cpu backend (issue 15): every
// backend call of Trainer.fit's step timed and grouped (each matrix product by shape, each
// element-wise kernel by name, reductions by op and shape), the rest of the step (JavaScript:
// autograd, tensors, the optimizer's bookkeeping, the trainer, the batch copy) as the difference,
// and the same step on a model with 4-unit hidden layers, whose kernels are nearly free, as a
// second estimate of the JavaScript per step.
//
//   pnpm build   # the script runs the built dist of kernels, tensor, nn, optimizers, trainer
//   node apps/bench/scripts/profile-step.mjs [--backend wasm] [--threads 1] [--steps 200]
//        [--rounds 5] [--hidden 256] [--batch 128] [--json out.json]
//
// Rounds alternate an unwrapped run (the step's real time) and a wrapped one (per-call times; the
// wrapping adds about 0.1 us per call). Each figure is the median over the rounds of a per-step
// mean, so a busy machine shows up as spread between rounds, printed as [min-max].
import { writeFileSync } from 'node:fs';
import { createDevice, Rng, setDevice } from '@gradkit/kernels';
import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import { registerStandardLayers, Trainer } from '@gradkit/trainer';
import { loadMnist } from '@gradkit/trainer/node';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const backend = arg('backend', 'wasm');
const threads = Number(arg('threads', '1'));
const steps = Number(arg('steps', '200'));
const rounds = Number(arg('rounds', '5'));
const hidden = Number(arg('hidden', '256'));
const batch = Number(arg('batch', '128'));
const jsonOut = arg('json', null);
for (const [k, v] of Object.entries({ threads, steps, rounds, hidden, batch }))
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`profile-step: --${k} must be a positive integer, got ${v}`);

const d = createDevice({ backend, threads });
setDevice(d);
registerStandardLayers();
const train = loadMnist({ split: 'train', normalize: 'unit' });
const rows = (n) => Array.from({ length: n }, (_, i) => i % train.length);
const data = train.subset(rows(batch * steps));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const spread = (xs) =>
  `${median(xs).toFixed(3)} [${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}]`;

/** A trainer for 784-h-h-10 ReLU with Adam, warmed up (every kernel compiled). */
function trainerFor(h) {
  const model = buildModel(
    [
      { type: 'linear', in: 784, out: h },
      { type: 'relu' },
      { type: 'linear', in: h, out: h },
      { type: 'relu' },
      { type: 'linear', in: h, out: 10 },
    ],
    { rng: new Rng(1) },
  );
  const t = new Trainer({ model, optimizer: adam(model, { lr: 1e-3 }) });
  t.fit(train.subset(rows(batch * 20)), { epochs: 1, batchSize: batch, shuffle: false });
  return t;
}

/** Runs `steps` steps; the mean ms per step between the first and the last batch end. */
function run(t) {
  let first = 0;
  let last = 0;
  let n = 0;
  const cb = {
    name: 'profile-step',
    onBatchEnd() {
      last = performance.now();
      if (n++ === 0) first = last;
    },
  };
  t.fit(data, { epochs: t.epoch + 1, batchSize: batch, shuffle: false, callbacks: [cb] });
  return (last - first) / (n - 1);
}

// Wrapping: every method of the backend, timed at the outermost call.
const be = d.backend;
const methods = new Set();
for (let p = Object.getPrototypeOf(be); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
  for (const k of Object.getOwnPropertyNames(p))
    if (k !== 'constructor' && typeof be[k] === 'function') methods.add(k);
const original = new Map([...methods].map((k) => [k, be[k]]));
const calls = new Map();
let depth = 0;
const keyOf = (k, a) => {
  if (k === 'matmul') return `matmul ${a[2]}x${a[3]}x${a[4]}${a[5] ? ' A^T' : ''}${a[6] ? ' B^T' : ''}`;
  if (k === 'map') return `map ${a[0].name}`;
  if (k === 'mapMulti') return `mapMulti ${a[0][0].name}`;
  if (k === 'reduce') return `reduce ${a[0]} [${a[2].join(',')}] axes ${a[3].join(',')}`;
  return k;
};
function wrap(on) {
  for (const k of methods) {
    const f = original.get(k);
    be[k] = on
      ? function (...a) {
          if (depth > 0) return f.apply(this, a);
          depth++;
          const t0 = performance.now();
          try {
            return f.apply(this, a);
          } finally {
            const dt = performance.now() - t0;
            depth--;
            const key = keyOf(k, a);
            const c = calls.get(key) ?? { n: 0, ms: 0 };
            c.n++;
            c.ms += dt;
            calls.set(key, c);
          }
        }
      : f;
  }
}

const big = trainerFor(hidden);
const tiny = trainerFor(4);
const stepMs = [];
const tinyMs = [];
const perRound = [];
for (let r = 0; r < rounds; r++) {
  wrap(false);
  stepMs.push(run(big));
  tinyMs.push(run(tiny));
  calls.clear();
  wrap(true);
  const t0 = performance.now();
  run(big);
  const wall = performance.now() - t0;
  wrap(false);
  perRound.push({ wall, calls: new Map([...calls].map(([k, v]) => [k, { ...v }])) });
}

// per key: median over rounds of ms per step
const keys = new Set(perRound.flatMap((r) => [...r.calls.keys()]));
const rowsOut = [...keys].map((key) => {
  const ms = perRound.map((r) => (r.calls.get(key)?.ms ?? 0) / steps);
  const n = perRound.map((r) => (r.calls.get(key)?.n ?? 0) / steps);
  return { key, callsPerStep: median(n), ms: median(ms), msAll: ms };
});
rowsOut.sort((a, b) => b.ms - a.ms);
const inBackend = perRound.map((r) => [...r.calls.values()].reduce((s, c) => s + c.ms, 0) / steps);
const gemm = perRound.map(
  (r) => [...r.calls].filter(([k]) => k.startsWith('matmul')).reduce((s, [, c]) => s + c.ms, 0) / steps,
);
const step = median(stepMs);
const info = d.info();
console.log(
  `MNIST MLP 784-${hidden}-${hidden}-10, Adam, batch ${batch}: ${backend}, ${threads} thread(s), ` +
    `${steps} steps x ${rounds} rounds; ${info.renderer}`,
);
console.log(`step (unwrapped)            ${spread(stepMs)} ms`);
console.log(`  in backend calls          ${spread(inBackend)} ms (wrapped rounds)`);
console.log(`    of which matmul         ${spread(gemm)} ms`);
console.log(`  outside the backend       ${(step - median(inBackend)).toFixed(3)} ms (step - in backend)`);
console.log(`step of 784-4-4-10          ${spread(tinyMs)} ms (kernels nearly free: JavaScript per step)`);
console.log('');
console.log('| backend call | calls/step | ms/step | us/call |');
console.log('|---|---:|---:|---:|');
for (const r of rowsOut) {
  console.log(
    `| ${r.key} | ${r.callsPerStep.toFixed(2)} | ${r.ms.toFixed(3)} | ${((1000 * r.ms) / r.callsPerStep).toFixed(1)} |`,
  );
}
if (jsonOut) {
  writeFileSync(
    jsonOut,
    JSON.stringify(
      {
        backend,
        threads,
        steps,
        rounds,
        hidden,
        batch,
        renderer: info.renderer,
        stepMs,
        tinyMs,
        inBackend,
        gemm,
        calls: rowsOut,
      },
      null,
      2,
    ),
  );
}
d.destroy();

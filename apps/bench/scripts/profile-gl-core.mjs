// The profiled workload of profile-gl.mjs, shared by its Node run and its browser page: apps/bench's
// MNIST MLP step (784-256-256-10 relu, adam lr 1e-3, softmax cross-entropy on logits, batch 128,
// Trainer.fit with Trainer's defaults for reading the loss) on a gl device, and the table.
import { Rng } from '@gradkit/kernels';
import { profileGl } from '@gradkit/kernels/gl';
import { buildModel } from '@gradkit/nn';
import { adam } from '@gradkit/optimizers';
import { Dataset, Trainer } from '@gradkit/trainer';

export const BATCH = 128;
export const LAYERS = [784, 256, 256, 10];

/**
 * Trains `warmup` steps (compiles every kernel), then `rounds` times: `steps` steps unprofiled,
 * then `steps` steps profiled (alternating, as the machine may be loaded). `features` holds at
 * least `max(steps, warmup) * 128` rows of 784 values, `labels` their classes.
 */
export function profileMlp({ device, features, labels, steps, warmup, rounds, sync }) {
  const rows = (n) =>
    new Dataset({
      features: features.subarray(0, n * BATCH * 784),
      labels: labels.subarray(0, n * BATCH),
      numFeatures: 784,
      numClasses: 10,
    });
  const data = rows(steps);
  const warm = rows(warmup);
  const layers = [];
  for (let l = 0; l + 1 < LAYERS.length; l++) {
    layers.push({ type: 'linear', in: LAYERS[l], out: LAYERS[l + 1] });
    if (l + 2 < LAYERS.length) layers.push({ type: 'relu' });
  }
  const model = buildModel(layers, { rng: new Rng(1) });
  const trainer = new Trainer({ model, optimizer: adam(model, { lr: 1e-3 }) });
  // fit's `epochs` counts in total (a trainer continues from its epoch): one more epoch per call
  let epochs = 0;
  let loss = Number.NaN;
  const fit = (ds) => {
    const h = trainer.fit(ds, { epochs: ++epochs, batchSize: BATCH, shuffle: false });
    loss = h.epochs[h.epochs.length - 1].logs.loss;
  };
  fit(warm);
  const unprofiled = [];
  const cpuMs = [];
  const profiles = [];
  // CPU time of the whole process (JS and, on llvmpipe, the rasterizer's threads): less sensitive
  // than wall time to other work on a shared machine; absent in a browser
  const cpuUsage = globalThis.process?.cpuUsage;
  for (let r = 0; r < rounds; r++) {
    const c0 = cpuUsage?.();
    const t0 = performance.now();
    fit(data);
    unprofiled.push((performance.now() - t0) / steps);
    if (c0) {
      const c = cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000 / steps);
    }
    profiles.push(profileGl(device, () => fit(data), { sync }).profile);
  }
  model.dispose();
  return { info: device.info(), steps, warmup, rounds, sync, unprofiled, cpuMs, profiles, lastLoss: loss };
}

/** The per-kernel table (Markdown) and the per-step summary of a profileMlp result. */
export function formatProfile(res) {
  const { profiles, rounds, unprofiled, info, sync, cpuMs = [] } = res;
  const steps = res.steps * rounds;
  const kernels = new Map();
  const total = {};
  for (const p of profiles) {
    for (const [k, v] of Object.entries(p)) if (typeof v === 'number') total[k] = (total[k] ?? 0) + v;
    for (const k of p.kernels) {
      const m = kernels.get(k.name) ?? {
        name: k.name,
        launches: 0,
        compiles: 0,
        ms: 0,
        allocs: 0,
        up: 0,
        upBytes: 0,
      };
      m.launches += k.launches;
      m.compiles += k.compiles;
      m.ms += k.ms;
      m.allocs += k.textureAllocations;
      m.up += k.texUploads;
      m.upBytes += k.texUploadBytes;
      kernels.set(k.name, m);
    }
  }
  const per = (x) => x / steps;
  const f = (x, dp = 2) => x.toFixed(dp);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = [];
  out.push(
    `gl profile: MLP ${LAYERS.join('-')} relu, adam, batch ${BATCH}, softmax cross-entropy (Trainer.fit)`,
  );
  out.push(`renderer: ${info.renderer} (${info.gpuMode}); sync per launch: ${sync}`);
  out.push(
    `${rounds} rounds x ${res.steps} steps after ${res.warmup} warm-up steps; compiles while profiling: ${total.compiles}; last loss ${f(res.lastLoss, 4)}`,
  );
  out.push(
    `ms/step unprofiled (per round): ${unprofiled.map((x) => f(x, 1)).join(', ')}; profiled: ` +
      `${profiles.map((p) => f(p.wallMs / res.steps, 1)).join(', ')} (in kernels ${f(per(total.kernelMs), 1)}, ` +
      `outside (JS, autograd, read-backs) ${f(per(total.wallMs - total.kernelMs), 1)})`,
  );
  if (cpuMs.length > 0) {
    out.push(
      `CPU ms/step unprofiled (process user + system, per round): ${cpuMs.map((x) => f(x, 1)).join(', ')}; ` +
        `min wall ${f(Math.min(...unprofiled), 1)}, min CPU ${f(Math.min(...cpuMs), 1)}`,
    );
  }
  out.push('');
  const head = [
    'kernel',
    'launches/step',
    'ms/step',
    'share',
    'ms/launch',
    'tex allocs/step',
    'uploads/step (KiB)',
  ];
  const table = [...kernels.values()]
    .sort((a, b) => b.ms - a.ms)
    .map((k) => [
      k.name,
      f(per(k.launches), 1),
      f(per(k.ms), 2),
      `${f((100 * k.ms) / total.kernelMs, 1)}%`,
      f(k.ms / Math.max(1, k.launches - k.compiles), 3),
      f(per(k.allocs), 1),
      k.up ? `${f(per(k.up), 1)} (${f(per(k.upBytes) / 1024, 1)})` : '',
    ]);
  table.push([
    'total',
    f(per(total.launches), 1),
    f(per(total.kernelMs), 2),
    '100%',
    f(total.kernelMs / Math.max(1, total.launches - total.compiles), 3),
    f(per(total.textureAllocations), 1),
    `${f(per(total.texUploads), 1)} (${f(per(total.texUploadBytes) / 1024, 1)})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (r) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  out.push(line(head));
  out.push(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of table) out.push(line(r));
  out.push('');
  out.push(
    `per step: ${f(per(total.launches), 1)} launches, ${f(per(total.programSwitches), 1)} program switches ` +
      `(${f(per(total.useProgramCalls), 1)} useProgram), ${f(per(total.programLinks), 2)} program links, ` +
      `${f(per(total.textureAllocations), 1)} texture allocations, ${f(per(total.textureDeletes), 1)} deletes, ` +
      `${f(per(total.textureReuses), 1)} launches into a reused texture; ` +
      `${f(per(total.uploads), 2)} uploads (${f(per(total.uploadBytes) / 1024, 1)} KiB; GL texImage with data ${f(per(total.texUploads), 2)}, ` +
      `${f(per(total.texUploadBytes) / 1024, 1)} KiB), ${f(per(total.reads), 2)} read-backs (${f(per(total.readBytes), 0)} B; ` +
      `readPixels ${f(per(total.readPixelsCalls), 2)}, ${f(per(total.readPixelsBytes), 0)} B)`,
  );
  out.push(`median unprofiled ms/step ${f(median(unprofiled), 1)}`);
  return out.join('\n');
}

// Browser test page (bundled by scripts/browser-test.mjs from the packed tarballs): trains a small
// MLP with @gradkit/tensor and Adam from @gradkit/optimizers on a fixed-seed synthetic regression,
// then runs the small CNN of ./cnn.js (against PyTorch, then training on), on gl also the timer
// part of ./timer.js (does `await t.data()` let a 16 ms timer run?), and publishes
// { backend, webgl, lossBefore, lossAfter, ..., cnn, timer } as window.__result and in #result.
// `?part=kernels` runs only ./kernels.js instead (every Device op against cpu) and publishes
// { part: 'kernels', backend, kernels }.
// `?backend=gl|wasm|cpu` calls setDevice() first; without it the backend is chosen automatically.
// The GPU backend is opt-in: importing @gradkit/kernels/gl registers it (it bundles gpu.js).
import '@gradkit/kernels/gl';
import { adam } from '@gradkit/optimizers';
import {
  backendInfo,
  linear,
  Module,
  memory,
  mseLoss,
  Rng,
  randn,
  scope,
  setDevice,
  tanh,
  zeros,
} from '@gradkit/tensor';
import { runCnn } from './cnn.js';
import { runKernelConformance } from './kernels.js';
import { runTimerDuringReads } from './timer.js';

const STEPS = 60;

class Mlp extends Module {
  w1 = this.registerParameter('w1', randn([16, 4], { std: 0.5, rng: new Rng(1) }));
  b1 = this.registerParameter('b1', zeros([16]));
  w2 = this.registerParameter('w2', randn([1, 16], { std: 0.25, rng: new Rng(2) }));
  b2 = this.registerParameter('b2', zeros([1]));
  forward(x) {
    return linear(linear(x, this.w1, this.b1, { activation: 'tanh' }), this.w2, this.b2);
  }
}

/** What this page's own WebGL context says, independent of gradkit (null when WebGL is off). */
function probeWebGl() {
  for (const kind of ['webgl2', 'webgl']) {
    const gl = document.createElement('canvas').getContext(kind);
    if (!gl) continue;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return {
      context: kind,
      renderer: String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)),
      vendor: String(gl.getParameter(ext ? ext.UNMASKED_VENDOR_WEBGL : gl.VENDOR)),
    };
  }
  return null;
}

function train() {
  const t0 = performance.now();
  const requested = new URLSearchParams(location.search).get('backend');
  if (requested) setDevice(requested);
  const info = backendInfo();
  const tReady = performance.now();

  const rng = new Rng(0);
  const x = randn([128, 4], { rng });
  // A nonlinear teacher: y = 2 tanh(x v) + 0.5, with v fixed by the seed.
  const target = scope(() =>
    tanh(x.matmul(randn([4, 1], { rng })))
      .mul(2)
      .add(0.5),
  );

  const model = new Mlp();
  const opt = adam(model, { lr: 0.03 });
  const losses = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = scope(() => {
      const l = mseLoss(model.forward(x), target);
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    });
    losses.push(loss.item());
    loss.dispose();
  }
  const tDone = performance.now();
  return {
    ok: true,
    backend: {
      name: info.name,
      reason: info.reason,
      gpuMode: info.gpuMode,
      renderer: info.renderer,
      maxTextureSize: info.maxTextureSize,
    },
    requested,
    webgl: probeWebGl(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    steps: STEPS,
    lossBefore: losses[0],
    lossAfter: losses.at(-1),
    liveTensors: memory().tensors,
    ms: { device: Math.round(tReady - t0), train: Math.round(tDone - tReady) },
    userAgent: navigator.userAgent,
  };
}

const describeError = (e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

const params = new URLSearchParams(location.search);
let result;
if (params.get('part') === 'kernels') {
  // only the kernel part (./kernels.js): every Device op on the requested device against cpu
  try {
    setDevice(params.get('backend') ?? 'gl');
    const info = backendInfo();
    result = {
      ok: true,
      part: 'kernels',
      backend: { name: info.name, gpuMode: info.gpuMode, renderer: info.renderer },
    };
    result.kernels = await runKernelConformance();
  } catch (e) {
    result = { ok: false, error: describeError(e) };
  }
} else {
  try {
    result = train();
  } catch (e) {
    result = { ok: false, error: describeError(e), webgl: probeWebGl() };
  }
}
if (result.ok && result.part !== 'kernels') {
  // The CNN runs after the MLP on the same default device; its failure is its own checks' failure.
  try {
    result.cnn = runCnn();
  } catch (e) {
    result.cnn = {
      ok: false,
      error: `${describeError(e)}${e instanceof Error && e.stack ? `\n${e.stack}` : ''}`,
    };
  }
}
if (result.ok && result.part !== 'kernels' && result.backend.name === 'gl') {
  // Last, so that its timer and its large products do not slow the parts before it.
  try {
    result.timer = await runTimerDuringReads();
  } catch (e) {
    result.timer = { ok: false, error: describeError(e) };
  }
}
window.__result = result;
document.getElementById('result').textContent = JSON.stringify(result, null, 2);

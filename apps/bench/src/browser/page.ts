// The browser benchmark page (bundled by run.ts with esbuild, opened in headless Chromium): one
// page load runs one job, named by `?job=`, whose description the runner serves as
// `jobs/<name>.json`. A contender job measures matmul n x n x n and the MNIST MLP training step on
// one library's backend; the threads job runs gradkit wasm with 1 and with 2 threads side by side.
// The result goes to `window.__result`. Data (MNIST rows, the starting weights) comes from the
// runner as binary files, so every contender trains on the same numbers from the same weights.
import type { Device } from '@gradkit/kernels';
import type { Tensor } from '@gradkit/tensor';
import { gflops, uniformArray } from '../matmul.js';
import { summarize } from '../stats.js';
import type {
  BrowserContender,
  BrowserSizes,
  ContenderPageResult,
  MatmulResult,
  PageJob,
  StepResult,
  ThreadPageResult,
  ThreadRow,
} from './plan.js';
import { SETTLE_CALLS } from './plan.js';

type Tf = typeof import('@tensorflow/tfjs-core');

interface Data {
  /** `batches` x `batch` rows of 784 pixels in [0, 1]. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  /** Per layer, `w` as `[out, in]` row-major and `b`. */
  readonly layers: readonly { readonly in: number; readonly out: number; w: Float32Array; b: Float32Array }[];
}

const publish = (r: ContenderPageResult | ThreadPageResult): void => {
  (window as unknown as { __result: unknown }).__result = r;
};
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
  return r.arrayBuffer();
}

async function loadData(s: BrowserSizes): Promise<Data> {
  const [x, y, w] = await Promise.all(['data/x.bin', 'data/y.bin', 'data/w.bin'].map(fetchBytes));
  const layers: Data['layers'][number][] = [];
  const all = new Float32Array(w);
  let at = 0;
  for (let l = 0; l + 1 < s.layers.length; l++) {
    const [i, o] = [s.layers[l], s.layers[l + 1]];
    layers.push({ in: i, out: o, w: all.slice(at, at + i * o), b: all.slice(at + i * o, at + i * o + o) });
    at += i * o + o;
  }
  if (at !== all.length) throw new Error(`w.bin holds ${all.length} floats, the layers need ${at}`);
  return { x: new Float32Array(x), y: new Int32Array(y), layers };
}

/** The WebGL renderer of a throwaway context (UNMASKED_RENDERER_WEBGL), or null without WebGL. */
function glRenderer(): string | null {
  const canvas = document.createElement('canvas');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return null;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  const version = String(gl.getParameter(gl.VERSION));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return `${name} (${version})`;
}

/**
 * Runs `fn` `warmup` times untimed, then up to `reps` times timed, stopping after at least 3 once
 * the timed runs took `budgetMs`. Every value `fn` returns is kept, in order.
 */
async function timed(
  fn: () => Promise<number>,
  warmup: number,
  reps: number,
  budgetMs: number,
): Promise<{ times: number[]; values: number[]; capped: boolean }> {
  const values: number[] = [];
  for (let i = 0; i < warmup; i++) values.push(await fn());
  const times: number[] = [];
  let spent = 0;
  while (times.length < reps && (times.length < 3 || spent < budgetMs)) {
    const t0 = performance.now();
    values.push(await fn());
    const t = performance.now() - t0;
    times.push(t);
    spent += t;
  }
  return { times, values, capped: times.length < reps };
}

/** The operations one library offers the two workloads. */
interface Runner {
  /** Uploads A and B once; returns one repetition: C = A B, then sum(C) awaited. */
  matmul(n: number): () => Promise<number>;
  /** Builds the MLP from the shared weights; returns one training step on batch `i` (its loss). */
  mlp(data: Data, s: BrowserSizes): (i: number) => Promise<number>;
}

async function gradkitRunner(
  c: BrowserContender,
): Promise<{ run: Runner; info: string; threads: number | null }> {
  const { createDevice, setDevice, WasmBackend, Rng } = await import('@gradkit/kernels');
  await import('@gradkit/kernels/gl');
  const d = createDevice({
    backend: c.backend as 'gl' | 'wasm' | 'cpu',
    ...(c.threads !== null ? { threads: c.threads } : {}),
  });
  setDevice(d);
  let threads: number | null = null;
  if (d.backend instanceof WasmBackend) {
    // browser workers start in the background: give them the event loop until they are ready
    const wanted = c.threads ?? 1;
    const until = performance.now() + 15_000;
    while (d.backend.activeThreads() < wanted && performance.now() < until) await sleep(10);
    threads = d.backend.activeThreads();
  }
  return { run: gradkitOps(d, () => new Rng(1)), info: d.info().renderer, threads };
}

function gradkitOps(d: Device, rng: () => InstanceType<typeof import('@gradkit/kernels').Rng>): Runner {
  let libs: {
    t: typeof import('@gradkit/tensor');
    nn: typeof import('@gradkit/nn');
    opt: typeof import('@gradkit/optimizers');
  } | null = null;
  const load = async () => {
    libs ??= {
      t: await import('@gradkit/tensor'),
      nn: await import('@gradkit/nn'),
      opt: await import('@gradkit/optimizers'),
    };
    return libs;
  };
  return {
    matmul(n) {
      let ab: [Tensor, Tensor] | null = null;
      return async () => {
        const { t } = await load();
        ab ??= [
          t.tensor(uniformArray(n * n, 3), [n, n], { device: d }),
          t.tensor(uniformArray(n * n, 4), [n, n], { device: d }),
        ];
        const [a, b] = ab;
        const s = t.scope(() => t.sum(t.matmul(a, b)));
        const v = (await s.data())[0];
        s.dispose();
        return v;
      };
    },
    mlp(data, s) {
      let step: ((i: number) => Promise<number>) | null = null;
      return async (i) => {
        if (!step) {
          const { t, nn, opt } = await load();
          const layers: import('@gradkit/nn').LayerSpec[] = [];
          for (let l = 0; l < data.layers.length; l++) {
            layers.push({ type: 'linear', in: data.layers[l].in, out: data.layers[l].out });
            if (l + 1 < data.layers.length) layers.push({ type: 'relu' });
          }
          const model = nn.buildModel(layers, { device: d, rng: rng() });
          const params = model.parameters();
          t.noGrad(() =>
            data.layers.forEach((lw, l) => {
              params[2 * l].assign(t.tensor(lw.w, [lw.out, lw.in], { device: d }));
              params[2 * l + 1].assign(t.tensor(lw.b, [lw.out], { device: d }));
            }),
          );
          const adam = opt.adam(model, { lr: s.lr });
          const B = s.batch;
          const F = s.layers[0];
          step = async (k) => {
            const b = k % s.batches;
            const loss = t.scope(() => {
              const x = t.tensor(data.x.subarray(b * B * F, (b + 1) * B * F), [B, F], { device: d });
              const l = t.softmaxCrossEntropy(model.forward(x), data.y.subarray(b * B, (b + 1) * B));
              l.backward();
              adam.step();
              adam.zeroGrad();
              return l;
            });
            const v = (await loss.data())[0];
            loss.dispose();
            return v;
          };
        }
        return step(i);
      };
    },
  };
}

async function tfjsRunner(
  c: BrowserContender,
): Promise<{ run: Runner; info: string; threads: number | null }> {
  const tf: Tf = await import('@tensorflow/tfjs-core');
  // tfjs-core's ESM entry registers no gradients (the union package @tensorflow/tfjs does)
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  let threads: number | null = null;
  let extra = '';
  if (c.backend === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
  if (c.backend === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  if (c.backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(new URL('tfjs-wasm/', location.href).href);
    if ((c.threads ?? 1) > 1) wasm.setThreadsCount(c.threads!);
    if (!(await tf.setBackend('wasm'))) throw new Error("TF.js backend 'wasm' did not initialize");
    const mt = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    threads = wasm.getThreadsCount();
    extra = `: tfjs-backend-wasm${mt ? '-threaded' : ''}${simd ? '-simd' : ''}.wasm, ${threads} thread(s)`;
  } else if (!(await tf.setBackend(c.backend)))
    throw new Error(`TF.js backend '${c.backend}' did not initialize`);
  await tf.ready();
  if (c.backend === 'webgl')
    extra = `: WebGL ${tf.env().getNumber('WEBGL_VERSION')}, packed ${tf.env().getBool('WEBGL_PACK')}`;
  return { run: tfjsOps(tf), info: `TF.js ${tf.version_core} ${tf.getBackend()}${extra}`, threads };
}

function tfjsOps(tf: Tf): Runner {
  type T2 = import('@tensorflow/tfjs-core').Tensor2D;
  type V = import('@tensorflow/tfjs-core').Variable;
  return {
    matmul(n) {
      const a = tf.tensor2d(uniformArray(n * n, 3), [n, n]);
      const b = tf.tensor2d(uniformArray(n * n, 4), [n, n]);
      return async () => {
        const s = tf.tidy(() => tf.sum(tf.matMul(a, b)));
        const v = (await s.data())[0];
        s.dispose();
        return v;
      };
    },
    mlp(data, s) {
      // the same layers as gradkit's: x W + b per layer (kernels [in, out], the transposed
      // shared weights), ReLU between, softmax cross-entropy on the logits (mean over the batch)
      const vars: { w: V; b: V }[] = data.layers.map((lw) => {
        const t = new Float32Array(lw.w.length);
        for (let o = 0; o < lw.out; o++)
          for (let i = 0; i < lw.in; i++) t[i * lw.out + o] = lw.w[o * lw.in + i];
        return { w: tf.variable(tf.tensor2d(t, [lw.in, lw.out])), b: tf.variable(tf.tensor1d(lw.b)) };
      });
      const varList = vars.flatMap((v) => [v.w, v.b]);
      const adam = tf.train.adam(s.lr, 0.9, 0.999, 1e-8);
      const B = s.batch;
      const F = s.layers[0];
      const classes = s.layers[s.layers.length - 1];
      return async (k) => {
        const b = k % s.batches;
        const loss = tf.tidy(() => {
          const x = tf.tensor2d(data.x.subarray(b * B * F, (b + 1) * B * F), [B, F]);
          const y = tf.oneHot(tf.tensor1d(data.y.subarray(b * B, (b + 1) * B), 'int32'), classes);
          return adam.minimize(
            () => {
              let h: T2 = x;
              vars.forEach((v, l) => {
                h = tf.add(tf.matMul(h, v.w as T2), v.b);
                if (l + 1 < vars.length) h = tf.relu(h);
              });
              return tf.losses.softmaxCrossEntropy(y, h);
            },
            true,
            varList,
          )!;
        });
        const v = (await loss.data())[0];
        loss.dispose();
        return v;
      };
    },
  };
}

async function contenderJob(c: BrowserContender, s: BrowserSizes): Promise<ContenderPageResult> {
  const renderer = glRenderer();
  const data = await loadData(s);
  const { run, info, threads } = c.library === 'gradkit' ? await gradkitRunner(c) : await tfjsRunner(c);
  const mm = await timed(run.matmul(s.matmulN), s.matmulWarmup, s.matmulReps, s.matmulBudgetMs);
  const matmul: MatmulResult = {
    n: s.matmulN,
    timing: summarize(mm.times, s.matmulWarmup),
    gflops: gflops(s.matmulN, summarize(mm.times).medianMs),
    checksum: mm.values[mm.values.length - 1],
    capped: mm.capped,
  };
  const stepFn = run.mlp(data, s);
  let i = 0;
  const st = await timed(() => stepFn(i++), s.stepWarmup, s.steps, s.stepBudgetMs);
  const step: StepResult = {
    timing: summarize(st.times, s.stepWarmup),
    losses: st.values,
    capped: st.capped,
  };
  return {
    ok: true,
    backendInfo: info,
    glRenderer: renderer,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    threadsRunning: threads,
    matmul,
    step,
    userAgent: navigator.userAgent,
  };
}

/** The MLP step's products at batch 128 that reach the threading threshold, and square sizes. */
function sweepShapes(s: BrowserSizes): { what: string; m: number; k: number; n: number }[] {
  const [F, H] = [s.layers[0], s.layers[1]];
  const B = s.batch;
  return [
    ...s.threadNs.map((n) => ({ what: `matmul n=${n}`, m: n, k: n, n })),
    { what: `step fwd ${B}x${F}x${H}`, m: B, k: F, n: H },
    { what: `step dW ${H}x${B}x${F}`, m: H, k: B, n: F },
    { what: `step fwd ${B}x${H}x${H}`, m: B, k: H, n: H },
  ];
}

async function threadsJob(s: BrowserSizes): Promise<ThreadPageResult> {
  const { createDevice, WasmBackend, Rng } = await import('@gradkit/kernels');
  const t = await import('@gradkit/tensor');
  const data = await loadData(s);
  const one = createDevice({ backend: 'wasm', threads: 1 });
  const two = createDevice({ backend: 'wasm', threads: 2 });
  const until = performance.now() + 15_000;
  const backend2 = two.backend instanceof WasmBackend ? two.backend : null;
  while (backend2 && backend2.activeThreads() < 2 && performance.now() < until) await sleep(10);
  const threadsRunning = backend2?.activeThreads() ?? 1;
  const rows: ThreadRow[] = [];
  for (const sh of sweepShapes(s)) {
    const ops = (d: Device) => {
      const a = t.tensor(uniformArray(sh.m * sh.k, 5), [sh.m, sh.k], { device: d });
      const b = t.tensor(uniformArray(sh.k * sh.n, 6), [sh.k, sh.n], { device: d });
      return async () => {
        const r = t.scope(() => t.sum(t.matmul(a, b)));
        const v = (await r.data())[0];
        r.dispose();
        return v;
      };
    };
    const f1 = ops(one);
    const f2 = ops(two);
    const oneMs: number[] = [];
    const twoMs: number[] = [];
    for (let r = 0; r < s.threadRounds; r++) {
      // about a second per size, round and thread count at most
      // the first round warms up past the thread policy's probes (SETTLE_CALLS)
      const w = r === 0 ? SETTLE_CALLS : 0;
      oneMs.push(summarize((await timed(f1, w, s.threadReps, 1000)).times).medianMs);
      twoMs.push(summarize((await timed(f2, w, s.threadReps, 1000)).times).medianMs);
    }
    rows.push({ ...sh, oneMs, twoMs });
  }
  const step1 = gradkitOps(one, () => new Rng(1)).mlp(data, s);
  const step2 = gradkitOps(two, () => new Rng(1)).mlp(data, s);
  const stepOneMs: number[] = [];
  const stepTwoMs: number[] = [];
  let i1 = 0;
  let i2 = 0;
  for (let r = 0; r < s.threadRounds; r++) {
    const w = r === 0 ? s.stepWarmup : 0;
    stepOneMs.push(summarize((await timed(() => step1(i1++), w, s.threadSteps, 10_000)).times).medianMs);
    stepTwoMs.push(summarize((await timed(() => step2(i2++), w, s.threadSteps, 10_000)).times).medianMs);
  }
  return {
    ok: true,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    threadsRunning,
    backendInfo: two.info().renderer,
    matmul: rows,
    stepOneMs,
    stepTwoMs,
    userAgent: navigator.userAgent,
  };
}

async function main(): Promise<void> {
  const name = new URLSearchParams(location.search).get('job') ?? '';
  const job = (await (await fetch(`jobs/${encodeURIComponent(name)}.json`)).json()) as PageJob;
  if (job.kind === 'threads') publish(await threadsJob(job.sizes));
  else publish(await contenderJob(job.contender, job.sizes));
}

main().catch((e: unknown) => {
  const err = e as Error;
  publish({
    ok: false,
    error: String(err?.stack ?? err),
    backendInfo: '',
    glRenderer: null,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    threadsRunning: null,
    matmul: null,
    step: null,
    userAgent: navigator.userAgent,
  });
});

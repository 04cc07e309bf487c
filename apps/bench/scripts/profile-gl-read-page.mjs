// The browser page of profile-gl-read.mjs: on a gl device, queues a chain of matmuls and awaits the
// result with readAsync while a 16 ms timer runs, then reads the same array synchronously; publishes
// the timer's gaps, both reads' times and whether they agree on window.__result.
import { createDevice } from '@gradkit/kernels';
import '@gradkit/kernels/gl';

const q = new URLSearchParams(location.search);
const n = Number(q.get('n') ?? 512);
const chain = Number(q.get('chain') ?? 6);
const rounds = Number(q.get('rounds') ?? 3);

/** Runs `read` while a 16 ms interval timer ticks; the longest gap between ticks (or the start/end). */
async function withTimer(read) {
  const ticks = [];
  const t0 = performance.now();
  const id = setInterval(() => ticks.push(performance.now()), 16);
  const values = await read();
  const t1 = performance.now();
  clearInterval(id);
  const marks = [t0, ...ticks, t1];
  let maxGap = 0;
  for (let i = 1; i < marks.length; i++) maxGap = Math.max(maxGap, marks[i] - marks[i - 1]);
  return { values, ms: t1 - t0, ticks: ticks.length, maxGap };
}

const slow = {};
if (q.get('trace')) {
  const proto = WebGL2RenderingContext.prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (typeof d.value !== 'function' || name === 'constructor') continue;
    const orig = d.value;
    WebGL2RenderingContext.prototype[name] = function (...args) {
      const t = performance.now();
      const r = orig.apply(this, args);
      const dt = performance.now() - t;
      if (window.__tracing) slow[name] = Math.max(slow[name] ?? 0, dt);
      return r;
    };
  }
}
try {
  const device = createDevice({ backend: 'gl' });
  const data = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) / n);
  const a = device.array(data, [n, n]);
  const product = () => {
    let x = a;
    for (let c = 0; c < chain; c++) {
      const y = device.matmul(x, a);
      if (x !== a) x.dispose();
      x = y;
    }
    return x;
  };
  device.read(product()); // compile and warm up
  // the timer on an idle page, for comparison
  const idle = await withTimer(() => new Promise((ok) => setTimeout(ok, 300)));
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const x = product();
    let callMs = 0;
    window.__tracing = true;
    const asyncRead = await withTimer(() => {
      const t = performance.now();
      const p = x.readAsync();
      callMs = performance.now() - t;
      return p;
    });
    window.__tracing = false;
    const y = product();
    const syncRead = await withTimer(async () => y.read());
    let same = asyncRead.values.length === syncRead.values.length;
    for (let i = 0; same && i < syncRead.values.length; i++)
      same = Object.is(asyncRead.values[i], syncRead.values[i]);
    results.push({
      async: { ms: asyncRead.ms, callMs, ticks: asyncRead.ticks, maxGap: asyncRead.maxGap },
      sync: { ms: syncRead.ms, ticks: syncRead.ticks, maxGap: syncRead.maxGap },
      same,
    });
    x.dispose();
    y.dispose();
  }
  const info = device.info();
  device.destroy();
  window.__result = {
    ok: true,
    info,
    n,
    chain,
    results,
    slow,
    idle: { ms: idle.ms, ticks: idle.ticks, maxGap: idle.maxGap },
    visibility: document.visibilityState,
  };
} catch (e) {
  window.__result = { ok: false, error: String(e?.stack ?? e) };
}

// Consumer test, the GPU on demand (scripts/consumer-test.sh). Run in the temporary project:
//   node backends.mjs light   gpu.js is not installed: the core never registers gl, a request for
//                             gl says what to install, and importing '@gradkit/kernels/gl' (ESM and
//                             CJS) throws a BackendError that names the package to install.
//   node backends.mjs found   gpu.js is installed: the first automatic selection finds it and
//                             registers gl by itself (no import); gl need not start (no display).
//   node backends.mjs gl      as `found`, and gl starts (X display, headless-gl built): automatic
//                             selection ranks it by its renderer (below wasm on a software
//                             rasterizer), and backend 'gl' runs a kernel on it.
// Prints what it found; exits non-zero on the first broken expectation.
import { createRequire } from 'node:module';
import { availableBackends, createDevice, registeredBackends } from '@gradkit/kernels';

const mode = process.argv[2];
const require = createRequire(import.meta.url);
const fail = (msg) => {
  console.error(`backends.mjs ${mode}: ${msg}`);
  process.exit(1);
};
const gpujsLoaded = () => Object.keys(require.cache).some((p) => /[\\/]gpu\.js[\\/]/.test(p));

if (mode === 'light') {
  const d = createDevice();
  console.log(
    `light: auto -> ${d.info().name} (${d.info().reason}); registered: ${registeredBackends().join(', ')}`,
  );
  if (registeredBackends().includes('gl')) fail('gl is registered although gpu.js is not installed');
  if (gpujsLoaded()) fail('gpu.js was loaded');
  try {
    createDevice({ backend: 'gl' });
    fail("backend 'gl' did not throw");
  } catch (e) {
    if (!/npm install gpu\.js/.test(e.message))
      fail(`backend 'gl' threw without naming the package: ${e.message}`);
    console.log(`light: backend 'gl' -> ${e.name}: ${e.message}`);
  }
  for (const [how, load] of [
    ['import', () => import('@gradkit/kernels/gl')],
    ['require', async () => require('@gradkit/kernels/gl')],
  ]) {
    try {
      await load();
      fail(`${how} '@gradkit/kernels/gl' did not throw`);
    } catch (e) {
      if (e.name !== 'BackendError' || !/npm install gpu\.js@\^2\.24\.1/.test(e.message)) {
        fail(`${how} '@gradkit/kernels/gl' threw ${e.name}: ${e.message}`);
      }
      console.log(`light: ${how} '@gradkit/kernels/gl' -> ${e.name}: ${e.message.split('\n')[0]}`);
    }
  }
} else if (mode === 'found' || mode === 'gl') {
  if (registeredBackends().includes('gl')) fail('gl is registered before anything asked for it');
  const d = createDevice();
  const info = d.info();
  d.destroy();
  const gl = availableBackends().find((b) => b.name === 'gl');
  if (!gl)
    fail(
      `gpu.js is installed but gl was not found (registered: ${registeredBackends().join(', ')}; ${info.reason})`,
    );
  if (!gpujsLoaded()) fail('gl is registered but gpu.js is not loaded');
  console.log(
    `${mode}: gl found by itself; available: ${gl.available}${gl.available ? `, software rasterizer: ${gl.softwareRenderer ?? 'none'}` : ` (${gl.reason})`}`,
  );
  console.log(`${mode}: auto -> ${info.name} (${info.reason})`);
  if (mode === 'gl') {
    if (!gl.available) fail(`gl cannot start: ${gl.reason}`);
    const want = gl.softwareRenderer ? 'wasm' : 'gl';
    if (info.name !== want) fail(`auto chose ${info.name}, expected ${want} (${info.reason})`);
    const g = createDevice({ backend: 'gl' });
    const got = Array.from(g.unary('square', g.array([1, -2, 3], [3])).read());
    if (got.join() !== '1,4,9') fail(`square on gl gave ${got}`);
    console.log(
      `gl: backend 'gl' -> ${g.info().renderer} (softwareRenderer: ${g.info().softwareRenderer}); square([1, -2, 3]) = [${got}]`,
    );
    g.destroy();
  }
} else {
  fail('usage: node backends.mjs light|found|gl');
}

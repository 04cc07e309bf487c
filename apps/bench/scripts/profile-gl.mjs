// Per-kernel profile of one MNIST MLP training step on the gl backend (issue 16, "measure first"):
// launches, milliseconds and share per kernel, program switches, texture allocations, uploads and
// read-backs per step, from profileGl of @gradkit/kernels/gl; in Node also the process CPU time per
// unprofiled step (user + system, llvmpipe's threads included), steadier than wall time on a busy machine.
//
//   pnpm build   # the script runs the built dist of kernels, tensor, nn, optimizers, trainer
//   xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX" node apps/bench/scripts/profile-gl.mjs
//   node apps/bench/scripts/profile-gl.mjs --browser     # Chromium, WebGL on SwiftShader
//   options: --steps 20 --warmup 3 --rounds 2 --sync read|finish|none --json out.json
//   --set packReuse=false,blockedMatmul=false   (Node only) boolean switches of the gl backend
//   (GpuJsBackend's packReuse, fusedLinearGrad, packedMatmul, ...), for a before/after in one build
//
// The step is apps/bench's MLP workload (see profile-gl-core.mjs) on the first MNIST training rows.
// A warm-up fit compiles every kernel first; then `rounds` times the same steps run unprofiled and
// profiled, alternately (the machine may be loaded), and the table gives per-step figures of the
// profiled runs. Profiling waits for every launch (a 1-pixel read by default), so a profiled step
// is slower than an unprofiled one: both are printed. In Node gl is headless-gl (WebGL1, llvmpipe
// under Xvfb); with --browser the page is bundled with esbuild (as scripts/browser-test.mjs does,
// but from the workspace's dist), served on 127.0.0.1 and opened in headless Chromium (playwright-core,
// CHROMIUM_PATH or /usr/bin/chromium) with WebGL on SwiftShader.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '@gradkit/trainer/node';
import { BATCH, formatProfile } from './profile-gl-core.mjs';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const opts = {
  steps: Number(arg('steps', '20')),
  warmup: Number(arg('warmup', '3')),
  rounds: Number(arg('rounds', '2')),
  sync: arg('sync', 'read'),
};
const JSON_OUT = arg('json', '');
const SET = arg('set', '')
  .split(',')
  .filter((kv) => kv !== '')
  .map((kv) => {
    const [k, v] = kv.split('=');
    if (v !== 'true' && v !== 'false') throw new Error(`--set ${kv}: expected name=true or name=false`);
    return [k, v === 'true'];
  });
const BROWSER = process.argv.includes('--browser');
if (BROWSER && SET.length > 0) throw new Error('--set runs in Node only');

const n = Math.max(opts.steps, opts.warmup) * BATCH;
const all = loadMnist({ split: 'train', normalize: 'unit' });
const features = all.features.slice(0, n * 784);
const labels = all.labels.slice(0, n);

const res = BROWSER ? await inBrowser() : await inNode();
console.log(res.text ?? formatProfile(res));
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(res, null, 2));

async function inNode() {
  const { createDevice, setDevice } = await import('@gradkit/kernels');
  await import('@gradkit/kernels/gl');
  const { profileMlp } = await import('./profile-gl-core.mjs');
  const device = createDevice({ backend: 'gl' });
  for (const [k, v] of SET) {
    if (typeof device.backend[k] !== 'boolean') throw new Error(`--set ${k}: not a switch of the gl backend`);
    device.backend[k] = v;
  }
  if (SET.length > 0) console.log(`set: ${SET.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  setDevice(device);
  try {
    return profileMlp({ device, features, labels, ...opts });
  } finally {
    device.destroy();
  }
}

async function inBrowser() {
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'gradkit-profile-gl-'));
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      absWorkingDir: here,
      entryPoints: ['profile-gl-page.mjs'],
      outfile: join(dir, 'bundle.js'),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      logLevel: 'warning',
    });
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><meta charset="utf-8"><script type="module" src="bundle.js"></script>',
    );
    writeFileSync(
      join(dir, 'features.bin'),
      new Uint8Array(features.buffer, features.byteOffset, features.byteLength),
    );
    writeFileSync(
      join(dir, 'labels.bin'),
      new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength),
    );
    const types = { html: 'text/html', js: 'text/javascript', bin: 'application/octet-stream' };
    const server = createServer((req, res) => {
      const name = new URL(req.url, 'http://x').pathname.slice(1) || 'index.html';
      if (!/^[a-z.]+$/.test(name)) return res.writeHead(404).end();
      try {
        const body = readFileSync(join(dir, name));
        res.writeHead(200, { 'content-type': types[name.split('.').pop()] ?? 'text/plain' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
    });
    try {
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error(`pageerror: ${e.message}`));
      const q = new URLSearchParams(Object.entries(opts).map(([k, v]) => [k, String(v)]));
      await page.goto(`http://127.0.0.1:${server.address().port}/?${q}`, { waitUntil: 'commit' });
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 1_200_000 });
      const r = await page.evaluate(() => window.__result);
      if (!r.ok) throw new Error(`the page failed: ${r.error}`);
      return { ...r.res, text: `${r.text}\nbrowser: Chromium ${browser.version()}`, userAgent: r.userAgent };
    } finally {
      await browser.close();
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

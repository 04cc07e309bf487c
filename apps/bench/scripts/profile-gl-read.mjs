// Does awaiting a read on the gl backend let the page run? Opens a page in headless Chromium
// (WebGL2 on SwiftShader, as profile-gl.mjs --browser) that queues a chain of n x n matmuls on gl,
// then `await x.readAsync()` while a 16 ms interval timer runs, and reads an equal chain with the
// synchronous `read()`. Prints, per round, how long each read took, how often the timer fired and
// its longest gap, and whether both reads gave the same bits (issue 16: the timer should keep
// firing within 2x its period during readAsync where backendInfo().asyncRead is 'non-blocking').
//
//   pnpm build && node apps/bench/scripts/profile-gl-read.mjs [--n 512] [--chain 6] [--rounds 3]
//   --trace 1 also prints the longest call of each WebGL2 method during the awaited reads.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const opts = {
  n: arg('n', '512'),
  chain: arg('chain', '6'),
  rounds: arg('rounds', '3'),
  trace: arg('trace', ''),
};

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gradkit-profile-gl-read-'));
try {
  const esbuild = await import('esbuild');
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: ['profile-gl-read-page.mjs'],
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
  const types = { html: 'text/html', js: 'text/javascript' };
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
    const q = new URLSearchParams(opts);
    await page.goto(`http://127.0.0.1:${server.address().port}/?${q}`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 600_000 });
    const r = await page.evaluate(() => window.__result);
    if (!r.ok) throw new Error(`the page failed: ${r.error}`);
    const f = (x) => x.toFixed(1);
    console.log(`gl readAsync in Chromium ${browser.version()}: ${r.info.renderer} (${r.info.gpuMode})`);
    console.log(
      `asyncRead: ${r.info.asyncRead}; ${r.chain} matmuls of ${r.n} x ${r.n} queued before each read`,
    );
    console.log(
      `idle page (${r.visibility}): a 300 ms wait, timer fired ${r.idle.ticks}x, longest gap ${f(r.idle.maxGap)} ms`,
    );
    if (opts.trace) console.log('longest WebGL calls (ms):', JSON.stringify(r.slow));
    for (const [i, x] of r.results.entries()) {
      console.log(
        `round ${i + 1}: readAsync ${f(x.async.ms)} ms (${f(x.async.callMs)} ms in the call), timer fired ${x.async.ticks}x, longest gap ${f(x.async.maxGap)} ms; ` +
          `read ${f(x.sync.ms)} ms, fired ${x.sync.ticks}x, longest gap ${f(x.sync.maxGap)} ms; same bits: ${x.same}`,
      );
    }
  } finally {
    await browser.close();
    server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

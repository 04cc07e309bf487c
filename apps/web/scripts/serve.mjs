// A small static server for the built page (`pnpm --filter @gradkit/web serve`, after the build):
// serves dist/ on http://127.0.0.1:PORT with the cross-origin isolation headers
// (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp), which give
// the page SharedArrayBuffer and so the wasm backend its threads. Every file is same-origin, so
// require-corp blocks nothing.
//
//   node scripts/serve.mjs [--port 5173] [--no-isolation] [--dir dist]
//
// --no-isolation serves without those headers (wasm then runs on one thread). `startServer` is
// also used by the browser test (test/browser.mjs).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.u8': 'application/octet-stream',
};

/**
 * Serves `dir` on 127.0.0.1 (port 0: any free port). With `isolation` (default true) every
 * response carries COOP same-origin + COEP require-corp. Resolves to { server, origin }.
 */
export function startServer({ dir, port = 0, isolation = true, log = false }) {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad path');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = resolve(root, `.${path}`);
    const ok = file.startsWith(`${root}${sep}`) && existsSync(file) && statSync(file).isFile();
    if (log) console.log(`${req.method} ${url.pathname} ${ok ? 200 : 404}`);
    if (!ok) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${url.pathname}`);
      return;
    }
    const headers = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    };
    if (isolation) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    res.writeHead(200, headers).end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () =>
      ok({ server, origin: `http://127.0.0.1:${server.address().port}` }),
    );
  });
}

export function parseArgs(argv) {
  const o = {
    port: 5173,
    isolation: true,
    dir: join(resolve(fileURLToPath(import.meta.url), '../..'), 'dist'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-isolation') o.isolation = false;
    else if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--dir') o.dir = resolve(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/serve.mjs [--port 5173] [--no-isolation] [--dir dist]');
      process.exit(0);
    } else {
      console.error(`serve: unknown option '${a}' (try --help)`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
    console.error(`serve: --port must be an integer in [0, 65535]`);
    process.exit(2);
  }
  return o;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(join(o.dir, 'index.html'))) {
    console.error(`serve: ${o.dir}/index.html not found: run \`pnpm --filter @gradkit/web build\` first`);
    process.exit(1);
  }
  const { origin } = await startServer(o);
  console.log(
    `gradkit web demo on ${origin}/ (${o.isolation ? 'cross-origin isolated: wasm threads on' : 'not cross-origin isolated: wasm on one thread'}); Ctrl+C stops`,
  );
}

// A throwaway npm registry for the @gradkit scope, serving the packed tarballs of the consumer test
// (scripts/consumer-test.sh, the CLI step), so that `npm install -g @gradkit/cli` resolves the
// command's @gradkit dependencies exactly as it will from the real registry: by name and version
// range, nested under the command's own node_modules. Only the @gradkit scope is pointed here
// (`--@gradkit:registry=...`); every other package comes from npm's configured registry.
//
// Usage: node registry.mjs <dir of .tgz files> <file to write the port to>
// Listens on 127.0.0.1 on a free port, writes the port to the file once listening, and serves
//   GET /@gradkit%2f<name> (or /@gradkit/<name>): the packument, one version (the packed one),
//   GET /-/<file>.tgz: the tarball.
// Anything else is a 404 (an @gradkit package without a tarball here fails the install). Packuments
// are sent with `cache-control: no-store`: npm must not keep one across runs, whose tarballs differ
// under the same version.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [dir, portFile] = process.argv.slice(2);
if (!dir || !portFile) {
  console.error('usage: node registry.mjs <tarball dir> <port file>');
  process.exit(2);
}

/** name -> { pkg, file, bytes } */
const packages = new Map();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
  const path = join(dir, file);
  const pkg = JSON.parse(execFileSync('tar', ['-xzOf', path, 'package/package.json'], { encoding: 'utf8' }));
  if (!pkg.name?.startsWith('@gradkit/')) continue;
  if (packages.has(pkg.name)) throw new Error(`two tarballs of ${pkg.name} in ${dir}`);
  packages.set(pkg.name, { pkg, file, bytes: readFileSync(path) });
}

let base = '';
function packument({ pkg, file, bytes }) {
  const dist = {
    tarball: `${base}/-/${encodeURIComponent(file)}`,
    integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    shasum: createHash('sha1').update(bytes).digest('hex'),
  };
  return {
    _id: pkg.name,
    name: pkg.name,
    'dist-tags': { latest: pkg.version },
    versions: { [pkg.version]: { ...pkg, _id: `${pkg.name}@${pkg.version}`, dist } },
  };
}

const byFile = new Map([...packages.values()].map((p) => [p.file, p]));
const server = createServer((req, res) => {
  const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
  const send = (status, type, body) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
  if (path.startsWith('/-/')) {
    const entry = byFile.get(path.slice(3));
    return entry
      ? send(200, 'application/octet-stream', entry.bytes)
      : send(404, 'text/plain', 'no such tarball\n');
  }
  const entry = packages.get(path.slice(1));
  if (!entry) return send(404, 'application/json', JSON.stringify({ error: `${path.slice(1)}: not here` }));
  return send(200, 'application/json', JSON.stringify(packument(entry)));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  base = `http://127.0.0.1:${port}`;
  writeFileSync(portFile, `${port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));

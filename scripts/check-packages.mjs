// `pnpm check:packages`: lints what every publishable package under packages/ would publish, and
// the published apps (apps/* not private: @gradkit/cli, the `gradkit` command).
//
// For each package this packs the tarball exactly as a release does (`pnpm pack`, which rewrites
// `workspace:^` to real versions, as `pnpm publish` / `changeset publish` do), then checks it with
//   - publint (strict: its warnings fail too; suggestions are printed but do not fail),
//   - are-the-types-wrong (`attw <tarball> --profile strict`: every resolution mode, node10
//     included, because the packages ship `main` / `types` for it at no cost),
//   - a few rules of our own: only dist/, README.md, LICENSE and package.json in the tarball (no
//     tests, fixtures, sources or test maps), no `workspace:` specifier left, and the metadata
//     every package must carry (see metadataProblems below).
// A command package (a `bin` and no `exports`: nothing to import, no types) gets the same packing,
// publint and metadata checks, without are-the-types-wrong and the library rules (exports,
// sideEffects, types); instead every `bin` target must be a built file under dist/ whose first
// line is `#!/usr/bin/env node`, in the tarball too.
// It builds nothing: run `pnpm build` first (a missing dist/ is reported as such).
// Usage: node scripts/check-packages.mjs [name-or-dir ...]   (default: packages/* and published apps/*)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const attwBin = join(dirname(require.resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js');

const REPO_URL = 'git+https://github.com/gradkit/gradkit.git';
/** Files a tarball may hold (paths inside the package). */
// `<entry>/package.json`: the node10 proxy of a subpath entry (e.g. @gradkit/kernels/gl)
const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^dist\//, /^[a-z]+\/package\.json$/];
/** Files no tarball may hold even under dist/. */
const FORBIDDEN = [
  /\.test\.[cm]?[jt]s(\.map)?$/,
  /\.spec\.[cm]?[jt]s(\.map)?$/,
  /(^|\/)fixtures\//,
  /(^|\/)src\//,
];

const pick = process.argv.slice(2);
const pkgDirs = ['packages', 'apps']
  .flatMap((group) => readdirSync(join(root, group)).map((d) => join(root, group, d)))
  .filter((d) => existsSync(join(d, 'package.json')))
  .filter((d) => {
    const { name, private: priv } = readJson(join(d, 'package.json'));
    return !priv && (pick.length === 0 || pick.includes(name) || pick.includes(basename(d)));
  });
if (pkgDirs.length === 0) {
  console.error(`check:packages: no package matches ${pick.join(' ')}`);
  process.exit(2);
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** A command package: executables in `bin`, nothing to import (no `exports`). */
const isCommand = (pkg) => pkg.bin !== undefined && pkg.exports === undefined;

/** `bin` as { command: file } (a string `bin` is one command named after the package). */
function binEntries(pkg) {
  if (typeof pkg.bin === 'string') return [[pkg.name.replace(/^@[^/]+\//, ''), pkg.bin]];
  return pkg.bin && typeof pkg.bin === 'object' ? Object.entries(pkg.bin) : [];
}
const SHEBANG = '#!/usr/bin/env node';

/** The metadata rules on the source package.json; each returns a problem or null. */
function metadataProblems(pkg, dir) {
  const rel = `${basename(dirname(dir))}/${basename(dir)}`;
  const p = [];
  const need = (cond, msg) => cond || p.push(msg);
  need(/^@gradkit\/[a-z0-9-]+$/.test(pkg.name ?? ''), `name must be @gradkit/<name> (is ${pkg.name})`);
  need(typeof pkg.version === 'string', 'version is missing');
  need(typeof pkg.description === 'string' && pkg.description.length > 0, 'description is missing');
  need(Array.isArray(pkg.keywords) && pkg.keywords.length > 0, 'keywords are missing');
  need(pkg.license === 'MIT', `license must be MIT (is ${pkg.license})`);
  need(
    pkg.repository?.url === REPO_URL && pkg.repository?.directory === rel,
    `repository must be { url: "${REPO_URL}", directory: "${rel}" }`,
  );
  need(typeof pkg.homepage === 'string', 'homepage is missing');
  need(typeof pkg.bugs?.url === 'string', 'bugs.url is missing');
  need(typeof pkg.engines?.node === 'string', 'engines.node is missing');
  need(pkg.publishConfig?.access === 'public', 'publishConfig.access must be "public"');
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, spec] of Object.entries(pkg[field] ?? {})) {
      if (dep.startsWith('@gradkit/')) {
        need(spec === 'workspace:^', `${field}.${dep} must be "workspace:^" (is "${spec}")`);
      }
    }
  }
  if (isCommand(pkg)) return [...p, ...commandProblems(pkg, dir)];
  // false, or the list of entry points that register something on import (e.g. @gradkit/kernels/gl
  // registers the gl backend: a bundler must not drop `import '@gradkit/kernels/gl'`)
  const registering = Object.keys(pkg.exports ?? {}).filter((k) => k !== '.' && k !== './package.json');
  const allowedEffects = registering.flatMap((k) => [`./dist/${k.slice(2)}.js`, `./dist/${k.slice(2)}.cjs`]);
  // ... and the Node-only files of any entry (the "node" condition: @gradkit/kernels finds and
  // registers gl when gpu.js is installed, so a bundler for Node must not drop them either)
  for (const entry of Object.values(pkg.exports ?? {})) {
    for (const f of [entry?.node?.import?.default, entry?.node?.require?.default]) {
      if (typeof f === 'string') allowedEffects.push(f);
    }
  }
  need(
    pkg.sideEffects === false ||
      (Array.isArray(pkg.sideEffects) && pkg.sideEffects.every((f) => allowedEffects.includes(f))),
    `sideEffects must be false, or list only the dist files of subpath entries (${allowedEffects.join(', ') || 'none'})`,
  );
  // a subpath entry ships a proxy directory (e.g. gl/package.json) for node10-style resolution
  const proxies = registering.map((k) => k.slice(2));
  need(
    JSON.stringify(pkg.files) === JSON.stringify(['dist', ...proxies, 'README.md']),
    `files must be ${JSON.stringify(['dist', ...proxies, 'README.md'])} (is ${JSON.stringify(pkg.files)})`,
  );
  const dot = pkg.exports?.['.'];
  for (const cond of ['import', 'require']) {
    need(
      typeof dot?.[cond]?.types === 'string' && typeof dot?.[cond]?.default === 'string',
      `exports["."].${cond} must have "types" and "default"`,
    );
  }
  for (const target of [
    dot?.import?.default,
    dot?.require?.default,
    dot?.import?.types,
    dot?.require?.types,
  ]) {
    if (typeof target === 'string' && !existsSync(join(dir, target))) {
      p.push(`${target} does not exist: run \`pnpm build\` first`);
    }
  }
  return p;
}

/** The rules of a command package's source package.json (see the top of this file). */
function commandProblems(pkg, dir) {
  const p = [];
  const bins = binEntries(pkg);
  if (bins.length === 0) p.push('bin must name at least one command');
  if (JSON.stringify(pkg.files) !== JSON.stringify(['dist', 'README.md'])) {
    p.push(`files must be ["dist","README.md"] (is ${JSON.stringify(pkg.files)})`);
  }
  for (const [command, file] of bins) {
    if (!/^(\.\/)?dist\//.test(file)) {
      p.push(`bin.${command} must be a built file under dist/ (is "${file}")`);
    } else if (!existsSync(join(dir, file))) {
      p.push(`bin.${command}: ${file} does not exist: run \`pnpm build\` first`);
    } else if (!readFileSync(join(dir, file), 'utf8').startsWith(`${SHEBANG}\n`)) {
      p.push(`bin.${command}: ${file} must start with "${SHEBANG}"`);
    }
  }
  return p;
}

/** Packs `dir` with pnpm into `dest`; returns the tarball path and the files it holds. */
function pack(dir, dest) {
  let out;
  try {
    out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', dest], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const text = `${e.stdout ?? ''}`;
    let why = `${e.stderr || e.message}`.trim();
    try {
      why = JSON.parse(text.slice(text.indexOf('{'))).error.message;
    } catch {
      // not pnpm's JSON error: keep stderr
    }
    throw new Error(`pnpm pack failed: ${why}`);
  }
  const tarball = JSON.parse(out.slice(out.indexOf('{'))).filename;
  // The list comes from the tarball itself (pnpm's --json list leaves out the LICENSE it adds).
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.endsWith('/'))
    .map((f) => f.replace(/^package\//, ''));
  return { tarball, files };
}

/** Reads one file out of a .tgz (tar's `-O`). */
function fromTarball(tarball, path) {
  return execFileSync('tar', ['-xzOf', tarball, `package/${path}`], { encoding: 'utf8' });
}

function tarballProblems(tarball, files) {
  const p = [];
  const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)) || FORBIDDEN.some((re) => re.test(f)));
  if (stray.length) {
    const shown = stray.slice(0, 5).join(', ') + (stray.length > 5 ? `, ... (${stray.length} files)` : '');
    p.push(
      `tarball holds ${shown}: only dist/, README.md, LICENSE, package.json and subpath proxies (<entry>/package.json) belong there`,
    );
  }
  if (!files.includes('README.md')) p.push('tarball has no README.md');
  const packed = JSON.parse(fromTarball(tarball, 'package.json'));
  for (const [command, file] of binEntries(packed)) {
    const path = file.replace(/^\.\//, '');
    if (!files.includes(path)) p.push(`bin.${command}: ${path} is not in the tarball`);
    else if (!fromTarball(tarball, path).startsWith(`${SHEBANG}\n`))
      p.push(`bin.${command}: the packed ${path} does not start with "${SHEBANG}"`);
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, spec] of Object.entries(packed[field] ?? {})) {
      if (String(spec).startsWith('workspace:')) p.push(`packed ${field}.${dep} is still "${spec}"`);
    }
  }
  return p;
}

async function runPublint(tarball) {
  const buf = readFileSync(tarball);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball: ab }, level: 'suggestion', strict: true });
  const fail = [];
  const note = [];
  for (const m of messages) {
    const text = `${m.type}: ${formatMessage(m, pkg, { color: false }) ?? m.code}`;
    (m.type === 'suggestion' ? note : fail).push(text);
  }
  return { fail, note };
}

function runAttw(tarball) {
  let out;
  let code = 0;
  try {
    out = execFileSync(process.execPath, [attwBin, tarball, '--profile', 'strict', '--format', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    out = e.stdout ?? '';
    code = e.status ?? 1;
    if (!out.trim()) return [`attw did not run: ${String(e.stderr || e.message).trim()}`];
  }
  const problems = JSON.parse(out).problems ?? {};
  const list = Object.values(problems)
    .flat()
    .map((pr) => {
      const where = [
        pr.entrypoint && `entrypoint "${pr.entrypoint}"`,
        pr.resolutionKind && `resolution ${pr.resolutionKind}`,
        pr.typesFileName && `types ${pr.typesFileName.replace(/^\/node_modules\//, '')}`,
        pr.implementationFileName && `js ${pr.implementationFileName.replace(/^\/node_modules\//, '')}`,
      ].filter(Boolean);
      return `${pr.kind}${where.length ? ` (${where.join(', ')})` : ''}`;
    });
  if (code !== 0 && list.length === 0) list.push(`attw exited with ${code}`);
  return [...new Set(list)];
}

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
const tmp = mkdtempSync(join(tmpdir(), 'gradkit-check-packages-'));
const rows = [];
let failed = 0;
try {
  for (const dir of pkgDirs) {
    const pkg = readJson(join(dir, 'package.json'));
    const problems = metadataProblems(pkg, dir);
    const row = { name: pkg.name, size: '-', files: '-', publint: '-', attw: '-', own: '-' };
    let notes = [];
    if (problems.some((x) => x.includes('pnpm build'))) {
      row.own = 'FAIL';
    } else {
      let packed;
      try {
        packed = pack(dir, tmp);
      } catch (e) {
        problems.push(e.message);
        row.own = 'FAIL';
        rows.push(row);
        failed++;
        for (const x of problems) console.log(`${pkg.name}: ${x}`);
        continue;
      }
      const { tarball, files } = packed;
      problems.push(...tarballProblems(tarball, files));
      row.size = kb(statSync(tarball).size);
      row.files = String(files.length);
      const pl = await runPublint(tarball);
      notes = pl.note;
      // a command has no types to resolve: are-the-types-wrong has nothing to check
      const at = isCommand(pkg) ? [] : runAttw(tarball);
      row.publint = pl.fail.length ? `FAIL (${pl.fail.length})` : pl.note.length ? 'ok (notes)' : 'ok';
      row.attw = isCommand(pkg) ? 'n/a (bin)' : at.length ? `FAIL (${at.length})` : 'ok';
      row.own = problems.length ? `FAIL (${problems.length})` : 'ok';
      problems.push(...pl.fail.map((x) => `publint ${x}`), ...at.map((x) => `attw ${x}`));
    }
    rows.push(row);
    if (problems.length) failed++;
    for (const x of problems) console.log(`${pkg.name}: ${x}`);
    for (const x of notes) console.log(`${pkg.name}: publint ${x} (not failing)`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const cols = ['name', 'size', 'files', 'publint', 'attw', 'own'];
const heads = {
  name: 'package',
  size: 'tarball',
  files: 'files',
  publint: 'publint',
  attw: 'attw (strict)',
  own: 'metadata/files',
};
const width = Object.fromEntries(
  cols.map((c) => [c, Math.max(heads[c].length, ...rows.map((r) => r[c].length))]),
);
const line = (r) => cols.map((c) => r[c].padEnd(width[c])).join('  ');
console.log(`\n${line(heads)}\n${cols.map((c) => '-'.repeat(width[c])).join('  ')}`);
for (const r of rows) console.log(line(r));
console.log(
  failed
    ? `\ncheck:packages: ${failed} of ${rows.length} packages have problems (listed above)`
    : `\ncheck:packages: ${rows.length} packages pass publint, attw --profile strict (commands: n/a) and the file/metadata rules`,
);
process.exit(failed ? 1 : 0);

// README examples for the packed-tarball consumer test (scripts/consumer-test.sh): every package's
// README, as packed into its tarball, must start with its install line and hold an example that
// compiles against the published .d.ts and runs.
//
// The convention, checked for each README.md inside each tarball:
//   1. Line 1 is the title `# @gradkit/<name>`.
//   2. The first non-blank line after it opens a ```sh block whose first line is
//      `npm install @gradkit/<name> [more packages]`: the install line.
//   3. The example is the first ```ts (or ```typescript) block after the install block. It is a
//      complete ES module: everything it imports from a package must be on the install line, and
//      it must print something (console.log).
//
//   node readme-examples.mjs extract <tarball dir> <repo root> <out dir>
//     Reads package/README.md from every tarball, checks 1-3, writes <out dir>/<name>.mts (the
//     example verbatim), a tsconfig.json (strict, nodenext, emitting to <out dir>/out with source
//     maps) and manifest.json (where each example starts in its README).
//   node readme-examples.mjs run <out dir>
//     From the consumer project (its node_modules holds every tarball, typescript and
//     @types/node): type-checks all examples with tsc, then runs each compiled example with node.
//
// Every failure names the package and the README line: `packages/nn/README.md:27:5`, the line of
// the compile error or of the innermost stack frame inside the example (via source maps).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const FENCE = /^(`{3,}|~{3,})\s*([^`\s]*)/;
const RUN_TIMEOUT_MS = 180_000;

function tarText(tarball, path) {
  try {
    return execFileSync('tar', ['-xzOf', tarball, path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return null;
  }
}

/** The workspace folder of each package, by name, for messages (`packages/nn/README.md`). */
function packageDirs(root) {
  const dirs = new Map();
  for (const d of readdirSync(join(root, 'packages'))) {
    const file = join(root, 'packages', d, 'package.json');
    if (existsSync(file)) dirs.set(JSON.parse(readFileSync(file, 'utf8')).name, `packages/${d}`);
  }
  return dirs;
}

/** The fenced blocks of a markdown text: info word, 1-based fence line, body lines. */
function fencedBlocks(lines) {
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, fence, info] = open;
    let j = i + 1;
    const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    while (j < lines.length && !close.test(lines[j])) j++;
    blocks.push({
      info: info.toLowerCase(),
      line: i + 1,
      body: lines.slice(i + 1, j),
      closed: j < lines.length,
    });
    i = j;
  }
  return blocks;
}

/** Package names a module imports (bare specifiers only; `node:` builtins left out). */
function importedPackages(code) {
  const specs = new Set();
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.add(m[1]);
  const names = new Set();
  for (const s of specs) {
    if (s.startsWith('.') || s.startsWith('/') || s.startsWith('node:')) continue;
    const parts = s.split('/');
    names.add(s.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return names;
}

function extract(tarballDir, root, outDir) {
  const dirs = packageDirs(root);
  const problems = [];
  const manifest = [];
  mkdirSync(outDir, { recursive: true });
  const tarballs = readdirSync(tarballDir)
    .filter((f) => f.endsWith('.tgz'))
    .sort();
  for (const f of tarballs) {
    const tarball = join(tarballDir, f);
    const pkg = JSON.parse(tarText(tarball, 'package/package.json') ?? '{}');
    const name = pkg.name;
    const where = `${dirs.get(name) ?? name}/README.md`;
    const problem = (line, message) => problems.push(`${where}:${line}: ${name}: ${message}`);
    const text = tarText(tarball, 'package/README.md');
    if (text === null) {
      problem(1, `the tarball ${f} has no README.md`);
      continue;
    }
    const lines = text.split(/\r?\n/);
    if (lines[0] !== `# ${name}`) {
      problem(1, `the README must start with the title \`# ${name}\`, found \`${lines[0]}\``);
      continue;
    }
    let first = 1;
    while (first < lines.length && lines[first].trim() === '') first++;
    const blocks = fencedBlocks(lines);
    const install = blocks.find((b) => b.line === first + 1);
    if (!install || !['sh', 'bash', 'shell', 'console'].includes(install.info)) {
      problem(
        first + 1,
        'the README must start with its install line: a ```sh block right after the title, ' +
          `its first line \`npm install ${name} ...\`; found \`${lines[first] ?? ''}\``,
      );
      continue;
    }
    const installLine = (install.body[0] ?? '').replace(/#.*$/, '').trim();
    const words = installLine.split(/\s+/);
    if (words[0] !== 'npm' || !['install', 'i', 'add'].includes(words[1]) || words[2] !== name) {
      problem(
        install.line + 1,
        `the install line must be \`npm install ${name} ...\`, found \`${installLine}\``,
      );
      continue;
    }
    const installed = new Set(
      words
        .slice(2)
        .filter((w) => !w.startsWith('-'))
        .map((w) => w.replace(/(.)@[^/]*$/, '$1')),
    );
    const example = blocks.find((b) => b.line > install.line && (b.info === 'ts' || b.info === 'typescript'));
    if (!example) {
      problem(install.line, 'no ```ts example after the install line');
      continue;
    }
    if (!example.closed) {
      problem(example.line, 'the ```ts example is not closed');
      continue;
    }
    const code = `${example.body.join('\n')}\n`;
    for (const dep of importedPackages(code)) {
      if (!installed.has(dep)) {
        const at = example.body.findIndex((l) => l.includes(`'${dep}`) || l.includes(`"${dep}`));
        problem(
          example.line + 1 + Math.max(at, 0),
          `the example imports ${dep}, which the install line (line ${install.line + 1}) does not install`,
        );
      }
    }
    if (!/\bconsole\.(log|info|table)\(/.test(code)) {
      problem(example.line, 'the example prints nothing: show its result with console.log');
    }
    const file = `${name.replace(/^@gradkit\//, '')}.mts`;
    writeFileSync(join(outDir, file), code);
    manifest.push({ name, readme: where, line: example.line + 1, file, install: installLine });
  }
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(outDir, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022'],
          types: ['node'],
          strict: true,
          skipLibCheck: false,
          noEmitOnError: true,
          sourceMap: true,
          rootDir: '.',
          outDir: 'out',
        },
        files: manifest.map((m) => m.file),
      },
      null,
      2,
    )}\n`,
  );
  for (const m of manifest) console.log(`${m.name.padEnd(24)} ${m.readme}:${m.line}  (${m.install})`);
  if (problems.length > 0) {
    for (const p of problems) console.error(`README: ${p}`);
    process.exit(1);
  }
}

function run(outDir) {
  const dir = resolve(outDir);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const byFile = new Map(manifest.map((m) => [m.file, m]));
  const at = (file, line, col) => {
    const m = byFile.get(file);
    return m ? `${m.readme}:${m.line + Number(line) - 1}${col ? `:${col}` : ''}` : `${file}:${line}`;
  };
  let failed = 0;

  // 1. Types: all examples at once, strict, against the installed .d.ts files.
  const tsc = spawnSync(
    join('node_modules', '.bin', 'tsc'),
    ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
    {
      encoding: 'utf8',
    },
  );
  if (tsc.status !== 0) {
    const out = `${tsc.stdout}${tsc.stderr}`.trim().split('\n');
    for (const line of out) {
      const m = /^(?:.*[\\/])?([^\\/()]+\.mts)\((\d+),(\d+)\): (.*)$/.exec(line);
      if (m) {
        const entry = byFile.get(m[1]);
        console.error(
          `README example of ${entry?.name ?? m[1]} does not compile: ${at(m[1], m[2], m[3])}: ${m[4]}`,
        );
      } else if (line.trim()) console.error(`  ${line}`);
    }
    console.error('README examples: tsc failed (strict, against the published .d.ts)');
    return 1;
  }
  console.log(`tsc: ${manifest.length} README examples type-check (strict, nodenext, skipLibCheck off)`);

  // 2. Run each compiled example.
  for (const m of manifest) {
    const js = join(dir, 'out', m.file.replace(/\.mts$/, '.mjs'));
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--enable-source-maps', js], {
      encoding: 'utf8',
      timeout: RUN_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const stdout = r.stdout.trim();
    if (r.status !== 0 || r.error) {
      failed++;
      const stderr = (r.stderr ?? '').trim();
      const frame = new RegExp(`${m.file.replace('.', '\\.')}:(\\d+):(\\d+)`).exec(stderr);
      const place = frame ? at(m.file, frame[1], frame[2]) : `${m.readme}:${m.line}`;
      const why = r.error
        ? `${r.error.message}${r.signal ? ` (${r.signal})` : ''}`
        : (stderr.split('\n').find((l) => /^\w*(Error|Exception)\b[^:]*:/.test(l)) ??
          stderr.split('\n').find((l) => /Error|error:|Uncaught/.test(l)) ??
          stderr.split('\n')[0] ??
          `exit ${r.status}`);
      console.error(`README example of ${m.name} failed after ${seconds} s: ${place}: ${why}`);
      if (stdout) console.error(stdout.replace(/^/gm, '  | '));
      if (stderr) console.error(stderr.replace(/^/gm, '  ! '));
      continue;
    }
    if (!stdout) {
      failed++;
      console.error(`README example of ${m.name} printed nothing: ${m.readme}:${m.line}`);
      continue;
    }
    const shown = stdout.split('\n');
    const text = shown.length > 12 ? [...shown.slice(0, 12), `... (${shown.length - 12} more lines)`] : shown;
    console.log(`${m.name} (${m.readme}:${m.line}, ${seconds} s):`);
    console.log(text.map((l) => `  | ${l.length > 200 ? `${l.slice(0, 200)}...` : l}`).join('\n'));
  }
  if (failed > 0) {
    console.error(`README examples: ${failed} of ${manifest.length} failed`);
    return 1;
  }
  console.log(`README examples: all ${manifest.length} ran (${relative(process.cwd(), dir) || '.'})`);
  return 0;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'extract' && args.length === 3) extract(args[0], args[1], args[2]);
else if (mode === 'run' && args.length === 1) process.exit(run(args[0]));
else {
  console.error('usage: readme-examples.mjs extract <tarball dir> <repo root> <out dir> | run <out dir>');
  process.exit(2);
}

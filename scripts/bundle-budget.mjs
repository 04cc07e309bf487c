// Bundle budget (CI stage "bundle budget"; `node scripts/bundle-budget.mjs`): what a browser
// user's bundler makes of gradkit. A tiny training program (a linear model trained with Adam,
// through @gradkit/tensor, @gradkit/optimizers and @gradkit/kernels) is bundled with the
// workspace's esbuild as a browser bundle (platform browser, ESM, minified) and gzipped (level 9):
//   - without GL: at most BUDGET_KB (60 KB) min+gzip, and no gpu.js or Node built-in inside;
//   - with `import '@gradkit/kernels/gl'` added: the extra size is printed (not asserted).
// The packages come from their builds (packages/<name>/dist, through their exports maps, as from
// npm): a temporary project outside the workspace links node_modules/@gradkit/<name> to them.
// The no-GL bundle is also run with node, which must print a falling loss.
// It builds nothing: run `pnpm build` first. Exits non-zero when over budget or broken.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const BUDGET_KB = 60;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['kernels', 'tensor', 'optimizers'];
const t0 = Date.now();

for (const p of PACKAGES) {
  for (const f of ['index.js', ...(p === 'kernels' ? ['gl.js'] : [])]) {
    if (!existsSync(join(root, 'packages', p, 'dist', f))) {
      console.error(`bundle budget: packages/${p}/dist/${f} is missing: run \`pnpm build\` first`);
      process.exit(1);
    }
  }
}

const PROGRAM = `import { createDevice } from '@gradkit/kernels';
import { adam } from '@gradkit/optimizers';
import { linear, Module, mseLoss, Rng, randn, scope, setDevice, zeros } from '@gradkit/tensor';

class Regressor extends Module {
  w = this.registerParameter('w', randn([1, 3], { std: 0.1, rng: new Rng(1) }));
  b = this.registerParameter('b', zeros([1]));
  forward(x) {
    return linear(x, this.w, this.b);
  }
}

setDevice(createDevice());
const rng = new Rng(0);
const x = randn([64, 3], { rng });
const y = scope(() => x.matmul(randn([3, 1], { rng })).add(0.5));
const model = new Regressor();
const opt = adam(model, { lr: 0.05 });
const losses = [];
for (let step = 0; step < 40; step++) {
  const loss = scope(() => {
    const l = mseLoss(model.forward(x), y);
    l.backward();
    opt.step();
    opt.zeroGrad();
    return l;
  });
  losses.push(loss.item());
  loss.dispose();
}
console.log(JSON.stringify({ first: losses[0], last: losses.at(-1) }));
`;

const work = mkdtempSync(join(tmpdir(), 'gradkit-bundle-'));
let status = 0;
try {
  mkdirSync(join(work, 'node_modules', '@gradkit'), { recursive: true });
  for (const p of PACKAGES)
    symlinkSync(join(root, 'packages', p), join(work, 'node_modules', '@gradkit', p), 'dir');
  writeFileSync(
    join(work, 'package.json'),
    '{ "name": "gradkit-bundle", "private": true, "type": "module" }\n',
  );
  writeFileSync(join(work, 'train.js'), PROGRAM);
  writeFileSync(join(work, 'train-gl.js'), `import '@gradkit/kernels/gl';\n${PROGRAM}`);

  /** Bundles `entry`; returns its sizes and where the bytes come from. */
  async function bundle(entry) {
    const out = await esbuild.build({
      absWorkingDir: work,
      entryPoints: [entry],
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
      outfile: join(work, 'out', entry),
    });
    const code = out.outputFiles.find((f) => f.path.endsWith('.js')).contents;
    const inputs = Object.values(out.metafile.outputs)[0].inputs;
    const by = new Map();
    for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
      // the package a file belongs to: after the last node_modules/ (pnpm nests them), or a workspace package
      const npm = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
      const ws = /(?:^|\/)packages\/([^/]+)\//.exec(path);
      const key = npm ? npm[1] : ws ? `@gradkit/${ws[1]}` : path;
      by.set(key, (by.get(key) ?? 0) + bytesInOutput);
    }
    return {
      code,
      min: code.length,
      gzip: gzipSync(code, { level: 9 }).length,
      inputs: Object.keys(inputs),
      by: [...by].sort((a, b) => b[1] - a[1]),
      warnings: out.warnings,
    };
  }

  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const core = await bundle('train.js');
  const gl = await bundle('train-gl.js');
  const parts = (b) => b.by.map(([k, n]) => `${k} ${kb(n)}`).join(', ');
  console.log(
    `tensor + optimizers + kernels, no GL: ${kb(core.min)} min, ${kb(core.gzip)} min+gzip ` +
      `(budget ${BUDGET_KB} KB min+gzip)\n  minified bytes by package: ${parts(core)}`,
  );
  console.log(
    `with import '@gradkit/kernels/gl': ${kb(gl.min)} min, ${kb(gl.gzip)} min+gzip: ` +
      `the GL entry adds ${kb(gl.min - core.min)} min, ${kb(gl.gzip - core.gzip)} min+gzip (reported, not asserted)` +
      `\n  minified bytes by package: ${parts(gl)}`,
  );
  for (const w of [...core.warnings, ...gl.warnings]) console.log(`esbuild warning: ${w.text}`);

  const problems = [];
  if (core.gzip > BUDGET_KB * 1024)
    problems.push(`the no-GL bundle is ${kb(core.gzip)} min+gzip, over the ${BUDGET_KB} KB budget`);
  const foreign = core.inputs.filter(
    (p) => /node_modules\/(gpu\.js|gl|webgpu)\//.test(p) || /^node:|^\(disabled\)/.test(p),
  );
  if (foreign.length) problems.push(`the no-GL bundle holds ${foreign.join(', ')}`);
  if (!gl.inputs.some((p) => /node_modules\/gpu\.js\//.test(p)))
    problems.push('the GL bundle holds no gpu.js: the comparison measures nothing');

  // The no-GL bundle must work: run it with node.
  const file = join(work, 'core.bundle.mjs');
  writeFileSync(file, core.code);
  try {
    const env = { ...process.env };
    delete env.GRADKIT_BACKEND;
    const { first, last } = JSON.parse(
      execFileSync(process.execPath, [file], { encoding: 'utf8', env }).trim(),
    );
    console.log(
      `the no-GL bundle runs in node: loss ${first.toFixed(4)} -> ${last.toFixed(4)} in 40 Adam steps`,
    );
    if (!(last < first * 0.5)) problems.push(`the no-GL bundle's loss did not fall: ${first} -> ${last}`);
  } catch (e) {
    problems.push(`the no-GL bundle does not run: ${e.message.split('\n')[0]}`);
  }
  for (const p of problems) console.error(`bundle budget FAILED: ${p}`);
  status = problems.length ? 1 : 0;
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`bundle budget: ${status ? 'failed' : 'passed'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(status);

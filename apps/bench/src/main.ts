// apps/bench: matmul GFLOP/s and one MLP training step on every gradkit backend that starts here,
// with the plain-JS triple loop as the baseline measured in the same run.
//   pnpm bench            full run (n = 256, 512, 1024)
//   pnpm bench -- --quick short run for CI (checks that it runs, not how fast)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackendAvailability } from '@gradkit/kernels';
import { availableBackends, createDevice } from '@gradkit/kernels';
import type { MatmulResult } from './matmul.js';
import { benchDevice, benchNaive } from './matmul.js';
import type { MlpResult } from './mlp.js';
import { benchMlp } from './mlp.js';
import { table } from './stats.js';

const USAGE = 'usage: pnpm bench [-- --quick] [--out DIR] [--backends gl,wasm,cpu]';

function parseArgs(argv: string[]) {
  let quick = false;
  let out = process.env.GRADKIT_BENCH_OUT || 'bench-results';
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if (a === '--quick') quick = true;
    else if (a === '--out' && argv[i + 1]) out = argv[++i];
    else if (a === '--backends' && argv[i + 1]) only = argv[++i].split(',');
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`bench: unknown argument '${a}'\n${USAGE}`);
      process.exit(2);
    }
  }
  return { quick, out: resolve(out), only };
}

function main(): void {
  const { quick, out, only } = parseArgs(process.argv.slice(2));
  const sizes = quick ? [64, 128] : [256, 512, 1024];
  const reps = quick ? 2 : 5;
  const mlpReps = quick ? 2 : 10;
  const backends: BackendAvailability[] = availableBackends().filter((b) => !only || only.includes(b.name));
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} x ${cpus().length}, Node ${process.version}`;
  console.log(`gradkit bench${quick ? ' (quick)' : ''} on ${machine}`);
  for (const b of backends) if (!b.available) console.log(`  skipped ${b.name}: ${b.reason}`);

  const matmul: MatmulResult[] = [];
  const mlp: MlpResult[] = [];
  const infos = [];
  for (const n of sizes) matmul.push(benchNaive(n, n >= 1024 ? Math.min(reps, 2) : reps));
  for (const b of backends.filter((x) => x.available)) {
    const d = createDevice({ backend: b.name });
    infos.push(d.info());
    for (const n of sizes) {
      const variants: MatmulResult['variant'][] = n === 512 || quick ? ['A*B', 'A^T*B', 'A*B^T'] : ['A*B'];
      for (const v of variants) matmul.push(benchDevice(d, n, v, reps));
    }
    mlp.push(benchMlp(d, mlpReps));
    d.destroy();
  }

  const baseline = (n: number) => matmul.find((r) => r.n === n && r.contender.startsWith('plain'))!.gflops;
  console.log(
    '\nmatmul (float32, square n x n; GFLOP/s = 2n^3 / median time; ratio = vs the plain-JS loop at the same n)',
  );
  console.log(
    table(
      ['contender', 'variant', 'n', 'median ms', 'min ms', 'max ms', 'GFLOP/s', 'x baseline'],
      matmul.map((r) => [
        r.contender,
        r.variant,
        r.n,
        r.timing.medianMs.toFixed(2),
        r.timing.minMs.toFixed(2),
        r.timing.maxMs.toFixed(2),
        r.gflops.toFixed(2),
        (r.gflops / baseline(r.n)).toFixed(2),
      ]),
    ),
  );
  console.log(
    '\nMLP training step (784-256-256-10 ReLU, batch 128, softmax cross-entropy, SGD; loss read each step)',
  );
  console.log(
    table(
      ['contender', 'median ms', 'min ms', 'max ms', 'samples/s', 'read-backs/step'],
      mlp.map((r) => [
        r.contender,
        r.timing.medianMs.toFixed(1),
        r.timing.minMs.toFixed(1),
        r.timing.maxMs.toFixed(1),
        Math.round(r.samplesPerSecond),
        r.readbacksPerStep,
      ]),
    ),
  );
  const n512 = quick ? sizes[sizes.length - 1] : 512;
  const best = matmul.filter((r) => r.n === n512 && r.variant === 'A*B' && r.contender.startsWith('gradkit'));
  if (best.length) {
    const top = best.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    console.log(
      `\nbest backend at n=${n512}: ${top.contender}, ${top.gflops.toFixed(2)} GFLOP/s = ${(top.gflops / baseline(n512)).toFixed(2)}x the plain-JS loop`,
    );
  }
  mkdirSync(out, { recursive: true });
  const file = join(out, quick ? 'bench-quick.json' : 'bench.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), machine, quick, backends: infos, matmul, mlp }, null, 2)}\n`,
  );
  console.log(`\nwrote ${file}`);
}

main();

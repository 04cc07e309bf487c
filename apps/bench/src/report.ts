// The run's report: terminal tables, the target ratios of the issue, the JSON document and the chart.
import type { Bar, BarGroup, Panel } from './chart.js';
import { colorOf, renderChart } from './chart.js';
import { cnnPanel } from './cnn-report.js';
import type { Machine } from './machine.js';
import { fmt, ratio, table } from './stats.js';
import type {
  CnnCannotTrain,
  CnnRow,
  ConvRow,
  MatmulRow,
  MicroRow,
  MnistRow,
  Sizes,
  Variant,
} from './types.js';
import { MICRO_OPS, VARIANTS } from './types.js';

/** A contender as reported: availability, details from its worker, errors. */
export interface ContenderReport {
  readonly id: string;
  readonly label: string;
  readonly available: boolean;
  readonly reason: string;
  readonly ran: boolean;
  readonly details: Record<string, string>;
  readonly errors: string[];
}

/** One target of the issue, met or not (null: could not be measured in this run). */
export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly value: string;
  readonly met: boolean | null;
  readonly detail: string;
}

/** The JSON document of a run (bench-results/<timestamp>.json). */
export interface BenchReport {
  readonly schema: 'gradkit-bench/1';
  readonly date: string;
  readonly quick: boolean;
  readonly argv: readonly string[];
  readonly seconds: number;
  readonly machine: Machine;
  readonly sizes: Sizes;
  readonly seed: number;
  readonly timeLimitS: number;
  /** 1-minute load average at the start and the end (other work on the machine skews timings). */
  readonly load: { readonly start: number; readonly end: number };
  readonly contenders: readonly ContenderReport[];
  readonly matmul: readonly MatmulRow[];
  readonly micro: readonly MicroRow[];
  /** Conv rows (absent in result files from before the conv workload). */
  readonly conv?: readonly ConvRow[];
  readonly mnist: readonly MnistRow[];
  /** cnn (LeNet-5) epochs, and the contenders that cannot train it (absent in older result files). */
  readonly cnn?: readonly CnnRow[];
  readonly cnnCannotTrain?: readonly CnnCannotTrain[];
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

const isGradkit = (id: string) => id.startsWith('gradkit-');
/** gradkit backends that run on the CPU (every one but gl). */
const isGradkitCpu = (id: string) => isGradkit(id) && id !== 'gradkit-gl';

/** The matmul size the targets use: 512, or the largest measured (quick mode). */
export function targetN(rows: readonly MatmulRow[]): number | null {
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  if (!ns.length) return null;
  return ns.includes(512) ? 512 : ns[ns.length - 1];
}

function mm(rows: readonly MatmulRow[], id: string, v: Variant, n: number): MatmulRow | undefined {
  return rows.find((r) => r.contender === id && r.variant === v && r.n === n);
}

/** The fastest gradkit MNIST run (complete epochs preferred). */
export function bestGradkitMnist(rows: readonly MnistRow[]): MnistRow | undefined {
  const g = rows.filter((r) => isGradkit(r.contender));
  const pool = g.some((r) => !r.partial) ? g.filter((r) => !r.partial) : g;
  return pool.reduce<MnistRow | undefined>(
    (a, b) => (!a || b.samplesPerSecond > a.samplesPerSecond ? b : a),
    undefined,
  );
}

/** The targets of the issue, computed from this run's rows. */
export function computeTargets(
  matmul: readonly MatmulRow[],
  mnist: readonly MnistRow[],
  machine: Machine,
  quick: boolean,
): Target[] {
  const out: Target[] = [];
  const n = targetN(matmul);
  const sizeNote = quick ? ` (quick mode: n=${n}, not the target size)` : '';
  if (n !== null) {
    const peer = mm(matmul, 'tfjs-wasm', 'A*B', n);
    for (const v of VARIANTS) {
      const cands = matmul.filter((r) => isGradkitCpu(r.contender) && r.variant === v && r.n === n);
      const best = cands.reduce<MatmulRow | undefined>(
        (a, b) => (!a || b.gflops > a.gflops ? b : a),
        undefined,
      );
      const r = best && peer ? best.gflops / peer.gflops : null;
      out.push({
        name: `matmul n=${n} ${v}: best gradkit CPU backend vs TF.js wasm A*B`,
        goal: '>= 1.0x',
        value: r === null ? 'n/a' : `${fmt(r)}x`,
        met: r === null ? null : r >= 1,
        detail:
          best && peer
            ? `${best.contender} ${fmt(best.gflops)} GFLOP/s vs tfjs-wasm ${fmt(peer.gflops)} GFLOP/s${sizeNote}`
            : `missing: ${best ? '' : 'a gradkit CPU backend'}${!best && !peer ? ' and ' : ''}${peer ? '' : 'tfjs-wasm'}${sizeNote}`,
      });
    }
  }
  const best = bestGradkitMnist(mnist);
  const row = (id: string) => mnist.find((r) => r.contender === id);
  const partial = (r: MnistRow | undefined) =>
    r?.partial ? ` (${r.contender}: partial epoch, ${r.trainSamples} samples)` : '';
  const epochNote = quick ? ' (quick mode: a short slice, not the epoch)' : '';
  for (const [id, goal, factor] of [
    ['tfjs-wasm', '>= 2x (aim 5x)', 2],
    ['tfjs-cpu', '>= 20x', 20],
  ] as const) {
    const p = row(id);
    const r = best && p ? best.samplesPerSecond / p.samplesPerSecond : null;
    out.push({
      name: `MNIST epoch samples/s: best gradkit vs ${id}`,
      goal,
      value: r === null ? 'n/a' : `${fmt(r)}x`,
      met: r === null ? null : r >= factor,
      detail:
        best && p
          ? `${best.contender} ${fmt(best.samplesPerSecond)} vs ${id} ${fmt(p.samplesPerSecond)} samples/s${id === 'tfjs-wasm' && r !== null ? (r >= 5 ? '; aim 5x met' : '; aim 5x not met') : ''}${partial(best)}${partial(p)}${epochNote}`
          : `missing: ${best ? id : 'a gradkit MNIST run'}`,
    });
  }
  const tf =
    [row('tfjs-wasm'), row('tfjs-cpu')].find((r) => r && !r.partial) ?? row('tfjs-wasm') ?? row('tfjs-cpu');
  {
    const d = best && tf ? 100 * (best.testAccuracy - tf.testAccuracy) : null;
    const comparable = best && tf && !best.partial && !tf.partial;
    out.push({
      name: 'MNIST test accuracy after the epoch: best gradkit vs TF.js',
      goal: 'no more than 0.5 points below',
      value: d === null ? 'n/a' : `${d >= 0 ? '+' : ''}${d.toFixed(2)} points`,
      met: d === null || !comparable ? null : d >= -0.5,
      detail:
        best && tf
          ? `${best.contender} ${(100 * best.testAccuracy).toFixed(2)}% vs ${tf.contender} ${(100 * tf.testAccuracy).toFixed(2)}% on ${tf.testSamples} test images${comparable ? '' : ' (not comparable: a partial epoch)'}${epochNote}`
          : 'missing: a gradkit or TF.js MNIST run',
    });
  }
  {
    const p = row('tfjs-wasm');
    out.push({
      name: 'MNIST peak memory (RSS): best gradkit vs TF.js wasm',
      goal: '<= TF.js wasm',
      value: best && p ? `${fmt(best.peakRssMiB)} vs ${fmt(p.peakRssMiB)} MiB` : 'n/a',
      met: best && p ? best.peakRssMiB <= p.peakRssMiB : null,
      detail:
        best && p ? `${best.contender} / tfjs-wasm = ${ratio(best.peakRssMiB, p.peakRssMiB)}` : 'missing',
    });
  }
  {
    const torchMnist = row('torch-cpu');
    const torchMm = n !== null ? mm(matmul, 'torch-cpu', 'A*B', n) : undefined;
    const bestMm =
      n !== null
        ? matmul
            .filter((r) => isGradkit(r.contender) && r.variant === 'A*B' && r.n === n)
            .reduce<MatmulRow | undefined>((a, b) => (!a || b.gflops > a.gflops ? b : a), undefined)
        : undefined;
    const topAny =
      n !== null
        ? matmul
            .filter((r) => r.n === n)
            .reduce<MatmulRow | undefined>((a, b) => (!a || b.gflops > a.gflops ? b : a), undefined)
        : undefined;
    const parts: string[] = [];
    if (bestMm && torchMm)
      parts.push(
        `matmul n=${n} A*B ${bestMm.contender} ${fmt(bestMm.gflops)} vs ${fmt(torchMm.gflops)} GFLOP/s = ${ratio(bestMm.gflops, torchMm.gflops)}`,
      );
    if (best && torchMnist)
      parts.push(
        `MNIST ${best.contender} ${fmt(best.samplesPerSecond)} vs ${fmt(torchMnist.samplesPerSecond)} samples/s = ${ratio(best.samplesPerSecond, torchMnist.samplesPerSecond)}`,
      );
    if (machine.peakNativeGflops && machine.peakSimd128Gflops) {
      const peak = machine.peakNativeGflops;
      const share = (r: MatmulRow | undefined) =>
        r ? `${r.contender} ${(100 * (r.gflops / peak)).toFixed(1)}%` : null;
      const tfw = n !== null ? mm(matmul, 'tfjs-wasm', 'A*B', n) : undefined;
      parts.push(
        `hardware: nominal 1-core peaks at the base clock ${fmt(peak)} GFLOP/s (native ${machine.simd} FMA) and ` +
          `${fmt(machine.peakSimd128Gflops)} GFLOP/s (128-bit SIMD without FMA, as WebAssembly issues it; turbo clocks and ` +
          'several threads go beyond it)' +
          (n !== null
            ? `; A*B at n=${n} as a share of the native peak: ${[share(bestMm), share(tfw), share(torchMm)].filter(Boolean).join(', ')}`
            : '') +
          (topAny
            ? `; fastest matmul here: ${topAny.contender} ${topAny.variant} ${fmt(topAny.gflops)} GFLOP/s`
            : ''),
      );
    }
    out.push({
      name: 'distance to the hardware limit: best gradkit vs PyTorch (1 thread)',
      goal: 'reported',
      value:
        bestMm && torchMm
          ? ratio(bestMm.gflops, torchMm.gflops)
          : best && torchMnist
            ? ratio(best.samplesPerSecond, torchMnist.samplesPerSecond)
            : 'n/a',
      met: null,
      detail: parts.join('; ') || 'PyTorch did not run (optional)',
    });
  }
  return out;
}

function cell(t: { medianMs: number; minMs: number; maxMs: number }, n: number): string {
  // GFLOP/s median [slowest-fastest]
  const g = (ms: number) => (2 * n * n * n) / ms / 1e6;
  return `${fmt(g(t.medianMs))} [${fmt(g(t.maxMs))}-${fmt(g(t.minMs))}]`;
}

/** The matmul table: GFLOP/s per contender and variant, one column per size. */
export function matmulTable(rows: readonly MatmulRow[], order: readonly string[]): string {
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const body: string[][] = [];
  for (const id of order) {
    for (const v of VARIANTS) {
      const rs = ns.map((n) => mm(rows, id, v, n));
      if (rs.every((r) => !r)) continue;
      body.push([id, v, ...rs.map((r, i) => (r ? cell(r.timing, ns[i]) : '-'))]);
    }
  }
  return table(['contender', 'variant', ...ns.map((n) => `n=${n} GFLOP/s [min-max]`)], body, ['l', 'l']);
}

/** Ratios of every gradkit backend to every peer at the target size, same variant. */
export function matmulRatioTable(rows: readonly MatmulRow[], order: readonly string[]): string {
  const n = targetN(rows);
  if (n === null) return '';
  const peers = order.filter((id) => !isGradkit(id) && rows.some((r) => r.contender === id && r.n === n));
  const body: string[][] = [];
  for (const id of order.filter(isGradkit)) {
    for (const v of VARIANTS) {
      const g = mm(rows, id, v, n);
      if (!g) continue;
      body.push([
        id,
        v,
        ...peers.map((p) =>
          ratio(
            g.gflops,
            (mm(rows, p, v, n) ?? (p === 'js-loop' ? mm(rows, p, 'A*B', n) : undefined))?.gflops,
          ),
        ),
      ]);
    }
  }
  return body.length ? table(['gradkit', 'variant', ...peers.map((p) => `vs ${p}`)], body, ['l', 'l']) : '';
}

/** The micro-benchmark table: ms per call, throughput, ratios to the peers. */
export function microTable(rows: readonly MicroRow[], order: readonly string[]): string {
  const peers = order.filter((id) => !isGradkit(id) && rows.some((r) => r.contender === id));
  const body: string[][] = [];
  for (const op of MICRO_OPS) {
    for (const id of order) {
      const r = rows.find((x) => x.op === op && x.contender === id);
      if (!r) continue;
      const t = r.timing;
      body.push([
        op,
        r.shape,
        id,
        fmt(t.medianMs),
        fmt(t.minMs),
        fmt(t.maxMs),
        fmt(r.elements / t.medianMs / 1e3),
        ...peers.map((p) => {
          const q = rows.find((x) => x.op === op && x.contender === p);
          return isGradkit(id) && q ? ratio(q.timing.medianMs, t.medianMs) : '';
        }),
      ]);
    }
  }
  return table(
    [
      'op',
      'shape',
      'contender',
      'median ms',
      'min ms',
      'max ms',
      'Melem/s',
      ...peers.map((p) => `speed vs ${p}`),
    ],
    body,
    ['l', 'l', 'l'],
  );
}

/** The MNIST table: throughput, step times, accuracy, peak memory, ratios. */
export function mnistTable(rows: readonly MnistRow[], order: readonly string[]): string {
  const peers = ['tfjs-wasm', 'tfjs-cpu', 'torch-cpu'].filter((p) => rows.some((r) => r.contender === p));
  const body: string[][] = [];
  for (const id of order) {
    const r = rows.find((x) => x.contender === id);
    if (!r) continue;
    body.push([
      id,
      `${r.trainSamples}${r.partial ? '*' : ''}`,
      fmt(r.seconds),
      fmt(r.samplesPerSecond),
      `${fmt(r.step.medianMs)} [${fmt(r.step.minMs)}-${fmt(r.step.maxMs)}]`,
      `${(100 * r.testAccuracy).toFixed(2)}%`,
      r.lastLoss === null ? '-' : fmt(r.lastLoss),
      r.cpuSeconds > 0 && r.seconds > 0 ? fmt(r.cpuSeconds / r.seconds, 2) : '-',
      `${fmt(r.peakRssMiB)} (${fmt(r.dataRssMiB)})`,
      ...peers.map((p) => {
        const q = rows.find((x) => x.contender === p);
        return q && p !== id ? ratio(r.samplesPerSecond, q.samplesPerSecond) : '';
      }),
    ]);
  }
  return table(
    [
      'contender',
      'samples',
      'seconds',
      'samples/s',
      'ms/step median [min-max]',
      'test acc',
      'last loss',
      'cores',
      'peak RSS MiB (data)',
      ...peers.map((p) => `vs ${p}`),
    ],
    body,
  );
}

/** The targets as text lines. */
export function targetLines(targets: readonly Target[]): string[] {
  return targets.map((t) => {
    const mark = t.met === null ? '[ -- ]' : t.met ? '[ met ]' : '[NOT met]';
    return `${mark.padEnd(9)} ${t.name}: ${t.value} (goal ${t.goal})\n          ${t.detail}`;
  });
}

/** The chart: MNIST samples/s and matmul GFLOP/s per contender. */
export function chartSvg(r: BenchReport, order: readonly string[]): string {
  const n = targetN(r.matmul);
  const panels: Panel[] = [];
  const mnistGroups: BarGroup[] = order
    .map((id) => r.mnist.find((m) => m.contender === id))
    .filter((m): m is MnistRow => !!m)
    .map((m) => ({
      label: m.contender,
      bars: [
        {
          label: 'samples/s',
          value: m.samplesPerSecond,
          color: colorOf(m.contender),
          ...(m.partial ? { note: `partial: ${m.trainSamples} samples` } : {}),
        },
      ],
    }));
  panels.push({
    title: `MNIST MLP ${r.sizes.layers.join('-')}, Adam, batch ${r.sizes.batch}: training samples/s${r.quick ? ' (quick slice)' : ' (one epoch)'}`,
    unit: 'samples/s',
    groups: mnistGroups,
  });
  if (n !== null) {
    const groups: BarGroup[] = [];
    for (const id of order) {
      const bars: Bar[] = [];
      VARIANTS.forEach((v, i) => {
        const row = mm(r.matmul, id, v, n);
        if (row) bars.push({ label: v, value: row.gflops, color: colorOf(id, i) });
      });
      if (bars.length) groups.push({ label: id, bars });
    }
    panels.push({
      title: `matmul n=${n} (float32): GFLOP/s`,
      unit: 'GFLOP/s',
      groups,
      legend: VARIANTS.map((v, i) => [`${v} (${['dark', 'medium', 'light'][i]})`, colorOf('js', i)] as const),
    });
  }
  const convRows = (r.conv ?? []).filter((x) => x.kind === 'conv2d' && x.gflops !== null);
  const convNames = [...new Set(convRows.map((x) => x.case))];
  if (convRows.length) {
    const groups: BarGroup[] = [];
    for (const id of order) {
      const bars: Bar[] = [];
      convNames.forEach((name, i) => {
        const row = convRows.find((x) => x.contender === id && x.case === name);
        if (row?.gflops)
          bars.push({
            label: name,
            value: row.gflops,
            color: colorOf(id, i),
            ...(row.check?.ok === false ? { note: 'WRONG numbers' } : {}),
          });
      });
      if (bars.length) groups.push({ label: id, bars });
    }
    panels.push({
      title: `conv2d forward + backward (float32): GFLOP/s${r.quick ? ' (quick: tiny shapes)' : ''}`,
      unit: 'GFLOP/s',
      groups,
      legend: convNames.map(
        (name, i) => [`${name} (${['dark', 'medium', 'light'][i] ?? ''})`, colorOf('js', i)] as const,
      ),
    });
  }
  if ((r.cnn ?? []).length)
    panels.push(cnnPanel(r.cnn ?? [], r.cnnCannotTrain ?? [], order, r.quick, r.sizes.cnnBatch));
  const m = r.machine;
  return renderChart(
    `gradkit bench${r.quick ? ' (quick)' : ''}, ${r.date}`,
    `${m.cpu} x ${m.cores}, ${m.platform}, Node ${m.node}; lighter bars: partial epoch (time limit) or numbers that failed the check`,
    panels,
  );
}

// The conv workload in the report: the numeric check of every row, the tables, the targets of
// issue 12 and the notes.
import {
  backwardGflops,
  CONV_TOLERANCE,
  compareProbe,
  convChecksum,
  convData,
  describeCase,
  PROBE_COUNT,
  probeIndices,
  referenceProbe,
} from './conv.js';
import type { Target } from './report.js';
import { fmt, isSingleRun, ratio, table } from './stats.js';
import type { ConvCase, ConvRow } from './types.js';

/** The gradkit backend the conv ratios and targets are about. */
export const CONV_GRADKIT = 'gradkit-wasm';
/** The contender every other one is also compared with. */
export const CONV_ANCHOR = 'gradkit-cpu';

/**
 * Fills in `check` on every trained row: its probe against float64 values computed from the
 * definition and against gradkit cpu's probe of the same case (when gradkit cpu ran it), both
 * under {@link CONV_TOLERANCE}. Returns the notes (data mismatches, failed checks).
 */
export function verifyConvRows(rows: ConvRow[], cases: readonly ConvCase[], seed: number): string[] {
  const notes: string[] = [];
  cases.forEach((c, index) => {
    const mine = rows.filter((r) => r.case === c.name);
    if (!mine.length) return;
    const data = convData(c, seed, index);
    const sum = convChecksum(data);
    for (const r of mine)
      if (Math.abs(r.checksum - sum) > 1e-9 * Math.max(1, Math.abs(sum)))
        notes.push(
          `DATA MISMATCH: ${r.contender} ran conv ${c.name} on other data (checksum ${r.checksum} vs ${sum})`,
        );
    const ref = referenceProbe(c, data, probeIndices(c));
    const anchor = mine.find((r) => r.contender === CONV_ANCHOR && r.probe);
    for (const r of mine) {
      if (!r.probe) continue;
      const vsReference = compareProbe(r.probe, ref);
      const vsGradkitCpu = anchor?.probe && anchor !== r ? compareProbe(r.probe, anchor.probe) : null;
      r.check = { ok: vsReference.ok && (vsGradkitCpu?.ok ?? true), vsReference, vsGradkitCpu };
      if (!vsReference.ok)
        notes.push(
          `WRONG: ${r.contender} conv ${c.name} disagrees with the float64 reference (${vsReference.where}, ${fmt(vsReference.worst)}x the tolerance): excluded from ratios and targets`,
        );
      else if (vsGradkitCpu && !vsGradkitCpu.ok)
        notes.push(
          `WRONG: ${r.contender} conv ${c.name} disagrees with ${CONV_ANCHOR} (${vsGradkitCpu.where}, ${fmt(vsGradkitCpu.worst)}x the tolerance): excluded from ratios and targets`,
        );
    }
  });
  return notes;
}

/** A row that trained and passed its check (or was not checked: no reference ran). */
export const trustworthy = (
  r: ConvRow | undefined,
): r is ConvRow & { train: NonNullable<ConvRow['train']> } =>
  !!r && r.train !== null && r.check?.ok !== false;

/** The fastest TF.js backend that can train case `name` (and passed the check), if any. */
export function fastestTfjs(rows: readonly ConvRow[], name: string): ConvRow | undefined {
  return rows
    .filter((r) => r.case === name && r.contender.startsWith('tfjs-') && trustworthy(r))
    .reduce<ConvRow | undefined>((a, b) => (!a || b.train!.medianMs < a.train!.medianMs ? b : a), undefined);
}

/** Elements of a pool's input (its throughput unit). */
const elements = (c: ConvCase) => c.batch * c.channels * c.height * c.width;

/** Throughput of `ms` for a case: GFLOP/s of `flops` for a convolution, million input elements/s for a pool. */
function rate(c: ConvCase, flops: number, ms: number | undefined): string {
  if (ms === undefined || !(ms > 0)) return '-';
  return c.kind === 'conv2d' ? fmt(flops / ms / 1e6) : fmt(elements(c) / ms / 1e3);
}

function checkCell(r: ConvRow): string {
  if (r.cannotTrain !== null) return `cannot train: ${r.cannotTrain}`;
  if (!r.check) return 'not checked';
  if (!r.check.ok)
    return `WRONG (${r.check.vsReference.ok ? `vs ${CONV_ANCHOR}: ${r.check.vsGradkitCpu?.where}` : r.check.vsReference.where})`;
  const worst = Math.max(r.check.vsReference.worst, r.check.vsGradkitCpu?.worst ?? 0);
  return `ok (${fmt(worst, 2)} of tol)`;
}

/** One table per case: times, throughput (forward, forward + backward, backward derived), check, ratios. */
export function convTables(
  rows: readonly ConvRow[],
  cases: readonly ConvCase[],
  order: readonly string[],
): string {
  const out: string[] = [];
  for (const c of cases) {
    const mine = order
      .map((id) => rows.find((r) => r.case === c.name && r.contender === id))
      .filter((r): r is ConvRow => !!r);
    if (!mine.length) continue;
    const tf = fastestTfjs(rows, c.name);
    const torch = rows.find((r) => r.case === c.name && r.contender === 'torch-cpu');
    const unit = c.kind === 'conv2d' ? 'GFLOP/s' : 'Melem/s';
    const flops = mine[0].flops;
    out.push(
      `-- ${c.name}: ${describeCase(c)}${c.kind === 'conv2d' ? `; ${fmt(flops / 1e9)} GFLOP per fwd+bwd (3 passes of ${fmt(flops / 3e9)})` : `; ${unit} = input elements / time`}`,
    );
    const body = mine.map((r) => {
      const t = r.train;
      const f = r.forward;
      const bwd =
        c.kind === 'conv2d'
          ? backwardGflops(r)
          : t && f && t.medianMs > f.medianMs
            ? elements(c) / (t.medianMs - f.medianMs) / 1e3
            : null;
      const isGk = r.contender.startsWith('gradkit-') && trustworthy(r);
      return [
        r.contender,
        t
          ? isSingleRun(t)
            ? `${fmt(t.medianMs)} (1 run)`
            : `${fmt(t.medianMs)} [${fmt(t.minMs)}-${fmt(t.maxMs)}]`
          : '-',
        t ? rate(c, flops, t.medianMs) : '-',
        f ? rate(c, flops / 3, f.medianMs) : '-',
        bwd === null ? '-' : fmt(bwd),
        isGk && tf ? `${ratio(tf.train!.medianMs, t!.medianMs)} (${tf.contender})` : '',
        isGk && trustworthy(torch) ? ratio(torch.train.medianMs, t!.medianMs) : '',
        checkCell(r),
      ];
    });
    out.push(
      table(
        [
          'contender',
          'fwd+bwd ms [min-max]',
          `fwd+bwd ${unit}`,
          `fwd ${unit}`,
          `bwd ${unit} (derived)`,
          'vs fastest TF.js that trains',
          'vs torch-cpu',
          'check',
        ],
        body,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
      '',
    );
  }
  return out.join('\n').trimEnd();
}

/**
 * The conv targets of issue 12, per convolution case, for gradkit wasm: forward + backward at least
 * 10x the fastest TF.js backend that can train it (the issue's CNN-epoch goal applied to the
 * layer), at least 0.3x PyTorch 1 thread (aim 0.5x), and its backward passes within a small factor
 * of its forward (derived backward GFLOP/s at least 0.5x the forward's).
 */
export function convTargets(rows: readonly ConvRow[], cases: readonly ConvCase[], quick: boolean): Target[] {
  const out: Target[] = [];
  const sizeNote = quick ? ' (quick mode: tiny shapes, not the target size)' : '';
  for (const c of cases.filter((x) => x.kind === 'conv2d')) {
    const find = (id: string) => rows.find((r) => r.case === c.name && r.contender === id);
    const g = find(CONV_GRADKIT);
    if (!g) continue;
    const gOk = trustworthy(g);
    const gWhy = !gOk
      ? `${CONV_GRADKIT}: ${g.train === null ? 'did not train' : 'numbers WRONG (see notes)'}`
      : '';
    const tfRows = rows.filter((r) => r.case === c.name && r.contender.startsWith('tfjs-'));
    const tf = fastestTfjs(rows, c.name);
    const cannot = tfRows
      .filter((r) => r.cannotTrain !== null)
      .map((r) => `${r.contender} cannot train: ${r.cannotTrain}`);
    {
      const r = gOk && tf ? tf.train!.medianMs / g.train!.medianMs : null;
      out.push({
        name: `conv ${c.name} fwd+bwd: ${CONV_GRADKIT} vs the fastest TF.js backend that can train it`,
        goal: '>= 10x (the CNN-epoch goal, per layer)',
        value: r === null ? (gOk ? 'n/a' : 'fails') : `${fmt(r)}x`,
        met: !gOk && g.train !== null ? false : r === null ? null : r >= 10,
        detail:
          (gOk && tf
            ? `${CONV_GRADKIT} ${fmt(g.gflops)} vs ${tf.contender} ${fmt(tf.gflops)} GFLOP/s`
            : gWhy || (tfRows.length ? 'no TF.js backend could train it' : 'missing: TF.js')) +
          (cannot.length ? `; ${cannot.join('; ')}` : '') +
          sizeNote,
      });
    }
    {
      const t = find('torch-cpu');
      const r = gOk && trustworthy(t) ? t.train.medianMs / g.train!.medianMs : null;
      out.push({
        name: `conv ${c.name} fwd+bwd: ${CONV_GRADKIT} vs PyTorch (1 thread)`,
        goal: '>= 0.3x (aim 0.5x)',
        value: r === null ? (gOk ? 'n/a' : 'fails') : `${fmt(r)}x`,
        met: !gOk && g.train !== null ? false : r === null ? null : r >= 0.3,
        detail:
          gOk && trustworthy(t)
            ? `${CONV_GRADKIT} ${fmt(g.gflops)} vs torch-cpu ${fmt(t.gflops)} GFLOP/s${r !== null ? (r >= 0.5 ? '; aim 0.5x met' : '; aim 0.5x not met') : ''}${sizeNote}`
            : gWhy || `PyTorch did not run it (optional)${sizeNote}`,
      });
    }
    {
      const bwd = gOk ? backwardGflops(g) : null;
      const r = bwd !== null && g.forwardGflops ? bwd / g.forwardGflops : null;
      out.push({
        name: `conv ${c.name}: ${CONV_GRADKIT} backward (input + weight gradients) vs forward GFLOP/s`,
        goal: '>= 0.5x (backward within a small factor of forward)',
        value: r === null ? 'n/a' : `${fmt(r)}x`,
        met: !gOk && g.train !== null ? false : r === null ? null : r >= 0.5,
        detail:
          r !== null
            ? `backward ${fmt(bwd)} GFLOP/s (derived: 2 passes / (fwd+bwd time - fwd time)) vs forward ${fmt(g.forwardGflops)} GFLOP/s${sizeNote}`
            : gWhy || 'forward or backward time missing, or their difference is within noise',
      });
    }
  }
  return out;
}

/** The notes of the conv workload: method, the check, what could not train. */
export function convNotes(rows: readonly ConvRow[]): string[] {
  if (!rows.length) return [];
  const notes = [
    'conv FLOPs: 2·N·OH·OW·Cout·(Cin/groups)·KH·KW per pass (one multiply + one add per term); fwd+bwd = 3 passes (forward, input gradient, weight gradient; the bias gradient is not counted); GFLOP/s = those FLOPs / median time; "bwd (derived)" = 2 passes / (fwd+bwd time - fwd time). Max-pool: million input elements per second',
    'conv timing: a forward or forward + backward whose first run takes 15 s or more is timed by that one run ("(1 run)"), not by repetitions',
    `conv check: each contender's output, input gradient and weight gradient at ${PROBE_COUNT} positions each (the bias gradient whole) against float64 values computed from the definition and against ${CONV_ANCHOR}, passing when |got - want| <= ${CONV_TOLERANCE.atolRel}·max|want| + ${CONV_TOLERANCE.rtol}·|want| (float32); "x of tol" = the worst error in units of that bound. A row that fails is marked WRONG and counts for no ratio or target`,
  ];
  const checked = rows.filter((r) => r.check);
  if (checked.length && checked.every((r) => r.check!.ok))
    notes.push(
      `conv check: all ${checked.length} trained rows agree (${[...new Set(checked.map((r) => r.contender))].join(', ')})`,
    );
  for (const r of rows.filter((x) => x.cannotTrain !== null))
    notes.push(
      `${r.contender} cannot train conv ${r.case}: ${r.cannotTrain} (its forward alone is timed; the forward values are not checked)`,
    );
  return notes;
}

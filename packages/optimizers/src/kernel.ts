import type { ElementwiseSpec } from '@gradkit/tensor';
import { broadcastShapes, defineKernel, Tensor } from '@gradkit/tensor';

/**
 * The body of a fused element-wise kernel, written in the kernel language of `defineKernel`, with
 * named operands: `$name` stands for an input tensor or a scalar parameter of the call. Float
 * literals keep a decimal point (`1.0`); temporaries declared in `stmts` start with `t_`.
 *
 * @internal
 */
export interface KernelCode {
  /** Statements run before `expr` (`let t_x = ...;`). */
  readonly stmts?: string;
  /** The value of one output element. */
  readonly expr: string;
}

const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
const specs = new Map<string, ElementwiseSpec>();

/** An operand of a kernel: a tensor, or a value of another kernel not computed yet. */
export type Operand = Tensor | Pending;

/**
 * The output of a fused element-wise kernel, not computed yet (see {@link pending}). Pending values
 * that feed each other are computed together by {@link realize}: one `device.mapMulti` pass that
 * reads every tensor operand once and writes every requested output, with the intermediate
 * values kept as float32 temporaries (so each output equals the kernel-by-kernel result bit for
 * bit).
 *
 * @internal
 */
export class Pending {
  /** The computed value, once {@link realize} or {@link Pending.tensor} has run. */
  value: Tensor | null = null;
  /** The broadcast shape of the operands: the shape of the value. */
  readonly shape: readonly number[];

  constructor(
    /** The kernel's name (without the `optimizers.` prefix). */
    readonly name: string,
    /** Its code, with `$name` operands. */
    readonly body: KernelCode,
    /** The operands by name (none `undefined`). */
    readonly inputs: Readonly<Record<string, Operand>>,
    /** The scalar parameters by name (none `undefined`). */
    readonly params: Readonly<Record<string, number>>,
  ) {
    this.shape = broadcastShapes(`optimizers.${name}`, ...Object.values(inputs).map((x) => x.shape));
  }

  /** The value as a tensor, computing it (and the pending values it reads) now if needed. */
  tensor(): Tensor {
    if (!this.value) realize([this]);
    return this.value as Tensor;
  }
}

function substitute(
  name: string,
  text: string,
  inputs: readonly string[],
  params: readonly string[],
): string {
  return text.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, id: string) => {
    const i = inputs.indexOf(id);
    if (i >= 0) return LETTERS[i];
    const j = params.indexOf(id);
    if (j >= 0) return `p${j}`;
    throw new Error(`internal: kernel '${name}' uses $${id}, which is neither an input nor a parameter`);
  });
}

/**
 * One fused element-wise kernel over broadcast operands, not run yet: `code` with `$name`
 * standing for an operand (a tensor or another pending value) or a scalar parameter. Operands
 * and parameters whose value is `undefined` are left out, so one template serves several
 * variants. Parameters are kernel arguments (a changing learning rate never recompiles).
 *
 * @internal
 * @example
 * ```ts
 * const m2 = pending('adam.m', '$b1 * $m + $c1 * $g', { m, g }, { b1: 0.9, c1: 0.1 });
 * const [m] = realize([m2]); // or m2.tensor()
 * ```
 */
export function pending(
  name: string,
  code: string | KernelCode,
  inputs: Readonly<Record<string, Operand | undefined>>,
  params: Readonly<Record<string, number | undefined>> = {},
): Pending {
  const body: KernelCode = typeof code === 'string' ? { expr: code } : code;
  const ins: Record<string, Operand> = {};
  for (const [k, v] of Object.entries(inputs)) if (v !== undefined) ins[k] = v;
  const ps: Record<string, number> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) ps[k] = v;
  const n = Object.keys(ins).length;
  if (n === 0 || n > LETTERS.length) {
    throw new Error(`internal: kernel '${name}' needs 1 to ${LETTERS.length} inputs, got ${n}`);
  }
  return new Pending(name, body, ins, ps);
}

/**
 * Runs one fused element-wise kernel (`device.map`) over broadcast tensor inputs and returns its
 * output as a new tensor (no autograd history): {@link pending} computed at once. At most six
 * tensor inputs.
 *
 * @internal
 * @example
 * ```ts
 * const m2 = fused('adam.m', '$b1 * $m + $c1 * $g', { m, g }, { b1: 0.9, c1: 0.1 });
 * ```
 */
export function fused(
  name: string,
  code: string | KernelCode,
  inputs: Readonly<Record<string, Tensor | undefined>>,
  params: Readonly<Record<string, number | undefined>> = {},
): Tensor {
  return pending(name, code, inputs, params).tensor();
}

/** The value of an operand: a tensor, or a pending value computed now. */
export function operandValue(x: Operand): Tensor {
  return x instanceof Pending ? x.tensor() : x;
}

/**
 * Computes pending values: for each shape among `outputs`, one `device.mapMulti` call whose
 * outputs are the pending values of that shape and whose temporaries are the pending values
 * they read (each rounded to float32, as a stored value is). Every tensor operand is read once.
 * When the operands of one group are more than six tensors, or the backend has no fused
 * `mapMulti` (one map per output would recompute every temporary), each pending value runs as
 * its own kernel instead, in order. Returns the values in the order of `outputs` (tensors as they are).
 *
 * @internal
 */
export function realize(outputs: readonly Operand[]): Tensor[] {
  const groups = new Map<string, Pending[]>();
  for (const o of outputs) {
    if (!(o instanceof Pending) || o.value) continue;
    const key = o.shape.join(',');
    const g = groups.get(key);
    if (!g) groups.set(key, [o]);
    else if (!g.includes(o)) g.push(o);
  }
  for (const targets of groups.values()) runGroup(targets);
  return outputs.map((o) => (o instanceof Pending ? (o.value as Tensor) : o));
}

/** The pending values `targets` read, themselves included, each after those it reads. */
function closure(targets: readonly Pending[]): Pending[] {
  const order: Pending[] = [];
  const seen = new Set<Pending>();
  const visit = (p: Pending): void => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const x of Object.values(p.inputs)) if (x instanceof Pending && !x.value) visit(x);
    order.push(p);
  };
  for (const t of targets) visit(t);
  return order;
}

let fusion = true;

/**
 * Runs `fn` with every pending value computed as its own kernel (no `mapMulti` groups): the
 * kernel-by-kernel reference the fused path must equal bit for bit. For tests. @internal
 */
export function withoutFusion<T>(fn: () => T): T {
  const was = fusion;
  fusion = false;
  try {
    return fn();
  } finally {
    fusion = was;
  }
}

function runGroup(targets: readonly Pending[]): void {
  const nodes = closure(targets);
  if (!fusion) {
    for (const n of nodes) runOne(n);
    return;
  }
  if (nodes.length === 1) {
    runOne(nodes[0]); // one kernel alone: its own spec, as written
    return;
  }
  const leaves: Tensor[] = [];
  for (const n of nodes) {
    for (const x of Object.values(n.inputs)) {
      const t = x instanceof Pending ? x.value : x;
      if (t && !leaves.includes(t)) leaves.push(t);
    }
  }
  if (leaves.length > LETTERS.length || typeof leaves[0].device.backend.mapMulti !== 'function') {
    // too many operands for one kernel, or a backend that would run one map per output anyway
    // (each recomputing every temporary): each value on its own kernel, operands first
    for (const n of nodes) runOne(n);
    return;
  }
  const index = new Map<Pending, number>(nodes.map((n, i) => [n, i]));
  const paramValues: number[] = [];
  const keyParts: string[] = [];
  for (const n of nodes) {
    const ins = Object.entries(n.inputs).map(([k, x]) => {
      const t = x instanceof Pending ? x.value : x;
      return `${k}=${t ? `L${leaves.indexOf(t)}` : `T${index.get(x as Pending)}`}`;
    });
    const pNames = Object.keys(n.params);
    for (const k of pNames) paramValues.push(n.params[k]);
    keyParts.push(`${n.name}|${ins.join(',')}|${pNames.join(',')}|${n.body.stmts ?? ''}|${n.body.expr}`);
  }
  const outIds = targets.map((t) => index.get(t) as number);
  const key = `${keyParts.join(';')}=>${outIds.join(',')}`;
  let group = multiSpecs.get(key);
  if (!group) {
    group = defineGroup(nodes, leaves, index, outIds);
    multiSpecs.set(key, group);
  }
  const device = leaves[0].device;
  const outs = device.mapMulti(
    group,
    leaves.map((t) => t.array),
    paramValues,
  );
  targets.forEach((t, k) => {
    t.value = new Tensor(outs[k]);
  });
}

/** One pending value as a kernel of its own (its pending operands computed first). */
function runOne(n: Pending): void {
  if (n.value) return;
  const names = Object.keys(n.inputs);
  const pNames = Object.keys(n.params);
  const key = `${n.name}|${names.join(',')}|${pNames.join(',')}|${n.body.stmts ?? ''}|${n.body.expr}`;
  let spec = specs.get(key);
  if (!spec) {
    const stmts = n.body.stmts ? substitute(n.name, n.body.stmts, names, pNames) : undefined;
    // Parsed and validated once per variant (defineKernel), then looked up by the backends.
    spec = defineKernel({
      name: `optimizers.${n.name}`,
      arity: names.length,
      params: pNames.length,
      expr: substitute(n.name, n.body.expr, names, pNames),
      ...(stmts ? { stmts } : {}),
    });
    specs.set(key, spec);
  }
  const tensors = names.map((k) => operandValue(n.inputs[k]));
  const out = tensors[0].device.map(
    spec,
    tensors.map((t) => t.array),
    pNames.map((k) => n.params[k]),
  );
  n.value = new Tensor(out);
}

const multiSpecs = new Map<string, ElementwiseSpec[]>();

/**
 * The specs of one group: shared `stmts` that compute every pending value as a float32 temporary
 * `t_n<i>` (its own temporaries renamed `t_n<i>_<name>`), and one spec per output reading it.
 */
function defineGroup(
  nodes: readonly Pending[],
  leaves: readonly Tensor[],
  index: ReadonlyMap<Pending, number>,
  outIds: readonly number[],
): ElementwiseSpec[] {
  const lines: string[] = [];
  let p = 0;
  for (const [i, n] of nodes.entries()) {
    const rename = (text: string) => text.replace(/\bt_([A-Za-z0-9_]+)/g, `t_n${i}_$1`);
    const refs = new Map<string, string>();
    for (const [k, x] of Object.entries(n.inputs)) {
      const t = x instanceof Pending ? x.value : x;
      refs.set(k, t ? LETTERS[leaves.indexOf(t)] : `t_n${index.get(x as Pending)}`);
    }
    for (const k of Object.keys(n.params)) refs.set(k, `p${p++}`);
    const sub = (text: string) =>
      rename(text).replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, id: string) => {
        const r = refs.get(id);
        if (r === undefined) {
          throw new Error(
            `internal: kernel '${n.name}' uses $${id}, which is neither an input nor a parameter`,
          );
        }
        return r;
      });
    if (n.body.stmts) lines.push(sub(n.body.stmts));
    lines.push(`let t_n${i} = Math.fround(${sub(n.body.expr)});`);
  }
  const stmts = lines.join(' ');
  const name = `optimizers.${nodes.map((n) => n.name).join('+')}`;
  return outIds.map((i) => defineKernel({ name, arity: leaves.length, params: p, stmts, expr: `t_n${i}` }));
}

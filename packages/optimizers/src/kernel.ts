import type { ElementwiseSpec } from '@gradkit/tensor';
import { defineKernel, Tensor } from '@gradkit/tensor';

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

const LETTERS = ['a', 'b', 'c', 'd'] as const;
const specs = new Map<string, ElementwiseSpec>();

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
 * Runs one fused element-wise kernel (`device.map`) over broadcast tensor inputs and returns its
 * output as a new tensor (no autograd history). Inputs and parameters whose value is `undefined`
 * are left out, so one template serves several variants; every variant is compiled once per
 * backend and shape, and parameters are kernel arguments (a changing learning rate never
 * recompiles). At most four tensor inputs.
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
  const body: KernelCode = typeof code === 'string' ? { expr: code } : code;
  const inNames = Object.keys(inputs).filter((k) => inputs[k] !== undefined);
  const pNames = Object.keys(params).filter((k) => params[k] !== undefined);
  if (inNames.length === 0 || inNames.length > LETTERS.length) {
    throw new Error(`internal: kernel '${name}' needs 1 to 4 inputs, got ${inNames.length}`);
  }
  const key = `${name}|${inNames.join(',')}|${pNames.join(',')}|${body.stmts ?? ''}|${body.expr}`;
  let spec = specs.get(key);
  if (!spec) {
    const stmts = body.stmts ? substitute(name, body.stmts, inNames, pNames) : undefined;
    // Parsed and validated once per variant (defineKernel), then looked up by the backends.
    spec = defineKernel({
      name: `optimizers.${name}`,
      arity: inNames.length,
      params: pNames.length,
      expr: substitute(name, body.expr, inNames, pNames),
      ...(stmts ? { stmts } : {}),
    });
    specs.set(key, spec);
  }
  const tensors = inNames.map((k) => inputs[k] as Tensor);
  const device = tensors[0].device;
  const out = device.map(
    spec,
    tensors.map((t) => t.array),
    pNames.map((k) => params[k] as number),
  );
  return new Tensor(out);
}

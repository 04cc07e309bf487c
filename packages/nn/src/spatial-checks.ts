// Internal: construction-time checks of the spatial layers' options (sizes, strides, paddings),
// so that a bad option fails when the layer is built, naming the layer, not at its first forward.
import type { Conv2dPadding } from '@gradkit/tensor';
import { checkBoolean, invalidArgument } from '@gradkit/tensor';

/** A size as the layers take it: `n` for both axes, or `[h, w]`. */
export type Size2 = number | readonly [number, number];

/** @internal `v` as `[h, w]`: an integer >= `min` (for both axes) or a pair of them; else a ValueError naming `op` and `name`. */
export function pair(op: string, name: string, v: unknown, min: number): [number, number] {
  const ok = (e: unknown): e is number => typeof e === 'number' && Number.isSafeInteger(e) && e >= min;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  return invalidArgument(op, name, `an integer >= ${min} or a pair [h, w] of them`, v);
}

/** @internal Checks a {@link Conv2dPadding}; `'same'` needs stride 1, as in PyTorch. */
export function checkConvPadding(
  op: string,
  padding: unknown,
  stride: readonly [number, number],
): Conv2dPadding {
  if (padding === 'valid') return padding;
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      invalidArgument(
        op,
        'padding',
        "'same' only with stride 1 (as PyTorch)",
        `'same' with stride [${stride.join(', ')}]`,
      );
    }
    return padding;
  }
  if (
    (typeof padding === 'number' && Number.isSafeInteger(padding) && padding >= 0) ||
    (Array.isArray(padding) &&
      (padding.length === 2 || padding.length === 4) &&
      padding.every((e) => typeof e === 'number' && Number.isSafeInteger(e) && e >= 0))
  ) {
    return padding as Conv2dPadding;
  }
  return invalidArgument(
    op,
    'padding',
    "an integer >= 0, [ph, pw], [top, bottom, left, right], 'same' or 'valid'",
    padding,
  );
}

/** @internal An optional boolean option (its default when undefined). */
export function optBoolean(op: string, name: string, v: unknown, dflt: boolean): boolean {
  return v === undefined ? dflt : checkBoolean(op, name, v);
}

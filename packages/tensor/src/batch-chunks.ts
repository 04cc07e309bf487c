import { concat } from './concat.js';
import { slice } from './slice.js';
import type { Tensor } from './tensor.js';

/**
 * `core` over the batch (axis 0) of `x` in chunks whose largest array (`perSample` elements a
 * sample, as the caller counts it: an im2col matrix, a window read, the input) fits the device's
 * per-kernel limit (`info().maxKernelElements`, 2^23 on gl, else `maxElements`; `cap` instead
 * when not null, a test hook), the results concatenated along the batch axis. The whole batch
 * goes in one call when it fits. The returned tensor owns the chunks and their results (disposed
 * with it); on an error everything made so far is disposed. Gradients flow through `slice` and
 * `concat`, so a chunked result differentiates as the whole one.
 *
 * @internal Shared by `conv2d` and the pooling functions.
 * @example
 * ```ts
 * const y = inBatchChunks(x, C * H * W, null, (xs) => maxPoolCore(xs)); // [N, ...] either way
 * ```
 */
export function inBatchChunks(
  x: Tensor,
  perSample: number,
  cap: number | null,
  core: (xs: Tensor) => Tensor,
): Tensor {
  const info = x.device.info();
  const limit = cap ?? info.maxKernelElements ?? info.maxElements;
  const chunk = Math.max(1, Math.floor(limit / Math.max(1, perSample)));
  const N = x.shape[0];
  if (N <= chunk) return core(x);
  const parts: Tensor[] = [];
  const owned: Tensor[] = [];
  try {
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const xs = slice(x, [n0], [Math.min(N, n0 + chunk)]);
      owned.push(xs);
      const part = core(xs);
      owned.push(part);
      parts.push(part);
    }
    const y = concat(parts, 0);
    for (const t of owned) y._adopt(t);
    return y;
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}

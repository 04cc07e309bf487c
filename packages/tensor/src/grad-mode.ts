import { isPromiseLike } from './util.js';

let enabled = true;

/**
 * Whether operations are currently recorded for reverse-mode differentiation (default `true`).
 * Turned off inside {@link noGrad}, back on inside {@link enableGrad}.
 *
 * @example
 * ```ts
 * isGradEnabled(); // true
 * noGrad(() => isGradEnabled()); // false
 * ```
 */
export function isGradEnabled(): boolean {
  return enabled;
}

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = mode;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    enabled = prev;
    throw e;
  }
  if (isPromiseLike(result)) {
    // An async function keeps the mode until it settles. Grad mode is one global flag: async
    // functions that run concurrently with different modes see each other's setting.
    return Promise.resolve(result).finally(() => {
      enabled = prev;
    }) as T;
  }
  enabled = prev;
  return result;
}

/**
 * Runs `fn` with gradient recording off: tensors computed inside have `requiresGrad = false` and
 * no graph, so nothing is kept for a backward pass. Use it for optimizer updates and evaluation,
 * as PyTorch's `torch.no_grad()`. Restores the previous mode afterwards, also when `fn` throws; an
 * async `fn` keeps the mode until its promise settles.
 *
 * @returns whatever `fn` returns.
 * @example
 * ```ts
 * noGrad(() => w.assign(w.sub(w.grad!.mul(0.1)))); // an SGD step, not recorded
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/**
 * Runs `fn` with gradient recording on, also inside a {@link noGrad} block (PyTorch's
 * `torch.enable_grad()`). Restores the previous mode afterwards.
 *
 * @example
 * ```ts
 * noGrad(() => enableGrad(() => x.mul(2).requiresGrad)); // true when x requires grad
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

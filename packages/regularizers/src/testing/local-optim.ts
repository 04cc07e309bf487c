// Test-only: a tiny optax-style optimizer kit (the real one lives in @gradkit/optimizers, a
// package of the same layer that this one must not import). Updates are ADDED to parameters.
import type { GradientTransformation, Params } from '@gradkit/tensor';
import { keep, noGrad, type Tensor } from '@gradkit/tensor';

/** `p <- p + u` for every update, in place (noGrad). */
export function applyUpdates(params: Params, updates: Params): void {
  noGrad(() => {
    for (const [k, u] of Object.entries(updates)) {
      const next = params[k].add(u);
      params[k].assign(next);
      next.dispose();
    }
  });
}

const mapParams = (x: Params, f: (t: Tensor, k: string) => Tensor): Params =>
  Object.fromEntries(Object.entries(x).map(([k, t]) => [k, f(t, k)]));

/** `u <- k u` (with k = -lr: the SGD step). */
export function scale(k: number): GradientTransformation<Record<string, never>> {
  return { init: () => ({}), update: (u, s) => [noGrad(() => mapParams(u, (t) => t.mul(k))), s] };
}

/** Applies transformations in order; intermediate updates are disposed, the input grads are not. */
export function chain(...ts: GradientTransformation<unknown>[]): GradientTransformation<unknown[]> {
  return {
    init: (params) => ts.map((t) => t.init(params)),
    update(grads, states, params) {
      let u = grads;
      const next: unknown[] = [];
      ts.forEach((t, i) => {
        const [v, s] = t.update(u, states[i], params);
        if (u !== grads) for (const x of Object.values(u)) x.dispose();
        u = v;
        next.push(s);
      });
      return [u, next];
    },
  };
}

export interface AdamState {
  count: number;
  mu: Params;
  nu: Params;
}

/** Adam's direction m_hat / (sqrt(v_hat) + eps) (PyTorch's formulas); state tensors are kept. */
export function scaleByAdam(b1: number, b2: number, eps: number): GradientTransformation<AdamState> {
  return {
    init: (params) => ({
      count: 0,
      mu: mapParams(params, (p) => keep(noGrad(() => p.mul(0)))),
      nu: mapParams(params, (p) => keep(noGrad(() => p.mul(0)))),
    }),
    update: (grads, state) =>
      noGrad(() => {
        const t = state.count + 1;
        const mu = mapParams(grads, (g, k) => keep(state.mu[k].mul(b1).add(g.mul(1 - b1))));
        const nu = mapParams(grads, (g, k) => keep(state.nu[k].mul(b2).add(g.square().mul(1 - b2))));
        const c1 = 1 - b1 ** t;
        const c2 = 1 - b2 ** t;
        const u = mapParams(grads, (_, k) => mu[k].div(c1).div(nu[k].div(c2).sqrt().add(eps)));
        return [u, { count: t, mu, nu }];
      }),
  };
}

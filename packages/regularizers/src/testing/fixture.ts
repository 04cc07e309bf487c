// Test-only: the PyTorch reference values of fixtures/regularizers.json (see fixtures/generate.py).
import type { Params } from '@gradkit/tensor';
import { Module, Parameter, type Tensor, tensor } from '@gradkit/tensor';
import { loadFixture } from '@gradkit/test-utils';

/** A tensor in the fixture: shape and row-major float64 values. */
export interface Encoded {
  readonly shape: number[];
  readonly data: number[];
}

export type Named = Record<string, Encoded>;

export interface PenaltyCase {
  readonly name: 'l1' | 'l2' | 'halfL2' | 'l1l2' | 'frobenius' | 'frobeniusHalf';
  readonly args: {
    readonly lambda?: number;
    readonly l1?: number;
    readonly l2?: number;
    readonly lambdas?: Record<string, number>;
    readonly half?: boolean;
  };
  readonly value: number;
  readonly grads: Named;
}

export interface Fixture {
  readonly torch: string;
  readonly params: Named;
  readonly selected: string[];
  readonly grads: Named;
  readonly penalties: PenaltyCase[];
  readonly sgdWeightDecay: { readonly lr: number; readonly weightDecay: number; readonly after: Named };
  readonly l1Subgradient: { readonly lambda: number; readonly updates: Named };
  readonly proximal: {
    readonly lr: number;
    readonly lambda: number;
    readonly after: Named;
    readonly zeros: number;
  };
  readonly adamw: {
    readonly lr: number;
    readonly weightDecay: number;
    readonly betas: [number, number];
    readonly eps: number;
    readonly grads: Named[];
    readonly trajectory: Named[];
    readonly decayOnly: Named[];
  };
  readonly constraints: {
    readonly inputs: Named;
    readonly maxNorm: { readonly c: Record<string, number> } & Named;
    readonly unitNorm: Named;
    readonly nonNeg: Named;
  };
  /** A small CNN's parameters (conv weights [Cout, Cin, KH, KW], a BatchNorm2d, a Linear head). */
  readonly convParams: Named;
  readonly convSelected: string[];
  readonly convPenalties: PenaltyCase[];
}

export const FIXTURE = loadFixture<Fixture>(new URL('../../fixtures/regularizers.json', import.meta.url));

/** A tensor with the fixture's values. */
export const fromEncoded = (e: Encoded, requiresGrad = false): Tensor =>
  tensor(e.data, e.shape, { requiresGrad });

/** Named tensors (plain tensors, not Parameters) with the fixture's values. */
export function namedTensors(named: Named, requiresGrad = false): Params {
  return Object.fromEntries(Object.entries(named).map(([k, e]) => [k, fromEncoded(e, requiresGrad)]));
}

/**
 * The fixture's parameters as a Module whose dotted names are the fixture's keys
 * (`fc1.weight`, `fc1.bias`, `norm.weight`, ...).
 */
export class FixtureModel extends Module<[], never> {
  constructor(named: Named) {
    super();
    const children = new Map<string, Leaf>();
    for (const [name, e] of Object.entries(named)) {
      const [child, leaf] = name.split('.');
      let m = children.get(child);
      if (!m) {
        m = this.registerModule(child, new Leaf());
        children.set(child, m);
      }
      m.registerParameter(leaf, new Parameter(e.data, { shape: e.shape }));
    }
  }
  forward(): never {
    throw new Error('not used');
  }
}

class Leaf extends Module<[], never> {
  forward(): never {
    throw new Error('not used');
  }
}

/** The parameters of a module as Params. */
export const paramsOf = (m: Module<never, unknown>): Params => Object.fromEntries(m.namedParameters());

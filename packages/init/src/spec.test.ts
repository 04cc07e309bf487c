import type { Tensor } from '@gradkit/tensor';
import { Module, Parameter, Rng, ShapeError, zeros as tensorZeros, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { constant, ones, zeros } from './constant.js';
import { dirac } from './dirac.js';
import { eye } from './eye.js';
import { kaimingNormal, kaimingUniform } from './kaiming.js';
import { lecunNormal, lecunUniform } from './lecun.js';
import { normal } from './normal.js';
import type { InitOptions } from './options.js';
import { orthogonal } from './orthogonal.js';
import type { InitSpec } from './spec.js';
import {
  checkInitSpec,
  distributionOf,
  INIT_NAMES,
  initialize,
  initializeParameters,
  initializer,
} from './spec.js';
import { truncatedNormal } from './truncated-normal.js';
import { uniform } from './uniform.js';
import { varianceScaling } from './variance-scaling.js';
import { xavierNormal, xavierUniform } from './xavier.js';

// Every spec name against the function it names, with options (same seed, same values).
const PAIRS: [InitSpec, (shape: readonly number[], o: InitOptions) => Tensor][] = [
  [{ name: 'zeros' }, (s, o) => zeros(s, o)],
  [{ name: 'ones' }, (s, o) => ones(s, o)],
  [{ name: 'constant', value: 0.25 }, (s, o) => constant(s, 0.25, o)],
  [{ name: 'uniform', a: -1, b: 2 }, (s, o) => uniform(s, { ...o, a: -1, b: 2 })],
  [{ name: 'normal', mean: 1, std: 2 }, (s, o) => normal(s, { ...o, mean: 1, std: 2 })],
  [
    { name: 'truncatedNormal', std: 0.5, a: -1, b: 0.5 },
    (s, o) => truncatedNormal(s, { ...o, std: 0.5, a: -1, b: 0.5 }),
  ],
  [{ name: 'xavierUniform', gain: 2 }, (s, o) => xavierUniform(s, { ...o, gain: 2 })],
  [{ name: 'xavierNormal', truncated: true }, (s, o) => xavierNormal(s, { ...o, truncated: true })],
  [
    { name: 'kaimingUniform', mode: 'fanOut', nonlinearity: 'leaky_relu', a: 0.1 },
    (s, o) => kaimingUniform(s, { ...o, mode: 'fanOut', nonlinearity: 'leakyRelu', a: 0.1 }),
  ],
  [
    { name: 'kaimingNormal', nonlinearity: 'tanh' },
    (s, o) => kaimingNormal(s, { ...o, nonlinearity: 'tanh' }),
  ],
  [{ name: 'lecunUniform' }, (s, o) => lecunUniform(s, o)],
  [{ name: 'lecunNormal' }, (s, o) => lecunNormal(s, o)],
  [
    { name: 'varianceScaling', scale: 2, mode: 'fanAvg', distribution: 'normal' },
    (s, o) => varianceScaling(s, { ...o, scale: 2, mode: 'fanAvg', distribution: 'normal' }),
  ],
  [{ name: 'orthogonal', gain: 3 }, (s, o) => orthogonal(s, { ...o, gain: 3 })],
  [{ name: 'eye' }, (s, o) => eye(s, o)],
  [{ name: 'dirac', groups: 2 }, (s, o) => dirac(s, { ...o, groups: 2 })],
];

const shapeFor = (name: string) => (name === 'eye' ? [4, 6] : name === 'dirac' ? [4, 3, 3] : [4, 3, 2]);

class Tiny extends Module {
  readonly weight = this.registerParameter('weight', tensorZeros([4, 3]));
  readonly bias = this.registerParameter('bias', tensorZeros([4]));
  readonly head = this.registerModule('head', new Head());
  forward(x: Tensor): Tensor {
    return x;
  }
}
class Head extends Module {
  readonly weight = this.registerParameter('weight', tensorZeros([2, 4]));
  forward(x: Tensor): Tensor {
    return x;
  }
}

describe.each(testBackends)('initializer specs on %s', (backend) => {
  useBackend(backend);

  it('every name is covered', () => {
    expect(PAIRS.map(([s]) => s.name).sort()).toEqual([...INIT_NAMES].sort());
  });

  it.each(PAIRS)('%j: initializer(spec) and initialize(t, spec) equal the function', (spec, fn) => {
    const shape = shapeFor(spec.name);
    const want = fn(shape, { rng: new Rng(81) }).dataSync();
    const json = JSON.parse(JSON.stringify(spec)) as InitSpec; // survives serialization
    expect(initializer(json)(shape, { rng: new Rng(81) }).dataSync()).toEqual(want);
    const p = new Parameter(tensorZeros(shape));
    expect(initialize(p, json, { rng: new Rng(81) })).toBe(p);
    expect(p.dataSync()).toEqual(want);
    p.dispose();
  });

  it('distributionOf describes what is sampled; structured specs have none', () => {
    expect(distributionOf({ name: 'uniform', a: -1, b: 1 }, [3])).toEqual({
      kind: 'uniform',
      low: -1,
      high: 1,
    });
    expect(() => distributionOf({ name: 'orthogonal' } as never, [3, 3])).toThrow(
      "distributionOf: 'orthogonal' is not element-wise i.i.d. and has no single distribution",
    );
    expect(() => distributionOf({ name: 'kaimingUniform' }, [3])).toThrow(ShapeError);
  });

  it('initializeParameters: rules by full name or last segment, in parameter order, all or nothing', () => {
    const m = new Tiny();
    const names = initializeParameters(
      m,
      {
        weight: { name: 'kaimingUniform', nonlinearity: 'relu' },
        'head.weight': { name: 'constant', value: 0.5 },
        bias: { name: 'ones' },
      },
      { rng: new Rng(3) },
    );
    expect(names).toEqual(['weight', 'bias', 'head.weight']);
    expect(m.weight.dataSync()).toEqual(
      kaimingUniform([4, 3], { nonlinearity: 'relu', rng: new Rng(3) }).dataSync(),
    );
    expect(m.bias.dataSync()).toEqual(new Float32Array(4).fill(1));
    expect(m.head.weight.dataSync()).toEqual(new Float32Array(8).fill(0.5));
    // A rule that fails on the last parameter leaves every parameter untouched.
    const before = m.weight.dataSync();
    expect(() =>
      initializeParameters(m, (name) => (name === 'head.weight' ? { name: 'dirac' } : { name: 'zeros' })),
    ).toThrow(/dirac: only tensors with 3, 4, or 5 dimensions/);
    expect(m.weight.dataSync()).toEqual(before);
    m.dispose();
  });

  it('checkInitSpec rejects unknown names, unknown keys and bad values up front', () => {
    expect(() => checkInitSpec({ name: 'he' })).toThrow(ValueError);
    expect(() => checkInitSpec({ name: 'he' })).toThrow(/unknown initializer "he"; known: zeros, ones/);
    expect(() => initializer({ name: 'kaimingUniform', mod: 'fanOut' } as never)).toThrow(
      "checkInitSpec: 'kaimingUniform' has no option 'mod'; its options: a, mode, nonlinearity",
    );
    expect(() => initializer({ name: 'normal', std: -1 })).toThrow(
      'checkInitSpec(normal): std must be >= 0, got -1',
    );
    expect(() => initializer({ name: 'kaimingNormal', nonlinearity: 'gelu' as never })).toThrow(
      /unsupported nonlinearity "gelu"/,
    );
    expect(() => initializer({ name: 'uniform', a: 2, b: 1 })).toThrow(/a must be less than b/);
    expect(() => checkInitSpec('zeros')).toThrow(/must be an object/);
    expect(() => initialize(tensorZeros([3]), { name: 'xavierUniform' })).toThrow(ShapeError);
  });
});

import { DisposedError, scope, tensor, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { l2Penalty } from './l2.js';
import { excludedByDefault, selectParameters } from './select.js';
import { FIXTURE, FixtureModel } from './testing/fixture.js';

const names = (pairs: [string, unknown][]) => pairs.map(([n]) => n);

describe.each(testBackends)('parameter selection on %s', (backend) => {
  useBackend(backend);

  it('excludes biases and 1-D normalization scales/shifts by default, by name', () =>
    scope(() => {
      const v = tensor([1, 2, 3]);
      const m = tensor([[1, 2]]);
      const s = tensor(1);
      for (const name of ['bias', 'fc.bias', 'layers.0.bias', 'attn.in_proj_bias', 'attnBias', 'Bias']) {
        expect(excludedByDefault(name, v), name).toBe(true);
        expect(excludedByDefault(name, m), `${name} (2-D)`).toBe(true);
      }
      for (const name of [
        'b',
        'b1',
        'b2',
        'norm.weight',
        'bn.gamma',
        'bn.beta',
        'ln.scale',
        'ln.shift',
        'bn.offset',
      ]) {
        expect(excludedByDefault(name, v), name).toBe(true);
        expect(excludedByDefault(name, s), `${name} (0-D)`).toBe(true);
        expect(excludedByDefault(name, m), `${name} (2-D)`).toBe(false);
      }
      for (const name of ['fc.weight', 'w1', 'kernel', 'embedding', 'biased.weight', 'bn.gammas']) {
        expect(excludedByDefault(name, m), name).toBe(false);
      }
      // 1-D parameters with other names are regularized
      expect(excludedByDefault('embedding', v)).toBe(false);
      expect(excludedByDefault('w', v)).toBe(false);
    }));

  it('selects the weights of a Module, in order; include and exclude by name, pattern or predicate', () =>
    scope(() => {
      const model = new FixtureModel(FIXTURE.params);
      expect(names(selectParameters(model))).toEqual(FIXTURE.selected);
      expect(names(selectParameters(model))).toEqual(['fc1.weight', 'fc2.weight']);
      expect(names(selectParameters(model, { exclude: null }))).toEqual(Object.keys(FIXTURE.params));
      // a string: whole name, module prefix, last segment
      expect(names(selectParameters(model, { include: 'fc1' }))).toEqual(['fc1.weight']);
      expect(names(selectParameters(model, { include: 'fc2.weight' }))).toEqual(['fc2.weight']);
      expect(names(selectParameters(model, { include: 'weight', exclude: null }))).toEqual([
        'fc1.weight',
        'norm.weight',
        'fc2.weight',
      ]);
      // 'fc' is neither a module nor a segment
      expect(names(selectParameters(model, { include: 'fc' }))).toEqual([]);
      expect(names(selectParameters(model, { include: /^fc2\./ }))).toEqual(['fc2.weight']);
      expect(names(selectParameters(model, { include: /weight$/g }))).toEqual(['fc1.weight', 'fc2.weight']);
      expect(names(selectParameters(model, { include: /weight$/g }))).toEqual(['fc1.weight', 'fc2.weight']);
      // a replacement rule, and the default combined with another rule
      expect(names(selectParameters(model, { exclude: (_, p) => p.rank < 2 }))).toEqual([
        'fc1.weight',
        'fc2.weight',
      ]);
      expect(names(selectParameters(model, { exclude: 'fc2' }))).toEqual([
        'fc1.weight',
        'fc1.bias',
        'norm.weight',
        'norm.bias',
      ]);
      expect(names(selectParameters(model, { exclude: [excludedByDefault, 'fc2'] }))).toEqual(['fc1.weight']);
      // exclusion wins over include
      expect(names(selectParameters(model, { include: 'fc1.bias' }))).toEqual([]);
      expect(names(selectParameters(model, { include: 'fc1.bias', exclude: null }))).toEqual(['fc1.bias']);
      model.dispose();
    }));

  it('takes named Params, a Map or [name, tensor] pairs; a shared tensor counts once', () =>
    scope(() => {
      const w = tensor([[1, 2]], undefined, { requiresGrad: true });
      const b = tensor([3], undefined, { requiresGrad: true });
      expect(names(selectParameters({ 'fc.weight': w, 'fc.bias': b }))).toEqual(['fc.weight']);
      expect(names(selectParameters(new Map([['w', w]])))).toEqual(['w']);
      expect(names(selectParameters([['a', w] as const, ['tied', w] as const]))).toEqual(['a']);
      // the penalty of a tied weight is counted once
      expect(l2Penalty({ a: w, tied: w }, 1).item()).toBeCloseTo(5, 6);
    }));

  it('rejects what is not a parameter source or a filter, and disposed parameters', () =>
    scope(() => {
      const w = tensor([[1, 2]]);
      expect(() => selectParameters(null as never)).toThrow(ValueError);
      expect(() => selectParameters(42 as never)).toThrow(/selectParameters: params must be a Module/);
      expect(() => selectParameters({ w: [1, 2] } as never)).toThrow(
        "selectParameters: parameter 'w' must be a Tensor, got [1,2]",
      );
      expect(() => selectParameters([[1, w]] as never)).toThrow(/\[name, Tensor\] pairs/);
      expect(() => selectParameters({ w }, { include: 3 as never })).toThrow(/include must be a string/);
      expect(() => selectParameters({ w }, { exclude: [/a/, {} as never] })).toThrow(/exclude must be/);
      const gone = tensor([[1]]);
      gone.dispose();
      expect(() => l2Penalty({ gone }, 1)).toThrow(DisposedError);
      expect(() => l2Penalty({ gone }, 1)).toThrow(/l2Penalty: parameter 'gone' was disposed/);
    }));
});

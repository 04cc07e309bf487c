import { Dropout2d } from '@gradkit/dropout';
import type { LayerSpec } from '@gradkit/nn';
import { buildModel, describeModel, layerTypes } from '@gradkit/nn';
import { BatchNorm1d, BatchNorm2d } from '@gradkit/normalization';
import { Rng, randn, scope, ValueError } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { registerStandardLayers } from './layers.js';

// The spatial layer types of model descriptions: batchNorm2d and dropout2d build the layers of
// @gradkit/normalization and @gradkit/dropout with the spec's options, round-trip through
// describeModel, and run on [N, C, H, W] inputs.

registerStandardLayers();

describe.each(testBackends)('spatial layer specs on %s', (backend) => {
  useBackend(backend);

  it('batchNorm2d and dropout2d build BatchNorm2d and Dropout2d with their options', () => {
    const layers: LayerSpec[] = [
      { type: 'batchNorm2d', numFeatures: 3, momentum: null, eps: 1e-3, affine: false },
      { type: 'dropout2d', p: 0.25 },
      { type: 'batchNorm2d', numFeatures: 3, convention: 'keras', trackRunningStats: false },
      { type: 'dropout2d' },
      { type: 'flatten' },
      { type: 'batchNorm', numFeatures: 48 },
    ];
    const model = buildModel(layers, { rng: new Rng(0) });
    const [bn, drop, keras, dropDefault, , bn1] = model.children;
    expect(bn).toBeInstanceOf(BatchNorm2d);
    expect(bn1).toBeInstanceOf(BatchNorm1d);
    expect(bn1).not.toBeInstanceOf(BatchNorm2d);
    const b = bn as BatchNorm2d;
    expect([b.numFeatures, b.momentum, b.eps, b.affine, b.trackRunningStats]).toEqual([
      3,
      null,
      1e-3,
      false,
      true,
    ]);
    const k = keras as BatchNorm2d;
    expect([k.convention, k.momentum, k.eps, k.trackRunningStats]).toEqual(['keras', 0.99, 1e-3, false]);
    expect(drop).toBeInstanceOf(Dropout2d);
    expect([(drop as Dropout2d).p, (dropDefault as Dropout2d).p]).toEqual([0.25, 0.5]);
    expect(describeModel(model).layers).toEqual(layers);
    expect(Object.keys(model.stateDict())).toEqual([
      '0.running_mean',
      '0.running_var',
      '0.num_batches_tracked',
      '2.weight',
      '2.bias',
      '5.weight',
      '5.bias',
      '5.running_mean',
      '5.running_var',
      '5.num_batches_tracked',
    ]);
    scope(() => {
      expect(model.forward(randn([2, 3, 4, 4], { rng: new Rng(1) })).shape).toEqual([2, 48]);
      model.eval();
      expect(model.forward(randn([1, 3, 4, 4], { rng: new Rng(2) })).shape).toEqual([1, 48]);
    });
    expect(layerTypes()).toEqual(expect.arrayContaining(['batchNorm2d', 'dropout2d']));
    model.dispose();
  });

  it('bad options name the layer index and type; the layers check their input shape', () => {
    expect(() => buildModel([{ type: 'batchNorm2d' }])).toThrow(
      "layer 0 (batchNorm2d): buildModel: layer 'batchNorm2d': 'numFeatures' must be a number, got undefined",
    );
    expect(() => buildModel([{ type: 'flatten' }, { type: 'dropout2d', p: 1.5 }])).toThrow(
      'layer 1 (dropout2d): Dropout2d: p must be in [0, 1), got 1.5',
    );
    expect(() => buildModel([{ type: 'dropout2d', p: 1.5 }])).toThrow(ValueError);
    const model = buildModel([{ type: 'batchNorm2d', numFeatures: 2 }]);
    scope(() => {
      expect(() => model.forward(randn([4, 2]))).toThrow(
        'BatchNorm2d: expects an input [N, C, H, W], got shape [4,2]',
      );
    });
    model.dispose();
  });
});

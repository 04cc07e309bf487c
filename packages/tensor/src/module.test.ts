import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { ones, tensor, zeros } from './creation.js';
import { ShapeError, ValueError } from './errors.js';
import { linear } from './linear.js';
import type { StateDict } from './module.js';
import { Module, ModuleList } from './module.js';
import { Parameter } from './parameter.js';
import { randn } from './random.js';
import { memory, scope } from './scope.js';
import type { Tensor } from './tensor.js';
import { zeroGrad } from './zero-grad.js';

class Dense extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly calls: Tensor;
  constructor(inputs: number, outputs: number) {
    super();
    this.weight = this.registerParameter('weight', randn([outputs, inputs], { std: 0.5 }));
    this.bias = this.registerParameter('bias', zeros([outputs]));
    this.calls = this.registerBuffer('calls', zeros([1]));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, { activation: this.training ? 'relu' : 'identity' });
  }
}

class Net extends Module<[Tensor, number], Tensor> {
  readonly layers = this.registerModule('layers', new ModuleList([new Dense(4, 5), new Dense(5, 3)]));
  readonly scale = this.registerParameter('scale', ones([1]));
  readonly cache = this.registerBuffer('cache', zeros([2]), { persistent: false });
  forward(x: Tensor, k: number): Tensor {
    return this.layers.forward(x).mul(this.scale).mul(k);
  }
}

describe.each(testBackends)('Module and Parameter on %s', (backend) => {
  useBackend(backend);

  it('names parameters and buffers with dotted paths in registration order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
    ]);
    expect(net.parameters().every((p) => p instanceof Parameter && p.requiresGrad)).toBe(true);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['cache', 'layers.0.calls', 'layers.1.calls']);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'layers', 'layers.0', 'layers.1']);
    expect(net.layers.length).toBe(2);
    net.dispose();
  });

  it('train() / eval() set the mode on the whole tree', () => {
    const net = new Net();
    expect(net.training).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.train();
    expect(net.layers.at(1)!.training).toBe(true);
    net.dispose();
  });

  it('forward, backward and zeroGrad over the parameters', () => {
    const net = new Net();
    scope(() => {
      net
        .forward(ones([2, 4]), 2)
        .sum()
        .backward();
    });
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    scope(() =>
      net
        .forward(ones([2, 4]), 2)
        .sum()
        .backward(),
    );
    zeroGrad(net);
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    net.dispose();
  });

  it('stateDict / loadStateDict round trip (persistent buffers only)', () => {
    const a = new Net();
    const b = new Net();
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual([
      'scale',
      'layers.0.weight',
      'layers.0.bias',
      'layers.0.calls',
      'layers.1.weight',
      'layers.1.bias',
      'layers.1.calls',
    ]);
    expect(sd['layers.0.weight'].shape).toEqual([5, 4]);
    expect(sd['layers.0.weight'].data).toBeInstanceOf(Float32Array);
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const sd2 = b.stateDict();
    for (const k of Object.keys(sd)) expect(Array.from(sd2[k].data)).toEqual(Array.from(sd[k].data));
    scope(() => {
      const x = randn([3, 4]);
      expect(Array.from(b.forward(x, 1).dataSync())).toEqual(Array.from(a.forward(x, 1).dataSync()));
    });
    a.dispose();
    b.dispose();
  });

  it('stateDictAsync matches stateDict', async () => {
    const a = new Net();
    const s1 = a.stateDict();
    const s2 = await a.stateDictAsync();
    expect(Object.keys(s2)).toEqual(Object.keys(s1));
    for (const k of Object.keys(s1)) expect(Array.from(s2[k].data)).toEqual(Array.from(s1[k].data));
    a.dispose();
  });

  it("an int64 buffer's entry carries dtype 'int64' (sync and async); loads from either dtype", async () => {
    class Counter extends Module {
      readonly w = this.registerParameter('w', ones([2]));
      readonly n = this.registerBuffer('n', zeros([]), { dtype: 'int64' });
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const a = new Counter();
    a.n.assign(tensor(7));
    const sd = a.stateDict();
    expect(sd.w.dtype).toBeUndefined();
    expect(sd.n).toEqual({ shape: [], data: new Float32Array([7]), dtype: 'int64' });
    expect((await a.stateDictAsync()).n.dtype).toBe('int64');
    const b = new Counter();
    b.loadStateDict({ w: sd.w, n: { shape: [], data: new Float32Array([3]) } }); // a float32 entry
    expect(b.n.item()).toBe(3);
    b.loadStateDict(sd);
    expect(b.n.item()).toBe(7);
    expect(() => a.registerBuffer('m', zeros([]), { dtype: 'int32' as never })).toThrow(
      /registerBuffer: 'm': dtype must be 'float32' or 'int64', got "int32"/,
    );
    a.dispose();
    b.dispose();
  });

  it('loadStateDict: clear errors naming the key, nothing written on error; strict false', () => {
    const net = new Net();
    const sd = net.stateDict();
    const original = Array.from(sd.scale.data);
    const bad: StateDict = {
      ...sd,
      scale: { shape: [1], data: new Float32Array([9]) },
      'layers.1.weight': { shape: [5, 3], data: new Float32Array(15) },
    };
    expect(() => net.loadStateDict(bad)).toThrow(ShapeError);
    expect(() => net.loadStateDict(bad)).toThrow(
      /loadStateDict: 'layers.1.weight' has shape \[5,3\] in the state dict, the module expects \[3,5\]/,
    );
    expect(Array.from(net.scale.dataSync())).toEqual(original); // nothing written half-way
    const { 'layers.0.bias': _dropped, ...missing } = sd;
    expect(() => net.loadStateDict(missing)).toThrow(/missing keys: layers\.0\.bias/);
    expect(() => net.loadStateDict({ ...sd, extra: { shape: [1], data: new Float32Array(1) } })).toThrow(
      /unexpected keys: extra/,
    );
    expect(() => net.loadStateDict({ ...sd, scale: { shape: [1], data: new Float32Array(2) } })).toThrow(
      /loadStateDict: 'scale' has 2 values, shape \[1\] needs 1/,
    );
    const r = net.loadStateDict(
      { scale: { shape: [1], data: new Float32Array([4]) }, extra: sd.scale },
      { strict: false },
    );
    expect(r.unexpectedKeys).toEqual(['extra']);
    expect(r.missingKeys).toHaveLength(6);
    expect(Array.from(net.scale.dataSync())).toEqual([4]);
    net.dispose();
  });

  it('registration errors; Parameter from values or a tensor', () => {
    class Bad extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new Bad();
    expect(() => m.registerParameter('a.b', zeros([1]))).toThrow(
      /registerParameter: name must be a non-empty string without '\.'/,
    );
    m.registerParameter('w', zeros([1]));
    expect(() => m.registerBuffer('w', zeros([1]))).toThrow(/registerBuffer: 'w' is already a parameter/);
    expect(() => m.registerModule('self', m)).toThrow(ValueError);
    const p = new Parameter([1, 2, 3, 4], { shape: [2, 2] });
    expect(p.shape).toEqual([2, 2]);
    expect(String(p)).toBe('Parameter([2,2], requiresGrad)');
    const owned = zeros([2]);
    expect(m.registerParameter('v', owned)).toBeInstanceOf(Parameter);
    expect(owned.isDisposed).toBe(true); // taken over by the module
    const src = tensor([5, 6]);
    const q = new Parameter(src);
    src.dispose();
    expect(Array.from(q.dataSync())).toEqual([5, 6]);
    m.dispose();
    p.dispose();
    q.dispose();
  });

  it('dispose() frees every parameter and buffer of the tree', () => {
    const before = memory();
    const net = new Net();
    scope(() =>
      net
        .forward(ones([1, 4]), 1)
        .sum()
        .backward(),
    );
    net.dispose();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.buffers).toBe(before.buffers);
  });
});

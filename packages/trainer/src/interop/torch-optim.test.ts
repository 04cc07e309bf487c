// Issue 14, optimizer state in PyTorch's format (toTorchOptimizerState / fromTorchOptimizerState,
// writeTorchExport's optimizer files, model.py's load_optimizer/save_optimizer, loadTorchOptimizer).
//
// With PyTorch (/usr/bin/python3, fixtures/torch_optim.py): a gradkit MLP takes three steps with
// SGD (momentum, Nesterov), Adam (L2, AMSGrad, two param groups) or AdamW; the export's
// load_optimizer builds torch.optim.<same> with gradkit's state; one more step in both from the
// same weights and state must give the same parameters; then PyTorch's state after that step
// (save_optimizer) comes back into a fresh gradkit optimizer, and a second step in both must again
// agree. Tolerance: parameters within 1e-6 absolute (float32 on both sides, one update of size
// lr * O(1) from the same state; the sums inside the matmuls differ in order, ~1e-7 relative).
// Skipped, with the reason printed, when python3 with torch and numpy is not there.
// Without Python: the mapping's names, indices and steps, the round trip, and every refusal.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayerSpec, Sequential } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import type { Optimizer, OptimizerStateDict } from '@gradkit/optimizers';
import { adam, adamw, rmsprop, sgd } from '@gradkit/optimizers';
import type { Tensor } from '@gradkit/tensor';
import { Rng, randn, scope, softmaxCrossEntropy, ValueError } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { registerStandardLayers } from '../layers.js';
import { loadTorchOptimizer, loadTorchStateDict, writeTorchExport } from './torch-files.js';
import type { TorchHyperparam, TorchOptimizerState } from './torch-optim.js';
import {
  decodeTorchOptimizer,
  encodeTorchOptimizer,
  fromTorchOptimizerState,
  TorchOptimizerMappingError,
  toTorchOptimizerState,
} from './torch-optim.js';

const PARAMS = { atol: 1e-6, rtol: 0 } as const;
const PYTHON = process.env.GRADKIT_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../fixtures/torch_optim.py', import.meta.url));

function pythonMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code})`;
  if (r.status !== 0) return `${PYTHON} cannot import torch and numpy: ${r.stderr.trim().split('\n').at(-1)}`;
  return null;
}
const missing = pythonMissing();
if (missing)
  console.log(`torch-optim.test.ts: PyTorch checks skipped: ${missing} (install Debian's python3-torch)`);

registerStandardLayers();

const LAYERS: LayerSpec[] = [
  { type: 'linear', in: 5, out: 8 },
  { type: 'relu' },
  { type: 'linear', in: 8, out: 3 },
];

type MakeOptimizer = (model: Sequential) => Optimizer;
const CASES: { name: string; make: MakeOptimizer; torch: string }[] = [
  {
    name: 'SGD with momentum and weight decay',
    make: (m) => sgd(m, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }) as never,
    torch: 'SGD',
  },
  {
    name: 'SGD with Nesterov momentum',
    make: (m) => sgd(m, { lr: 0.05, momentum: 0.8, nesterov: true }) as never,
    torch: 'SGD',
  },
  { name: 'plain SGD', make: (m) => sgd(m, { lr: 0.1 }) as never, torch: 'SGD' },
  {
    name: 'Adam with L2 and AMSGrad',
    make: (m) => adam(m, { lr: 1e-2, weightDecay: 1e-3, amsgrad: true, betas: [0.8, 0.99] }) as never,
    torch: 'Adam',
  },
  {
    name: 'Adam with two param groups (biases: own lr, no decay)',
    make: (m) => {
      const named = m.namedParameters();
      return adam(
        [
          { params: named.filter(([n]) => n.endsWith('weight')) },
          { params: named.filter(([n]) => n.endsWith('bias')), lr: 5e-3, weightDecay: 0 },
        ],
        { lr: 1e-2, weightDecay: 1e-2 },
      ) as never;
    },
    torch: 'Adam',
  },
  { name: 'AdamW', make: (m) => adamw(m, { lr: 1e-2, eps: 1e-6 }) as never, torch: 'AdamW' },
];

function data(): { x: Tensor; labels: number[] } {
  return { x: randn([6, 5], { rng: new Rng(11) }), labels: [0, 1, 2, 2, 1, 0] };
}

function trainStep(model: Sequential, opt: Optimizer, x: Tensor, labels: number[]): void {
  scope(() => {
    softmaxCrossEntropy(model.forward(x) as Tensor, labels).backward();
    opt.step();
    opt.zeroGrad();
  });
}

function paramsOf(model: Sequential): Record<string, Float32Array> {
  return Object.fromEntries(model.namedParameters().map(([n, t]) => [n, t.dataSync()]));
}

interface TorchResult {
  torch: string;
  optimizer: string;
  groups: Record<string, unknown>[];
  stateKeys: Record<string, string[]>;
  steps: Record<string, number>;
  stepDtypes: string[];
  after1: Record<string, number[]>;
  after2: Record<string, number[]>;
}

describe.skipIf(missing !== null).each(testBackends)('gradkit <-> torch.optim state on %s', (backend) => {
  useBackend(backend);

  it.each(CASES)(
    '$name: PyTorch continues from gradkit state with the same parameters, and back',
    ({ make, torch: torchName }) => {
      const model = buildModel(LAYERS, { rng: new Rng(3) });
      const opt = make(model);
      const { x, labels } = data();
      for (let i = 0; i < 3; i++) trainStep(model, opt, x, labels);

      const root = mkdtempSync(join(tmpdir(), 'gradkit-torch-optim-'));
      const exportDir = join(root, 'torch');
      const files = writeTorchExport(exportDir, LAYERS, model.stateDict(), { optimizer: opt.stateDict() });
      expect(files.optimizer).toEqual({
        json: join(exportDir, 'optimizer.json'),
        tensors: join(exportDir, 'optimizer.safetensors'),
      });
      const inputs = join(root, 'inputs.json');
      writeFileSync(inputs, JSON.stringify({ x: Array.from(x.dataSync()), shape: x.shape, labels }));
      const stem = join(root, 'from-torch');
      const r = spawnSync(PYTHON, [SCRIPT, exportDir, inputs, stem], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const torch = JSON.parse(r.stdout) as TorchResult;
      expect(torch.optimizer).toBe(torchName);
      // PyTorch holds what gradkit holds, under PyTorch's names, with 1.13's float32 step tensors
      const names = opt.paramGroups.flatMap((g) => g.names);
      const momentum = Number((opt.paramGroups[0].options as { momentum?: number }).momentum ?? 0);
      const want =
        torchName === 'SGD'
          ? momentum > 0
            ? ['momentum_buffer']
            : []
          : ['exp_avg', 'exp_avg_sq', ...(torch.groups[0].amsgrad ? ['max_exp_avg_sq'] : []), 'step'].sort();
      for (const i of names.keys()) expect(torch.stateKeys[String(i)], names[i]).toEqual(want);
      if (torchName !== 'SGD') {
        expect(torch.stepDtypes).toEqual(['torch.float32']);
        for (const i of names.keys()) expect(torch.steps[String(i)]).toBe(3);
      }
      expect(torch.groups.map((g) => g.lr)).toEqual(opt.paramGroups.map((g) => g.options.lr));

      // one more step in gradkit from the same state
      trainStep(model, opt, x, labels);
      const after1 = paramsOf(model);
      for (const [n, v] of Object.entries(after1))
        expectClose(v, torch.after1[n], PARAMS, `${n} after gradkit's 4th step vs PyTorch's 1st`);

      // back: PyTorch's weights and optimizer state after its step into a fresh model and optimizer
      const back = buildModel(LAYERS, { rng: new Rng(99) });
      loadTorchStateDict(back, `${stem}.safetensors`);
      const opt2 = make(back);
      const fromTorch = loadTorchOptimizer(`${stem}-optimizer`);
      opt2.loadStateDict(fromTorch);
      if (torchName !== 'SGD') for (const n of names) expect(opt2.getState(n).step).toBe(4);
      trainStep(back, opt2, x, labels);
      for (const [n, v] of Object.entries(paramsOf(back)))
        expectClose(
          v,
          torch.after2[n],
          PARAMS,
          `${n}: gradkit step from PyTorch's state vs PyTorch's 2nd step`,
        );
      for (const m of [model, back]) m.dispose();
      opt.dispose();
      opt2.dispose();
      x.dispose();
    },
    60_000,
  );
});

describe('toTorchOptimizerState / fromTorchOptimizerState', () => {
  it('numbers parameters over the groups, renames slots and options, keeps steps, and round-trips', () => {
    const model = buildModel(LAYERS, { rng: new Rng(1) });
    const named = model.namedParameters();
    const opt = adam(
      [
        { params: named.filter(([n]) => n.endsWith('bias')), lr: 0.5 },
        { params: named.filter(([n]) => n.endsWith('weight')) },
      ],
      { lr: 0.1, amsgrad: true },
    );
    const { x, labels } = data();
    trainStep(model, opt, x, labels);
    const dict = opt.stateDict();
    const { json, tensors } = toTorchOptimizerState(dict);
    expect(json.optimizer).toBe('Adam');
    expect(json.paramNames).toEqual(['0.bias', '2.bias', '0.weight', '2.weight']);
    expect(json.stateDict.param_groups).toEqual([
      {
        lr: 0.5,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weight_decay: 0,
        amsgrad: true,
        maximize: false,
        params: [0, 1],
      },
      {
        lr: 0.1,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weight_decay: 0,
        amsgrad: true,
        maximize: false,
        params: [2, 3],
      },
    ]);
    expect(json.stateDict.state).toEqual({ 0: { step: 1 }, 1: { step: 1 }, 2: { step: 1 }, 3: { step: 1 } });
    expect(Object.keys(tensors).sort()).toEqual(
      [0, 1, 2, 3]
        .flatMap((i) => ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'].map((k) => `state.${i}.${k}`))
        .sort(),
    );
    expect(tensors['state.2.exp_avg'].shape).toEqual([8, 5]);
    expect(Array.from(tensors['state.3.exp_avg_sq'].data)).toEqual(
      Array.from(dict.state['2.weight'].slots.expAvgSq.data),
    );
    const back = fromTorchOptimizerState({ json, tensors });
    expect(back.optimizer).toBe('Adam');
    expect(back.paramGroups).toEqual(dict.paramGroups.map(({ convention: _c, ...g }) => g));
    for (const [n, e] of Object.entries(dict.state)) {
      expect(back.state[n].step).toBe(e.step);
      for (const s of ['expAvg', 'expAvgSq', 'maxExpAvgSq'])
        expect(Array.from(back.state[n].slots[s].data)).toEqual(Array.from(e.slots[s].data));
    }
    // the files: JSON + safetensors, decoded the same way; loadStateDict takes the result
    const files = encodeTorchOptimizer(dict);
    const decoded = decodeTorchOptimizer(files.json, files.tensors);
    expect(decoded.state['0.bias'].step).toBe(1);
    opt.loadStateDict(decoded);
    opt.dispose();
    model.dispose();
    x.dispose();
  });

  it('SGD: no state before the first update, a momentum buffer after, step 1 back from PyTorch', () => {
    const model = buildModel(LAYERS, { rng: new Rng(1) });
    const opt = sgd(model, { lr: 0.1, momentum: 0.9 });
    expect(toTorchOptimizerState(opt.stateDict()).json.stateDict.state).toEqual({});
    const { x, labels } = data();
    trainStep(model, opt, x, labels);
    trainStep(model, opt, x, labels);
    const { json, tensors } = toTorchOptimizerState(opt.stateDict());
    expect(json.stateDict.state).toEqual({ 0: {}, 1: {}, 2: {}, 3: {} });
    expect(Object.keys(tensors).sort()).toEqual([0, 1, 2, 3].map((i) => `state.${i}.momentum_buffer`));
    const back = fromTorchOptimizerState({ json, tensors });
    expect(back.state['0.weight'].step).toBe(1);
    expect(Object.keys(back.state['0.weight'].slots)).toEqual(['momentumBuffer']);
    opt.dispose();
    model.dispose();
    x.dispose();
  });

  it('refuses what does not map, with a typed error naming the optimizer and option', () => {
    const model = buildModel(LAYERS, { rng: new Rng(1) });
    const rms = rmsprop(model, { lr: 0.01 });
    expect(() => toTorchOptimizerState(rms.stateDict())).toThrow(TorchOptimizerMappingError);
    expect(() => toTorchOptimizerState(rms.stateDict())).toThrow(
      "toTorchOptimizerState: optimizer 'RMSprop' has no exact PyTorch mapping here (SGD, Adam, AdamW do)",
    );
    const keras = adam(model, { convention: 'keras' });
    expect(() => toTorchOptimizerState(keras.stateDict())).toThrow(
      /Adam with convention 'keras' \(param group 0\) has no PyTorch equivalent/,
    );
    const ok = toTorchOptimizerState(adam(model).stateDict());
    const withGroup = (extra: Record<string, TorchHyperparam>): TorchOptimizerState => ({
      ...ok,
      json: {
        ...ok.json,
        stateDict: {
          ...ok.json.stateDict,
          param_groups: [{ ...ok.json.stateDict.param_groups[0], ...extra }],
        },
      },
    });
    // PyTorch's implementation switches are dropped when off; an option gradkit lacks is refused
    expect(
      fromTorchOptimizerState(withGroup({ foreach: null, capturable: false, fused: false })).paramGroups[0],
    ).not.toHaveProperty('foreach');
    expect(() => fromTorchOptimizerState(withGroup({ capturable: true }))).toThrow(
      TorchOptimizerMappingError,
    );
    expect(() => fromTorchOptimizerState(withGroup({ decoupled_weight_decay: true }))).toThrow(
      "fromTorchOptimizerState: Adam param group 0 has 'decoupled_weight_decay', which gradkit's Adam lacks",
    );
    expect(() =>
      fromTorchOptimizerState({ ...ok, json: { ...ok.json, optimizer: 'RMSprop' as never } }),
    ).toThrow(TorchOptimizerMappingError);
    expect(() => fromTorchOptimizerState({ ...ok, json: { ...ok.json, format: 'x' as never } })).toThrow(
      ValueError,
    );
    expect(() =>
      fromTorchOptimizerState({
        ...ok,
        json: { ...ok.json, stateDict: { ...ok.json.stateDict, state: { 0: { step: 2 } } } },
      }),
    ).toThrow("fromTorchOptimizerState: state 0 has no 'exp_avg' tensor");
    expect(() => toTorchOptimizerState(null as unknown as OptimizerStateDict)).toThrow(ValueError);
    // nothing written when the optimizer does not map
    const dir = join(mkdtempSync(join(tmpdir(), 'gradkit-torch-optim-')), 'out');
    expect(() => writeTorchExport(dir, LAYERS, model.stateDict(), { optimizer: rms.stateDict() })).toThrow(
      TorchOptimizerMappingError,
    );
    expect(existsSync(dir)).toBe(false);
    rms.dispose();
    keras.dispose();
    model.dispose();
  });
});

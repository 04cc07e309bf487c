// Old checkpoints still load (issue 14): a checkpoint in format version 1 (BatchNorm buffers
// `runningMean`, `runningVar` and a float32 `numBatchesTracked`, as gradkit wrote them before it
// used PyTorch's names) is renamed on read and loads strictly into today's model.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerSpec } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import type { StateDict, Tensor } from '@gradkit/tensor';
import { Rng, randn, scope } from '@gradkit/tensor';
import { testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { registerStandardLayers } from '../layers.js';
import type { TrainerState } from '../trainer.js';
import { CHECKPOINT_FILES, CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { migrateStateDict } from './migrate.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { CHECKPOINT_VERSION } from './types.js';

registerStandardLayers();

const f32 = (...v: number[]) => Float32Array.from(v);

describe('migrateStateDict', () => {
  it("renames every BatchNorm's three buffers in place (order kept), marks the count int64", () => {
    const old: StateDict = {
      '0.weight': { shape: [1], data: f32(2) },
      '1.weight': { shape: [1], data: f32(1) },
      '1.bias': { shape: [1], data: f32(0) },
      '1.runningMean': { shape: [1], data: f32(0.5) },
      '1.runningVar': { shape: [1], data: f32(2) },
      '1.numBatchesTracked': { shape: [], data: f32(7) },
      runningMean: { shape: [1], data: f32(3) },
      runningVar: { shape: [1], data: f32(4) },
      numBatchesTracked: { shape: [], data: f32(1) },
      '3.runningMean': { shape: [1], data: f32(9) }, // a custom buffer: no runningVar beside it
      '4.myrunningMean': { shape: [1], data: f32(9) },
    };
    const now = migrateStateDict(old);
    expect(Object.keys(now)).toEqual([
      '0.weight',
      '1.weight',
      '1.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
      'running_mean',
      'running_var',
      'num_batches_tracked',
      '3.runningMean',
      '4.myrunningMean',
    ]);
    expect(now['1.num_batches_tracked']).toEqual({ shape: [], data: f32(7), dtype: 'int64' });
    expect(now['1.running_mean']).toBe(old['1.runningMean']);
    const current = { 'bn.running_mean': { shape: [1], data: f32(0) } };
    expect(migrateStateDict(current)).toBe(current); // nothing to rename: the same object
  });

  it('refuses a clash with a new name and a count that is not a non-negative integer', () => {
    const triple = (n: number): StateDict => ({
      'b.runningMean': { shape: [1], data: f32(0) },
      'b.runningVar': { shape: [1], data: f32(1) },
      'b.numBatchesTracked': { shape: [], data: f32(n) },
    });
    expect(() =>
      migrateStateDict({ ...triple(1), 'b.running_var': { shape: [1], data: f32(1) } }, 'x.safetensors'),
    ).toThrow(
      new CheckpointError(
        "x.safetensors: both 'b.runningVar' and 'b.running_var' are present; cannot rename the old key",
      ),
    );
    expect(() => migrateStateDict(triple(1.5), 'x.safetensors')).toThrow(
      /x.safetensors: 'b.numBatchesTracked' must hold a non-negative integer count, got 1.5/,
    );
    expect(() => migrateStateDict(triple(-1))).toThrow(CheckpointError);
  });
});

function trainerState(): TrainerState {
  return {
    epoch: 1,
    step: 3,
    history: [{ epoch: 1, step: 3, seconds: 0.5, logs: { loss: 1 } }],
    dataRng: [1, 2, 3, 4],
    globalRng: [5, 6, 7, 8],
    callbacks: {},
    stopped: null,
  };
}

/** gradkit's names before version 2. */
const oldName = (k: string) =>
  k
    .replace(/running_mean$/, 'runningMean')
    .replace(/running_var$/, 'runningVar')
    .replace(/num_batches_tracked$/, 'numBatchesTracked');

describe.each(testBackends)('a version-1 checkpoint on %s', (backend) => {
  useBackend(backend);
  const spec: LayerSpec[] = [
    { type: 'linear', in: 4, out: 6 },
    { type: 'batchNorm', numFeatures: 6 },
    { type: 'relu' },
    { type: 'linear', in: 6, out: 3 },
  ];

  it('loads strictly into the model after the rename, with the same eval outputs; a new save is version 2 with I64', () => {
    const model = buildModel(spec, { rng: new Rng(3) });
    scope(() => {
      for (let i = 0; i < 3; i++) model.forward(randn([8, 4], { rng: new Rng(10 + i) })); // running stats move
    });
    model.eval();
    const x = randn([5, 4], { rng: new Rng(99) });
    const want = scope(() => (model.forward(x) as Tensor).dataSync());
    // the files exactly as the version-1 writer laid them out: camelCase buffers, all F32
    const sd = model.stateDict();
    const old: StateDict = {};
    for (const [k, e] of Object.entries(sd)) old[oldName(k)] = { shape: e.shape, data: e.data };
    expect(Object.keys(old)).toContain('1.numBatchesTracked');
    const dir = join(mkdtempSync(join(tmpdir(), 'gradkit-v1-')), 'last');
    const meta = { format: 'gradkit', epoch: '1', step: '3' };
    saveCheckpoint(dir, {
      model: sd,
      optimizer: {},
      trainer: trainerState(),
      callbackTensors: {},
      modelSpec: { format: 'gradkit.sequential', version: 1, layers: spec } as never,
      config: null,
    });
    writeFileSync(join(dir, CHECKPOINT_FILES.model), encodeSafetensors(old, meta));
    writeFileSync(
      join(dir, CHECKPOINT_FILES.callbacks),
      encodeSafetensors(
        Object.fromEntries(Object.entries(old).map(([k, e]) => [`EarlyStopping/${k}`, e])),
        meta,
      ),
    );
    const state = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILES.state), 'utf8'));
    writeFileSync(join(dir, CHECKPOINT_FILES.state), JSON.stringify({ ...state, version: 1 }));
    const header = readFileSync(join(dir, CHECKPOINT_FILES.model)).toString('latin1');
    expect(header).toContain('"1.numBatchesTracked":{"dtype":"F32"');

    const ckpt = loadCheckpoint(dir);
    expect(Object.keys(ckpt.model).sort()).toEqual(Object.keys(sd).sort()); // files hold names sorted
    expect(ckpt.model['1.num_batches_tracked']).toEqual({ shape: [], data: f32(3), dtype: 'int64' });
    expect(Object.keys(ckpt.callbackTensors.EarlyStopping).sort()).toEqual(Object.keys(sd).sort());
    const fresh = buildModel(spec, { rng: new Rng(4) });
    expect(fresh.loadStateDict(ckpt.model)).toEqual({ missingKeys: [], unexpectedKeys: [] }); // strict
    fresh.eval();
    expect(Array.from(scope(() => (fresh.forward(x) as Tensor).dataSync()))).toEqual(Array.from(want));

    saveCheckpoint(dir, { ...ckpt, model: fresh.stateDict() });
    expect(JSON.parse(readFileSync(join(dir, CHECKPOINT_FILES.state), 'utf8')).version).toBe(
      CHECKPOINT_VERSION,
    );
    const written = decodeSafetensors(readFileSync(join(dir, CHECKPOINT_FILES.model))).tensors;
    expect(written['1.num_batches_tracked'].dtype).toBe('int64');
    expect(loadCheckpoint(dir).model['1.running_mean'].data).toEqual(sd['1.running_mean'].data);

    // a callback or tensor named '__proto__' would vanish into a record's prototype: refused
    for (const bad of ['__proto__/w', 'EarlyStopping/__proto__']) {
      writeFileSync(
        join(dir, CHECKPOINT_FILES.callbacks),
        encodeSafetensors({ [bad]: sd['0.weight'] }, meta),
      );
      expect(() => loadCheckpoint(dir), bad).toThrow(CheckpointError);
      expect(() => loadCheckpoint(dir), bad).toThrow(/cannot be named '__proto__'/);
    }
    const future = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILES.state), 'utf8'));
    writeFileSync(join(dir, CHECKPOINT_FILES.state), JSON.stringify({ ...future, version: 3 }));
    expect(() => loadCheckpoint(dir)).toThrow(/unsupported checkpoint format "gradkit.checkpoint" version 3/);
    x.dispose();
    model.dispose();
    fresh.dispose();
  });
});

// Issue 14, the round trip with PyTorch: a gradkit MLP with BatchNorm1d and a small CNN (Conv2d,
// BatchNorm2d, pooling) are trained a few steps, saved as a gradkit checkpoint and exported with
// writeTorchExport; PyTorch (/usr/bin/python3, fixtures/torch_roundtrip.py) loads both the
// checkpoint's model.safetensors and the export with load_state_dict(strict=True) and must give
// the same eval-mode logits; PyTorch then trains two more steps and saves its state dict as
// safetensors (safetensors.torch.save_file when installed, else model.py's own writer); gradkit
// loads that with loadTorchStateDict (strict) and must give PyTorch's new logits.
// Tolerance: logits within 1e-5 absolute (float32 on both sides, the same weights).
// Skipped, with the reason printed, when python3 with torch and numpy is not there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayerSpec } from '@gradkit/nn';
import { buildModel } from '@gradkit/nn';
import type { Tensor } from '@gradkit/tensor';
import { noGrad, Rng, randn, scope, softmaxCrossEntropy } from '@gradkit/tensor';
import { expectClose, testBackends, useBackend } from '@gradkit/test-utils';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILES, saveCheckpoint } from '../checkpoint/checkpoint.js';
import { decodeSafetensors } from '../checkpoint/safetensors.js';
import { registerStandardLayers } from '../layers.js';
import type { TrainerState } from '../trainer.js';
import { loadTorchStateDict, writeTorchExport } from './torch-files.js';

const LOGITS = { atol: 1e-5, rtol: 0 } as const;
const PYTHON = process.env.GRADKIT_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../fixtures/torch_roundtrip.py', import.meta.url));

/** Why the PyTorch tests cannot run here, or null when they can. */
function pythonMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code})`;
  if (r.status !== 0) return `${PYTHON} cannot import torch and numpy: ${r.stderr.trim().split('\n').at(-1)}`;
  return null;
}
const missing = pythonMissing();
if (missing) console.log(`torch-roundtrip.test.ts skipped: ${missing} (install Debian's python3-torch)`);

registerStandardLayers();

interface TorchResult {
  torch: string;
  writer: string;
  keys: string[];
  dtypes: Record<string, string>;
  logits: number[];
  logitsCheckpoint: number[];
  logitsAfter: number[];
  numBatchesTracked: Record<string, number>;
}

function trainerState(): TrainerState {
  return {
    epoch: 1,
    step: 3,
    history: [{ epoch: 1, step: 3, seconds: 0.1, logs: { loss: 1 } }],
    dataRng: [1, 2, 3, 4],
    globalRng: [5, 6, 7, 8],
    callbacks: {},
    stopped: null,
  };
}

const MODELS: { name: string; layers: LayerSpec[]; shape: number[] }[] = [
  {
    name: 'MLP with BatchNorm1d and LayerNorm',
    shape: [6, 5],
    layers: [
      { type: 'linear', in: 5, out: 16 },
      { type: 'batchNorm', numFeatures: 16 },
      { type: 'relu' },
      { type: 'dropout', p: 0.2 },
      { type: 'linear', in: 16, out: 8 },
      { type: 'layerNorm', normalizedShape: 8 },
      { type: 'tanh' },
      { type: 'linear', in: 8, out: 3 },
    ],
  },
  {
    name: 'CNN with Conv2d, BatchNorm2d and pooling',
    shape: [4, 2, 8, 8],
    layers: [
      { type: 'conv2d', in: 2, out: 4, kernelSize: 3, padding: 1 },
      { type: 'batchNorm2d', numFeatures: 4 },
      { type: 'relu' },
      { type: 'maxPool2d', kernelSize: 2 },
      { type: 'conv2d', in: 4, out: 6, kernelSize: 3, padding: [1, 0, 0, 1], groups: 2 },
      { type: 'gelu' },
      { type: 'avgPool2d', kernelSize: 2, stride: 1 },
      { type: 'groupNorm', numGroups: 2, numChannels: 6 },
      { type: 'adaptiveAvgPool2d', outputSize: 2 },
      { type: 'flatten' },
      { type: 'dropout', p: 0.1 },
      { type: 'linear', in: 24, out: 3 },
    ],
  },
];

describe.skipIf(missing !== null).each(testBackends)('gradkit <-> PyTorch state dicts on %s', (backend) => {
  useBackend(backend);

  it.each(MODELS)(
    '$name: checkpoint and export load strictly in PyTorch with the same logits; PyTorch-trained weights load back',
    ({ layers, shape }) => {
      const model = buildModel(layers, { rng: new Rng(7) });
      const rng = new Rng(11);
      const x = randn(shape, { rng });
      const labels = Array.from({ length: shape[0] }, (_, i) => i % 3);
      // a few SGD steps so that weights, running statistics and num_batches_tracked all moved
      for (let step = 0; step < 3; step++) {
        scope(() => {
          softmaxCrossEntropy(model.forward(x) as Tensor, labels).backward();
          noGrad(() => {
            for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.1)));
          });
          model.zeroGrad();
        });
      }
      model.eval();
      const logits = scope(() => (model.forward(x) as Tensor).dataSync());
      const sd = model.stateDict();

      const root = mkdtempSync(join(tmpdir(), 'gradkit-torch-'));
      const ckptDir = join(root, 'last');
      saveCheckpoint(ckptDir, {
        model: sd,
        optimizer: {},
        trainer: trainerState(),
        callbackTensors: {},
        modelSpec: { format: 'gradkit.sequential', version: 1, layers } as never,
        config: null,
      });
      const exportDir = join(root, 'torch');
      writeTorchExport(exportDir, layers, sd);
      const inputs = join(root, 'inputs.json');
      writeFileSync(inputs, JSON.stringify({ x: Array.from(x.dataSync()), shape, labels }));
      const saved = join(root, 'from-torch.safetensors');
      const r = spawnSync(PYTHON, [SCRIPT, exportDir, join(ckptDir, CHECKPOINT_FILES.model), inputs, saved], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const torch = JSON.parse(r.stdout) as TorchResult;
      console.log(`${backend}: PyTorch ${torch.torch}, state dict written back by ${torch.writer}`);

      // names, order and dtypes are PyTorch's
      expect(torch.keys).toEqual(Object.keys(sd));
      for (const [k, e] of Object.entries(sd))
        expect(torch.dtypes[k], k).toBe(e.dtype === 'int64' ? 'torch.int64' : 'torch.float32');
      expectClose(torch.logitsCheckpoint, logits, LOGITS, 'PyTorch logits from the checkpoint');
      expectClose(torch.logits, logits, LOGITS, 'PyTorch logits from the export');

      // back into gradkit: a fresh model (other initial weights) gets PyTorch's trained ones
      const back = buildModel(layers, { rng: new Rng(8) });
      expect(loadTorchStateDict(back, saved)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      back.eval();
      scope(() =>
        expectClose(back.forward(x) as Tensor, torch.logitsAfter, LOGITS, 'gradkit logits after PyTorch'),
      );
      const file = decodeSafetensors(readFileSync(saved)).tensors;
      for (const [k, n] of Object.entries(torch.numBatchesTracked)) {
        expect(n, k).toBe(sd[k].data[0] + 2); // three gradkit batches, then two PyTorch ones
        expect(file[k].dtype, k).toBe('int64');
        expect(back.stateDict()[k].data[0], k).toBe(n);
      }
      x.dispose();
      model.dispose();
      back.dispose();
    },
    120_000,
  );
});

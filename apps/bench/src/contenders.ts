// The contenders of one run: which exist, which can run here, and why not.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableBackends } from '@gradkit/kernels';
import '@gradkit/kernels/gl';
import type { ContenderKind, Workload } from './types.js';

/** A contender of the benchmark. */
export interface Contender {
  /** Stable id, used by --contenders and in the JSON (`gradkit-cpu`, `tfjs-wasm`, ...). */
  readonly id: string;
  readonly kind: ContenderKind;
  /** gradkit backend, TF.js backend, brain.js class (`cpu` | `gpu`), ... */
  readonly backend: string;
  /** Display name. */
  readonly label: string;
  readonly workloads: readonly Workload[];
  readonly available: boolean;
  /** Why it cannot run here (empty when available). */
  readonly reason: string;
}

const require = createRequire(import.meta.url);

function resolvable(pkg: string): string {
  try {
    require.resolve(`${pkg}/package.json`);
    return '';
  } catch {
    return `the package ${pkg} is not installed`;
  }
}

/** Whether `python` can import torch; its version, or why not. */
export function probeTorch(python: string): { ok: boolean; detail: string } {
  if (python.includes('/') && !existsSync(python)) return { ok: false, detail: `${python} not found` };
  const r = spawnSync(python, ['-c', 'import torch, sys; sys.stdout.write(torch.__version__)'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) return { ok: false, detail: `${python}: ${r.error.message}` };
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return { ok: false, detail: `${python} cannot import torch (${last || `exit ${r.status}`})` };
  }
  return { ok: true, detail: r.stdout.trim() };
}

/** Every contender, available or not, in report order. */
export function allContenders(python: string, torch = probeTorch(python)): Contender[] {
  const list: Contender[] = [
    {
      id: 'js-loop',
      kind: 'js-loop',
      backend: 'js',
      label: 'plain JS i-j-k loop',
      workloads: ['matmul'],
      available: true,
      reason: '',
    },
  ];
  const backends = availableBackends();
  for (const b of backends) {
    list.push({
      id: `gradkit-${b.name}`,
      kind: 'gradkit',
      backend: b.name,
      label: `gradkit ${b.name}`,
      workloads: ['matmul', 'micro', 'conv', 'mnist', 'cnn'],
      available: b.available,
      reason: b.reason,
    });
  }
  const gl = backends.find((b) => b.name === 'gl');
  const tfjsMissing = resolvable('@tensorflow/tfjs-core') || resolvable('@tensorflow/tfjs-layers');
  for (const backend of ['wasm', 'cpu']) {
    const missing = tfjsMissing || resolvable(`@tensorflow/tfjs-backend-${backend}`);
    list.push({
      id: `tfjs-${backend}`,
      kind: 'tfjs',
      backend,
      label: `TF.js ${backend}`,
      workloads: ['matmul', 'micro', 'conv', 'mnist', 'cnn'],
      available: !missing,
      reason: missing,
    });
  }
  const brainMissing = resolvable('brain.js');
  list.push({
    id: 'brain-cpu',
    kind: 'brain',
    backend: 'cpu',
    label: 'brain.js NeuralNetwork',
    workloads: ['mnist'],
    available: !brainMissing,
    reason: brainMissing,
  });
  const noGl =
    gl && !gl.available
      ? `needs WebGL (gpu.js headless-gl), which cannot start here: ${gl.reason}; without it gpu.js picks its ` +
        "WebAssembly or CPU mode, where brain.js' GPU network is not the GPU path (and its kernels fail on webasm)"
      : '';
  list.push({
    id: 'brain-gpu',
    kind: 'brain',
    backend: 'gpu',
    label: 'brain.js NeuralNetworkGPU',
    workloads: ['mnist'],
    available: !brainMissing && !noGl,
    reason: brainMissing || noGl,
  });
  list.push({
    id: 'torch-cpu',
    kind: 'torch',
    backend: 'cpu',
    label: torch.ok ? `PyTorch ${torch.detail} (1 thread)` : 'PyTorch (1 thread)',
    workloads: ['matmul', 'micro', 'conv', 'mnist', 'cnn'],
    available: torch.ok,
    reason: torch.ok ? '' : `optional: ${torch.detail}`,
  });
  return list;
}

// Test helpers of the ONNX export tests (not exported from the package): run an exported model in
// onnxruntime-web (wasm, one thread) and check it with Debian's python3-onnx checker.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;

/** Runs the model on one float32 input; returns the first output's values and dims. */
export async function runOnnx(
  bytes: Uint8Array,
  input: Float32Array,
  dims: readonly number[],
  names: { input: string; output: string } = { input: 'input', output: 'output' },
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ [names.input]: new ort.Tensor('float32', input, [...dims]) });
    const y = out[names.output];
    return { data: y.data as Float32Array, dims: y.dims };
  } finally {
    await session.release();
  }
}

export const PYTHON = '/usr/bin/python3';

/** Why the Python checks cannot run here, or null when `import onnx` works. */
export function pythonOnnxMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} has no onnx module (Debian: apt-get install python3-onnx)`;
  return null;
}

/**
 * `onnx.checker.check_model(onnx.load(file), full_check=True)` (strict shape inference too) on
 * each file; returns the checker's output (empty on success) per name.
 */
export function checkWithPython(files: Readonly<Record<string, Uint8Array>>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gradkit-onnx-'));
  try {
    const out: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, bytes);
      const r = spawnSync(
        PYTHON,
        ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path],
        { encoding: 'utf8' },
      );
      out[name] =
        r.status === 0 ? '' : `exit ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seeded host-side normal numbers (Box-Muller over a mulberry32 stream). */
export function hostRandn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(uniform(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

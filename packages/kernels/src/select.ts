import type { BackendInfo, BackendName, KernelBackend } from './backend.js';
import { BACKEND_ORDER } from './backend.js';
import { CpuBackend } from './backends/cpu.js';
import type { GpuJsMode } from './backends/gpujs.js';
import { GpuJsBackend, probeGpuJs } from './backends/gpujs.js';
import { probeWasm, WasmBackend } from './backends/wasm/wasm.js';
import { Device } from './device.js';
import { BackendError, ValueError } from './errors.js';

/** Whether one backend can start here, and why not. */
export interface BackendAvailability {
  /** The backend. */
  readonly name: BackendName;
  /** Whether it can start here. */
  readonly available: boolean;
  /** The gpu.js mode that was probed (`'js'` for cpu). */
  readonly gpuMode: string;
  /** Why it is unavailable (empty when available). */
  readonly reason: string;
}

/** Options of {@link createDevice}. */
export interface DeviceOptions {
  /**
   * `'gl'`, `'wasm'`, `'cpu'` or `'auto'` (default: the `GRADKIT_BACKEND` environment variable,
   * else `'auto'`, the best available). An explicit backend that cannot start throws a
   * {@link BackendError}; it never falls back silently.
   */
  readonly backend?: BackendName | 'auto';
  /**
   * Threads of the `wasm` backend's matrix products, the calling thread included (default: the
   * `GRADKIT_THREADS` environment variable, else the number of logical CPUs, at most 8; `1` turns
   * workers off). Ignored by the other backends.
   */
  readonly threads?: number;
}

const isBrowser = (): boolean =>
  typeof (globalThis as { window?: unknown }).window !== 'undefined' &&
  typeof (globalThis as { document?: unknown }).document !== 'undefined';

function glModes(): GpuJsMode[] {
  return isBrowser() ? ['webgl2', 'webgl'] : ['headlessgl'];
}

const probed = new Map<BackendName, BackendAvailability>();

/** Probes one backend (cached): only what that backend needs is loaded (GL is not touched for wasm). */
function probe(name: BackendName): BackendAvailability {
  let a = probed.get(name);
  if (a) return a;
  if (name === 'gl') {
    const reasons: string[] = [];
    for (const mode of glModes()) {
      const r = probeGpuJs(mode);
      if (r.ok) {
        a = { name: 'gl', available: true, gpuMode: mode, reason: '' };
        break;
      }
      reasons.push(`${mode}: ${r.reason}`);
    }
    a ??= { name: 'gl', available: false, gpuMode: glModes()[0], reason: reasons.join('; ') };
  } else if (name === 'wasm') {
    const w = probeWasm();
    a = {
      name: 'wasm',
      available: w.ok,
      gpuMode: 'wasm-simd',
      reason: w.ok ? '' : `WebAssembly SIMD: ${w.reason}`,
    };
  } else {
    a = { name: 'cpu', available: true, gpuMode: 'js', reason: '' };
  }
  probed.set(name, a);
  return a;
}

/**
 * Probes every backend once (cached) and tells which can start here and why not.
 *
 * @example
 * ```ts
 * availableBackends();
 * // [{ name: 'gl', available: false, gpuMode: 'headlessgl', reason: '...' }, { name: 'wasm', available: true, ... }, ...]
 * ```
 */
export function availableBackends(): BackendAvailability[] {
  return BACKEND_ORDER.map(probe);
}

function parseBackend(source: string, value: string): BackendName | 'auto' {
  const v = value.trim().toLowerCase();
  if (v === 'auto' || (BACKEND_ORDER as readonly string[]).includes(v)) return v as BackendName | 'auto';
  throw new ValueError(source, `unknown backend '${value}'; expected one of gl, wasm, cpu, auto`);
}

function envBackend(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.GRADKIT_BACKEND;
  return v && v.trim() !== '' ? v : undefined;
}

function instantiate(name: BackendName, mode: string, options: DeviceOptions): KernelBackend {
  if (name === 'cpu') return new CpuBackend();
  if (name === 'wasm') return new WasmBackend({ threads: options.threads });
  return new GpuJsBackend(mode as GpuJsMode);
}

/**
 * Creates a device on the requested backend, or on the best available one.
 * Selection order: `options.backend`, then `GRADKIT_BACKEND`, then automatic (gl, wasm, cpu).
 *
 * @throws {BackendError} when an explicitly requested backend cannot start, with the reason.
 * @example
 * ```ts
 * const d = createDevice({ backend: 'cpu' });
 * d.info().reason; // "requested by option: backend 'cpu'"
 * ```
 */
export function createDevice(options: DeviceOptions = {}): Device {
  let requested: BackendName | 'auto';
  let source: string;
  if (options.backend !== undefined) {
    requested = parseBackend('createDevice', options.backend);
    source = `requested by option: backend '${requested}'`;
  } else if (envBackend() !== undefined) {
    requested = parseBackend('GRADKIT_BACKEND', envBackend()!);
    source = `requested by GRADKIT_BACKEND=${requested}`;
  } else {
    requested = 'auto';
    source = 'auto';
  }
  if (requested !== 'auto') {
    // only the requested backend is probed: asking for wasm never loads gl
    const a = probe(requested);
    if (!a.available) {
      throw new BackendError(
        requested,
        `backend '${requested}' was requested but cannot start here: ${a.reason}`,
      );
    }
    return new Device(instantiate(a.name, a.gpuMode, options), source);
  }
  const skipped: string[] = [];
  for (const name of BACKEND_ORDER) {
    // probed in rank order, stopping at the first that starts
    const a = probe(name);
    if (a.available) {
      const why = skipped.length ? `auto: best available (${skipped.join('; ')})` : 'auto: best available';
      return new Device(instantiate(a.name, a.gpuMode, options), source === 'auto' ? why : source);
    }
    skipped.push(`${a.name} unavailable: ${a.reason}`);
  }
  throw new BackendError('auto', 'no backend could start'); // unreachable: cpu is always available
}

let current: Device | null = null;

/**
 * The shared default device, created on first use by {@link createDevice} (so `GRADKIT_BACKEND`
 * is honoured).
 */
export function getDevice(): Device {
  if (!current) current = createDevice();
  return current;
}

/**
 * Replaces the shared default device: pass a device, or a backend name to create one.
 * Returns the new default.
 */
export function setDevice(device: Device | BackendName | 'auto'): Device {
  current = typeof device === 'string' ? createDevice({ backend: device }) : device;
  return current;
}

/**
 * What the default device runs on: backend, why it was chosen, gpu.js mode, renderer, precision
 * and limits.
 *
 * @example
 * ```ts
 * console.log(backendInfo());
 * // { name: 'gl', reason: 'auto: best available', gpuMode: 'headlessgl', renderer: '...llvmpipe...', ... }
 * ```
 */
export function backendInfo(): BackendInfo {
  return getDevice().info();
}

/**
 * The backends a test matrix should cover on this machine: only `GRADKIT_BACKEND` when it is set,
 * else every available one. A backend named by `GRADKIT_BACKEND` or in `GRADKIT_REQUIRE_BACKENDS`
 * (comma-separated) that cannot start is an error, so CI fails instead of silently skipping it.
 *
 * @example
 * ```ts
 * describe.each(backendsToTest())('%s', (name) => { const d = createDevice({ backend: name }); ... });
 * ```
 */
export function backendsToTest(): BackendName[] {
  const all = availableBackends();
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const required = (env.GRADKIT_REQUIRE_BACKENDS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parseBackend('GRADKIT_REQUIRE_BACKENDS', s));
  const only = envBackend();
  if (only !== undefined) {
    const o = parseBackend('GRADKIT_BACKEND', only);
    if (o !== 'auto') required.push(o);
  }
  for (const r of required) {
    if (r === 'auto') continue;
    const a = all.find((b) => b.name === r)!;
    if (!a.available)
      throw new BackendError(r, `backend '${r}' is required for this test run but cannot start: ${a.reason}`);
  }
  if (only !== undefined && only.trim().toLowerCase() !== 'auto')
    return [parseBackend('GRADKIT_BACKEND', only) as BackendName];
  return all.filter((a) => a.available).map((a) => a.name);
}

import type { BackendInfo, BackendName, KernelBackend } from './backend.js';
import { Device } from './device.js';
import { BackendError, ValueError } from './errors.js';
import { backendFactory, probeBackend, registeredBackends, SOFTWARE_RENDERER_PRIORITY } from './registry.js';

/** Whether one backend can start here, and why not. */
export interface BackendAvailability {
  /** The backend. */
  readonly name: BackendName;
  /** Whether it can start here. */
  readonly available: boolean;
  /** The mode that was probed: the gpu.js mode for gl, `'wasm-simd'` for wasm, `'js'` for cpu. */
  readonly gpuMode: string;
  /** Why it is unavailable (empty when available). */
  readonly reason: string;
  /**
   * The software rasterizer an available GPU backend runs on (`'llvmpipe'`, `'SwiftShader'`, ...),
   * absent otherwise: automatic selection then ranks it below `wasm`.
   */
  readonly softwareRenderer?: string;
}

/** Options of {@link createDevice}. */
export interface DeviceOptions {
  /**
   * A registered backend (`'gl'` once `@gradkit/kernels/gl` is imported, `'wasm'`, `'cpu'`, or one
   * added with `registerBackend`) or `'auto'` (default: the `GRADKIT_BACKEND` environment
   * variable, else `'auto'`, the best available by priority). An explicit backend that cannot
   * start, or is not registered, throws a {@link BackendError}; it never falls back silently.
   */
  readonly backend?: BackendName | 'auto';
  /**
   * Threads of the `wasm` backend's matrix products, the calling thread included (default: the
   * `GRADKIT_THREADS` environment variable, else the number of logical CPUs, at most 8; `1` turns
   * workers off). Ignored by the other backends.
   */
  readonly threads?: number;
  /**
   * The `wasm` backend's GEMM: `true` (default) uses the relaxed-SIMD micro-kernel
   * (`f32x4.relaxed_madd`, a fused multiply-add where the hardware has FMA) when the engine
   * validates relaxed SIMD (Chrome 114+, Node 21+, Node 20 with
   * `--experimental-wasm-relaxed-simd`); `false` keeps the SIMD128 one (multiply, then add), e.g.
   * for results identical across engines. `info().renderer` says which runs. Ignored by the other
   * backends.
   */
  readonly relaxedSimd?: boolean;
}

function availability(name: string): BackendAvailability {
  const p = probeBackend(name);
  return {
    name,
    available: p.ok,
    gpuMode: p.mode,
    reason: p.reason,
    ...(p.ok && p.softwareRenderer ? { softwareRenderer: p.softwareRenderer } : {}),
  };
}

// Finding gl by itself (Node only): the core's Node entry (node.ts) installs a function that
// loads '@gradkit/kernels/gl' when gpu.js is installed. It runs once, on the first automatic
// selection, request for gl or availableBackends(); it returns null, or a note why gl was not
// registered although gpu.js is there.
let glDiscovery: (() => string | null) | null = null;
let glDiscoveryNote = '';

/** @internal Installs the function that registers gl when gpu.js is installed (the Node entry). */
export function setGlDiscovery(discover: () => string | null): void {
  glDiscovery = discover;
}

/** Registers gl by itself where the platform allows it (once); returns the note of a failure. */
function discoverGl(): string {
  if (glDiscovery !== null && !backendFactory('gl')) {
    const discover = glDiscovery;
    glDiscovery = null;
    try {
      glDiscoveryNote = discover() ?? '';
    } catch (e) {
      glDiscoveryNote = `looking for gpu.js failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return backendFactory('gl') ? '' : glDiscoveryNote;
}

/**
 * Probes every registered backend once (cached), highest priority first, and tells which can
 * start here and why not. Only registered backends are listed: `gl` appears once
 * `@gradkit/kernels/gl` is imported (in Node also when gpu.js is installed: it is found and
 * registered here). An available GPU backend on a software rasterizer carries `softwareRenderer`.
 *
 * @example
 * ```ts
 * availableBackends();
 * // [{ name: 'wasm', available: true, gpuMode: 'wasm-simd', reason: '' }, { name: 'cpu', available: true, ... }]
 * ```
 */
export function availableBackends(): BackendAvailability[] {
  discoverGl();
  return registeredBackends().map(availability);
}

/** Why `name` is not a registered backend, with the fix for `gl`. */
function notRegistered(name: string): string {
  const note = name === 'gl' ? discoverGl() : '';
  const hint =
    name === 'gl'
      ? note !== ''
        ? `; ${note}`
        : "; the GPU backend needs gpu.js (npm install gpu.js) and is registered by import '@gradkit/kernels/gl' (in Node, installing gpu.js is enough)"
      : '';
  return `backend '${name}' is not registered (registered: ${registeredBackends().join(', ')})${hint}`;
}

function parseBackend(source: string, value: string): string {
  const v = String(value).trim().toLowerCase();
  if (v === 'auto' || backendFactory(v)) return v;
  if (v === 'gl') return v; // known to gradkit: reported as "not registered" with the fix, by the caller
  throw new ValueError(
    source,
    `unknown backend '${value}'; expected one of ${[...registeredBackends(), 'auto'].join(', ')}`,
  );
}

function envBackend(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.GRADKIT_BACKEND;
  return v && v.trim() !== '' ? v : undefined;
}

function instantiate(a: BackendAvailability, options: DeviceOptions): KernelBackend {
  const f = backendFactory(a.name);
  if (!f) throw new BackendError(a.name, notRegistered(a.name));
  return f.create({
    mode: a.gpuMode,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.relaxedSimd !== undefined ? { relaxedSimd: options.relaxedSimd } : {}),
  });
}

/**
 * Creates a device on the requested backend, or on the best available one.
 * Selection order: `options.backend`, then `GRADKIT_BACKEND`, then automatic: the registered
 * backends by priority (gl when `@gradkit/kernels/gl` was imported, or in Node when gpu.js is
 * installed; then wasm, then cpu), the first that starts. A backend on a software rasterizer
 * (SwiftShader, llvmpipe, softpipe, "Microsoft Basic Render Driver", ...) ranks below `wasm`,
 * above `cpu`; the device's `info().reason` says so, and `backend: 'gl'` still gets it.
 *
 * @throws {BackendError} when an explicitly requested backend is not registered or cannot start,
 *   with the reason.
 * @example
 * ```ts
 * const d = createDevice({ backend: 'cpu' });
 * d.info().reason; // "requested by option: backend 'cpu'"
 * createDevice().info().reason;
 * // on a machine without a GPU, gl registered:
 * // "auto: best available (gl runs on a software rasterizer: llvmpipe, ranked below wasm; backend 'gl' or GRADKIT_BACKEND=gl still uses it)"
 * ```
 */
export function createDevice(options: DeviceOptions = {}): Device {
  if (options.relaxedSimd !== undefined && typeof options.relaxedSimd !== 'boolean') {
    throw new ValueError(
      'createDevice',
      `relaxedSimd must be true or false, got ${JSON.stringify(options.relaxedSimd) ?? String(options.relaxedSimd)}`,
    );
  }
  let requested: string;
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
    if (requested === 'gl') discoverGl();
    if (!backendFactory(requested)) throw new BackendError(requested, notRegistered(requested));
    const a = availability(requested);
    if (!a.available) {
      throw new BackendError(
        requested,
        `backend '${requested}' was requested but cannot start here: ${a.reason}`,
      );
    }
    return new Device(instantiate(a, options), source);
  }
  const note = discoverGl();
  const notes: string[] = note !== '' ? [`gl not registered: ${note}`] : [];
  // Probed in priority order, stopping at the first that starts; a backend on a software
  // rasterizer is held back to rank SOFTWARE_RENDERER_PRIORITY (below wasm, above cpu).
  const deferred: BackendAvailability[] = [];
  const choose = (a: BackendAvailability): Device => {
    const why: string[] = [];
    if (a.softwareRenderer !== undefined)
      why.push(`${a.name} runs on a software rasterizer: ${a.softwareRenderer}`);
    for (const d of deferred) {
      if (d === a) continue;
      why.push(
        `${d.name} runs on a software rasterizer: ${d.softwareRenderer}, ranked below ${a.name}; ` +
          `backend '${d.name}' or GRADKIT_BACKEND=${d.name} still uses it`,
      );
    }
    why.push(...notes);
    return new Device(
      instantiate(a, options),
      why.length ? `auto: best available (${why.join('; ')})` : 'auto: best available',
    );
  };
  for (const name of registeredBackends()) {
    const priority = backendFactory(name)?.priority ?? 0;
    if (deferred.length > 0 && priority < SOFTWARE_RENDERER_PRIORITY) return choose(deferred[0]);
    const a = availability(name);
    if (a.available) {
      if (a.softwareRenderer !== undefined && priority > SOFTWARE_RENDERER_PRIORITY) {
        deferred.push(a);
        continue;
      }
      return choose(a);
    }
    notes.push(`${a.name} unavailable: ${a.reason}`);
  }
  if (deferred.length > 0) return choose(deferred[0]);
  throw new BackendError(
    'auto',
    `no registered backend can start here (${notes.join('; ') || 'none registered'})`,
  );
}

let current: Device | null = null;

/**
 * The shared default device, created on first use by {@link createDevice} (so `GRADKIT_BACKEND`
 * is honoured). A default device that was destroyed is replaced by a new one on the next call.
 */
export function getDevice(): Device {
  if (!current || current.isDestroyed) current = createDevice();
  return current;
}

/**
 * Replaces the shared default device: pass a device, or a backend name to create one.
 * Returns the new default.
 */
export function setDevice(device: Device | BackendName): Device {
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
 * // { name: 'gl', reason: 'auto: best available', gpuMode: 'webgl2', renderer: 'ANGLE (NVIDIA, ...)', softwareRenderer: false, ... }
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
    const a = all.find((b) => b.name === r);
    if (!a) throw new BackendError(r, `this test run requires ${notRegistered(r)}`);
    if (!a.available)
      throw new BackendError(r, `backend '${r}' is required for this test run but cannot start: ${a.reason}`);
  }
  if (only !== undefined && only.trim().toLowerCase() !== 'auto')
    return [parseBackend('GRADKIT_BACKEND', only)];
  return all.filter((a) => a.available).map((a) => a.name);
}

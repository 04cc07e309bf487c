import type { KernelBackend } from './backend.js';
import { CpuBackend } from './backends/cpu.js';
import { probeWasm, WasmBackend } from './backends/wasm/wasm.js';
import { ValueError } from './errors.js';

/**
 * What a backend's probe found: it can start here (in `mode`), or a human-readable reason why not.
 *
 * @example
 * ```ts
 * const probe: BackendProbe = { ok: false, mode: 'headlessgl', reason: 'no X display (DISPLAY is unset)' };
 * ```
 */
export interface BackendProbe {
  /** Whether the backend can start here. */
  readonly ok: boolean;
  /** The variant that was probed and will be created (e.g. the gpu.js mode `'headlessgl'`; `'js'` for cpu). */
  readonly mode: string;
  /** Why it cannot start (empty when `ok`). */
  readonly reason: string;
  /** The renderer the probe saw (GPU backends), for reports. */
  readonly renderer?: string;
  /**
   * Set when the backend works but runs on a software rasterizer: its name (`'llvmpipe'`,
   * `'SwiftShader'`, ...). Automatic selection then ranks the backend below `wasm`: at priority
   * 150 at most, between `wasm` (200) and `cpu` (100). Asking for it by name still gets it.
   */
  readonly softwareRenderer?: string;
}

/**
 * @internal The highest rank automatic selection gives a backend whose probe reports a software
 * rasterizer: 150, below `wasm` (200) and above `cpu` (100). A GPU emulated on the CPU is slower
 * than gradkit's own SIMD code (in headless Chromium, 11.5 s for a training run that takes 1.2 s
 * on `wasm`).
 */
export const SOFTWARE_RENDERER_PRIORITY = 150;

/**
 * Options a {@link BackendFactory} is created with (from `createDevice`).
 *
 * @example
 * ```ts
 * const options: BackendCreateOptions = { mode: 'wasm-simd', threads: 2 };
 * ```
 */
export interface BackendCreateOptions {
  /** The mode the probe reported. */
  readonly mode: string;
  /** Threads for backends that use them (`createDevice({ threads })`), else undefined. */
  readonly threads?: number;
  /** Relaxed SIMD for backends that have it (`createDevice({ relaxedSimd })`), else undefined. */
  readonly relaxedSimd?: boolean;
}

/**
 * A backend as the registry knows it: a name, a rank for automatic selection, a probe that tells
 * whether it can start here, and a factory. gradkit registers `wasm` (priority 200) and `cpu`
 * (100) itself; `gl` (300) is registered by importing `@gradkit/kernels/gl`, so gpu.js is loaded
 * only by programs that ask for the GPU.
 *
 * @example
 * ```ts
 * registerBackend({
 *   name: 'mine',
 *   priority: 50,
 *   probe: () => ({ ok: true, mode: 'js', reason: '' }),
 *   create: () => new CpuBackend(),
 * });
 * createDevice({ backend: 'mine' });
 * ```
 */
export interface BackendFactory {
  /** The name `createDevice({ backend })` and `GRADKIT_BACKEND` use: lower-case letters, digits, `-`. */
  readonly name: string;
  /** Rank in automatic selection: higher is tried first (gl 300, wasm 200, cpu 100). */
  readonly priority: number;
  /** Whether the backend can start here. Called at most once per registration (cached); must not throw. */
  probe(): BackendProbe;
  /** Creates an instance; may throw a `BackendError` with the reason. */
  create(options: BackendCreateOptions): KernelBackend;
}

const NAME = /^[a-z][a-z0-9-]*$/;
const factories = new Map<string, BackendFactory>();
const probes = new Map<string, BackendProbe>();
let builtinsRegistered = false;

/** gradkit's own CPU backends, registered on first use of the registry (no import side effects). */
function ensureBuiltins(): void {
  if (builtinsRegistered) return;
  builtinsRegistered = true;
  for (const f of BUILTINS) if (!factories.has(f.name)) factories.set(f.name, f);
}

const BUILTINS: readonly BackendFactory[] = [
  {
    name: 'wasm',
    priority: 200,
    probe: () => {
      const w = probeWasm();
      return { ok: w.ok, mode: 'wasm-simd', reason: w.ok ? '' : `WebAssembly SIMD: ${w.reason}` };
    },
    create: (o) => new WasmBackend({ threads: o.threads, relaxedSimd: o.relaxedSimd }),
  },
  {
    name: 'cpu',
    priority: 100,
    probe: () => ({ ok: true, mode: 'js', reason: '' }),
    create: () => new CpuBackend(),
  },
];

/**
 * Adds a backend to the registry (replacing one of the same name when `replace` is true), so that
 * `createDevice({ backend: name })`, `GRADKIT_BACKEND=name` and automatic selection (by priority)
 * can use it. Devices already created keep their backend.
 *
 * @throws {ValueError} for a name that is not lower-case letters, digits and `-`, a priority that
 *   is not a finite number, or a name already registered without `replace`.
 * @example
 * ```ts
 * registerBackend({ name: 'toy', priority: 0, probe: () => ({ ok: true, mode: 'js', reason: '' }), create: () => new CpuBackend() });
 * ```
 */
export function registerBackend(factory: BackendFactory, options: { readonly replace?: boolean } = {}): void {
  ensureBuiltins();
  const op = 'registerBackend';
  if (typeof factory?.name !== 'string' || !NAME.test(factory.name)) {
    throw new ValueError(
      op,
      `name must be lower-case letters, digits and '-', got ${JSON.stringify(factory?.name)}`,
    );
  }
  if (factory.name === 'auto')
    throw new ValueError(op, "'auto' is not a backend name (it means: choose one)");
  if (typeof factory.priority !== 'number' || !Number.isFinite(factory.priority)) {
    throw new ValueError(op, `priority must be a finite number, got ${String(factory.priority)}`);
  }
  if (typeof factory.probe !== 'function' || typeof factory.create !== 'function') {
    throw new ValueError(op, `backend '${factory.name}' needs probe() and create() functions`);
  }
  if (factories.has(factory.name) && !options.replace) {
    throw new ValueError(
      op,
      `a backend named '${factory.name}' is already registered (pass { replace: true })`,
    );
  }
  factories.set(factory.name, factory);
  probes.delete(factory.name);
}

/**
 * Removes a registered backend (gradkit's own included). Returns whether one was registered.
 *
 * @example
 * ```ts
 * unregisterBackend('toy'); // true
 * ```
 */
export function unregisterBackend(name: string): boolean {
  ensureBuiltins();
  probes.delete(name);
  return factories.delete(name);
}

/**
 * The registered backends' names, highest priority first (ties by name).
 *
 * @example
 * ```ts
 * registeredBackends(); // ['wasm', 'cpu'], or ['gl', 'wasm', 'cpu'] after import '@gradkit/kernels/gl'
 * ```
 */
export function registeredBackends(): string[] {
  ensureBuiltins();
  return [...factories.values()]
    .sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => f.name);
}

/** @internal The factory of a registered backend, or undefined. */
export function backendFactory(name: string): BackendFactory | undefined {
  ensureBuiltins();
  return factories.get(name);
}

/** @internal The cached probe of a registered backend (a throwing probe counts as unavailable). */
export function probeBackend(name: string): BackendProbe {
  ensureBuiltins();
  let p = probes.get(name);
  if (p) return p;
  const f = factories.get(name);
  if (!f) return { ok: false, mode: '', reason: `backend '${name}' is not registered` };
  try {
    p = f.probe();
  } catch (e) {
    p = { ok: false, mode: '', reason: `its probe threw: ${e instanceof Error ? e.message : String(e)}` };
  }
  probes.set(name, p);
  return p;
}

// gpu.js start-up: which GL mode can run here (and why not), the kernel compiler settings, and
// the facts a started context reports. The only place besides ./backend.ts that talks to gpu.js.
import type { GPU, IGPUKernelSettings, Texture } from 'gpu.js';
import type { GpuJsNativeFunction } from './glsl-math.js';
import { portableGpuJs } from './glsl-math.js';
import { gpuJs } from './gpujs.js';
import { detectSoftwareRenderer } from './renderer.js';

/**
 * The gpu.js modes of the `gl` backend: `'headlessgl'` (Node, through the `gl` package),
 * `'webgl2'` and `'webgl'` (browsers).
 */
export type GpuJsMode = 'headlessgl' | 'webgl2' | 'webgl';

/** The answer of {@link probeGpuJs}: the mode works, or a human-readable reason why not. */
export type GpuJsProbe =
  | {
      /** The mode starts here. */
      ok: true;
      /** The GL renderer of the context the probe started (see `glRenderer`). */
      renderer: string;
      /**
       * The software rasterizer behind it (`'llvmpipe'`, `'SwiftShader'`, ...; see
       * {@link detectSoftwareRenderer}), or `null` on a hardware GPU or an unrecognised renderer.
       */
      softwareRenderer: string | null;
    }
  | {
      /** The mode cannot start here. */
      ok: false;
      /** Why not, in words (a missing package, no X display, no WebGL, ...). */
      reason: string;
    };

/** What gradkit calls on a compiled gpu.js kernel (the library's own typings are loose). @internal */
export interface GpuKernel {
  (...args: KernelArg[]): unknown;
  destroy(removeCanvasReferences?: boolean): void;
  /** The backend kernel behind the run shortcut (`WebAssemblyKernel`, `HeadlessGLKernel`, ...). */
  readonly kernel?: {
    readonly constructor: { readonly name: string };
    readonly fallbackReason?: string | null;
  };
}

/** A value gradkit passes to a kernel: a texture, a typed array (uploads) or a scalar parameter. @internal */
export type KernelArg = Texture | Float32Array | number;

/** @internal */
export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The first line of an error message (gpu.js appends whole shader sources to some). */
export const firstLine = (e: unknown): string => errorMessage(e).split('\n')[0];

/** Reads `process.env[name]` without assuming Node. */
function envVar(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[name];
}

/**
 * Why headless-gl cannot start: the `gl` package did not load (not installed, native build failed)
 * or it loaded but could not create a context (no X display, no GLX).
 */
function headlessGlReason(): string {
  // `gl` is an optional dependency of gpu.js, resolved from gpu.js's own location (pnpm keeps it
  // out of our node_modules). Without a synchronous require (old Node ESM) the load is not checked.
  const req = nodeRequire();
  let gpuJsPath: string | null = null;
  try {
    gpuJsPath = req ? req.resolve('gpu.js') : null;
  } catch {
    gpuJsPath = null; // cannot locate gpu.js from here: do not guess about gl
  }
  if (req && gpuJsPath) {
    try {
      req(req.resolve('gl', { paths: [gpuJsPath] }));
    } catch (e) {
      return (
        "headless-gl (the optional 'gl' package of gpu.js) could not be loaded: not installed or its native " +
        `build failed (${firstLine(e)})`
      );
    }
  }
  const display = envVar('DISPLAY');
  const platform = (globalThis as { process?: { platform?: string } }).process?.platform;
  if (platform === 'linux' && !display) {
    return (
      'headless-gl could not create a WebGL context: no X display (DISPLAY is unset); run under ' +
      `xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX", or use the wasm or cpu backend`
    );
  }
  return `headless-gl could not create a WebGL context (DISPLAY=${display ?? 'unset'}): is the X server up and does it have GLX?`;
}

/**
 * Node's `require` anchored at this module (so `gpu.js` resolves from here, not from the process's
 * working directory): `module.createRequire(import.meta.url)` in the ESM build, the module's own
 * `require` in the CJS build; null outside Node.
 */
function nodeRequire(): NodeJS.Require | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  // process.getBuiltinModule exists from Node 20.16 / 22.3; a synchronous way to reach createRequire.
  const mod = proc?.getBuiltinModule?.('module') as
    | { createRequire?: (p: string) => NodeJS.Require }
    | undefined;
  const url: unknown = import.meta.url;
  if (mod?.createRequire && typeof url === 'string' && url !== '') {
    try {
      return mod.createRequire(url);
    } catch {
      // fall through to the CJS require
    }
  }
  // Without a file URL (a bundle without the CJS shim) use the module's own `require`. (A global
  // `require`, as under `node -e`, resolves from the working directory: not used before the above.)
  if (typeof require === 'function' && typeof require.resolve === 'function') return require;
  return null;
}

/**
 * Creates (and destroys) one headless-gl context, trying up to 3 times 200 ms apart, so that
 * gpu.js's own one-time check meets a ready X server. Returns whether a context was created.
 */
function warmHeadlessGl(): boolean {
  // without an X display on Linux there is nothing to wait for
  const platform = (globalThis as { process?: { platform?: string } }).process?.platform;
  if (platform === 'linux' && !envVar('DISPLAY')) return false;
  const req = nodeRequire();
  if (!req) return false;
  let create: ((w: number, h: number, o?: object) => WebGLRenderingContext | null) | null = null;
  try {
    create = req(req.resolve('gl', { paths: [req.resolve('gpu.js')] }));
  } catch {
    return false; // not installed or not built: headlessGlReason says so
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const ctx = create!(2, 2, { preserveDrawingBuffer: true });
      if (ctx) {
        (ctx.getExtension('STACKGL_destroy_context') as { destroy(): void } | null)?.destroy();
        return true;
      }
    } catch {
      // try again
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  return false;
}

/** Why gpu.js cannot run `mode` here, before trying it; null when it claims support. */
function staticReason(mode: GpuJsMode): string | null {
  const { GPU } = gpuJs();
  switch (mode) {
    case 'headlessgl':
      // gpu.js tests one context once and caches the answer: make sure a context can be created
      // first (a loaded X server sometimes refuses one for a moment)
      warmHeadlessGl();
      return GPU.isHeadlessGLSupported ? null : headlessGlReason();
    case 'webgl2':
      return GPU.isWebGL2Supported ? null : 'WebGL2 is not available (not a browser, or WebGL2 is disabled)';
    case 'webgl':
      return GPU.isWebGLSupported ? null : 'WebGL is not available (not a browser, or WebGL is disabled)';
    default:
      return `unknown gpu.js mode '${String(mode)}' (gl runs headlessgl, webgl2 or webgl)`;
  }
}

const KERNEL_SETTINGS = {
  pipeline: true,
  immutable: true,
  precision: 'single' as const,
  tactic: 'precision' as const,
};

/** Creates a gpu.js kernel from source text. @internal */
export function compile(gpu: GPU, source: string, output: number, loopMaxIterations: number): GpuKernel {
  // gpu.js types a string-source kernel as its generic run shortcut; gradkit calls it with
  // textures, typed arrays and numbers only, which is what GpuKernel describes.
  // `loopMaxIterations` is a documented kernel setting missing from gpu.js's IGPUKernelSettings.
  // The Math functions GLSL leaves undefined at special values or in precision run the backend's
  // own GLSL (./glsl-math.ts): injected into the shader, declared to gpu.js as native functions.
  const portable = portableGpuJs(source);
  const settings: IGPUKernelSettings & {
    loopMaxIterations: number;
    injectedNative?: string;
    nativeFunctions?: GpuJsNativeFunction[];
  } = {
    ...KERNEL_SETTINGS,
    output: [output],
    loopMaxIterations: Math.max(1000, loopMaxIterations + 1),
    ...(portable.injectedNative === null
      ? {}
      : { injectedNative: portable.injectedNative, nativeFunctions: portable.nativeFunctions }),
  };
  return gpu.createKernel(portable.source, settings as IGPUKernelSettings) as unknown as GpuKernel;
}

/** The backend gpu.js actually runs a kernel on, when it degraded it to its `cpu` fallback. @internal */
export function fallbackOf(k: GpuKernel): string | null {
  const inner = k.kernel;
  if (!inner) return null;
  const name = inner.constructor.name;
  if (name === 'CPUKernel') return inner.fallbackReason ?? 'gpu.js moved the kernel to its cpu backend';
  return null;
}

/** Tries a mode: creates the GPU and runs one tiny kernel whose exact float32 result is known. @internal */
export function tryStart(mode: GpuJsMode): { gpu: GPU } | { reason: string } {
  const pre = staticReason(mode);
  if (pre !== null) return { reason: pre };
  let gpu: GPU;
  try {
    gpu = new (gpuJs().GPU)({ mode });
  } catch (e) {
    return { reason: `gpu.js could not start mode '${mode}': ${firstLine(e)}` };
  }
  try {
    const values = new Float32Array([1.5, -2.25, 3.0e-7, 12345.678, -1e20, 0]);
    const k = compile(
      gpu,
      'function (x, p0) { return x[this.thread.x] * p0 + this.thread.x; }',
      values.length,
      0,
    );
    const out = k(values, 3);
    const got = toFloat32((out as Texture).toArray(), values.length);
    const fb = fallbackOf(k);
    if (fb !== null) throw new Error(`gpu.js degraded the test kernel to its cpu backend: ${fb}`);
    (out as Texture).delete();
    for (let i = 0; i < values.length; i++) {
      const want = Math.fround(Math.fround(values[i] * 3) + i);
      if (got[i] !== want) {
        throw new Error(
          `a test kernel computed ${got[i]} instead of ${want} at [${i}]: single-precision float textures do not work`,
        );
      }
    }
    return { gpu };
  } catch (e) {
    destroyGpu(gpu);
    return { reason: `mode '${mode}' started but a test kernel failed: ${firstLine(e)}` };
  }
}

/** Releases a gpu.js instance, ignoring a context that is already gone. @internal */
export function destroyGpu(gpu: GPU): void {
  try {
    gpu.destroy().catch(() => undefined);
  } catch {
    // already gone
  }
}

/**
 * Checks whether gpu.js can run `mode` here: creates the GPU, compiles and runs a tiny kernel and
 * compares its result with float32 arithmetic, then releases everything.
 *
 * @returns `{ ok: true, renderer, softwareRenderer }` (the context's GL renderer, and the software
 * rasterizer it names, if any), or `{ ok: false, reason }` with a human-readable reason: headless-gl
 * not installed or not built, no X display or GLX, WebGL missing outside a browser, float textures
 * unsupported.
 * @example
 * ```ts
 * probeGpuJs('headlessgl');
 * // { ok: false, reason: 'headless-gl could not create a WebGL context: no X display (DISPLAY is unset); ...' }
 * // under Xvfb: { ok: true, renderer: 'llvmpipe (LLVM 15.0.6, 256 bits) (...)', softwareRenderer: 'llvmpipe' }
 * ```
 */
export function probeGpuJs(mode: GpuJsMode): GpuJsProbe {
  const r = tryStart(mode);
  if ('reason' in r) return { ok: false, reason: r.reason };
  // gpu.js keeps the WebGL context of its first kernel on the GPU instance (typed `any`).
  const ctx = (r.gpu as unknown as { context: WebGLRenderingContext | null }).context;
  const renderer = ctx ? glRenderer(ctx) : 'unknown (gpu.js started without a WebGL context)';
  destroyGpu(r.gpu);
  return { ok: true, renderer, softwareRenderer: detectSoftwareRenderer(renderer) };
}

/** Copies a gpu.js result (1-D) into a new Float32Array of exactly `size` elements. @internal */
export function toFloat32(values: unknown, size: number): Float32Array {
  const out = new Float32Array(size);
  if (values instanceof Float32Array) out.set(values.length === size ? values : values.subarray(0, size));
  else if (Array.isArray(values)) for (let i = 0; i < size; i++) out[i] = Number(values[i]);
  else throw new Error(`unexpected kernel result ${Object.prototype.toString.call(values)}`);
  return out;
}

/**
 * The GL renderer: the unmasked renderer where the browser exposes it (`WEBGL_debug_renderer_info`),
 * the native renderer under headless-gl (which reports `RENDERER` as just `'ANGLE'`; its
 * `_getParameterDirect` asks ANGLE, which names the driver below it, e.g.
 * `'ANGLE (Mesa/X.org llvmpipe (LLVM 15.0.6, 256 bits) OpenGL 4.5 core)'`), else `RENDERER`; with
 * `VERSION` appended where there is one. @internal
 */
export function glRenderer(gl: WebGLRenderingContext): string {
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    if (ext) {
      const unmasked = gl.getParameter(ext.UNMASKED_RENDERER_WEBGL);
      if (typeof unmasked === 'string' && unmasked !== '') return unmasked;
    }
  } catch {
    // fall through to the masked renderer
  }
  let renderer = String(gl.getParameter(gl.RENDERER));
  const direct = (gl as unknown as { _getParameterDirect?: (p: number) => unknown })._getParameterDirect;
  if (typeof direct === 'function') {
    try {
      const native = direct.call(gl, gl.RENDERER);
      if (typeof native === 'string' && native !== '') renderer = native;
    } catch {
      // keep the masked renderer
    }
  }
  const version = gl.getParameter(gl.VERSION);
  return typeof version === 'string' && version !== '' ? `${renderer} (${version})` : renderer;
}

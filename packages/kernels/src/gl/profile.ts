// Opt-in profiling of the gl backend: per-kernel launch counts and times, and the WebGL calls gpu.js
// makes underneath (program links and switches, texture allocations, uploads, read-backs). Nothing
// here runs unless a profile is started: the backend then calls begin/end around each launch, and
// the recorder wraps a few methods of the WebGL context (own properties shadowing the prototype's,
// removed again when the profile stops), so an idle backend pays one null check per launch.

/**
 * How a profile waits for each kernel to finish before it stops the clock. GL calls return before
 * the GPU has run them, so without a wait a launch's time is only its CPU-side submission and the
 * GPU time lands on whichever later call waits (usually the next read-back).
 *
 * - `'read'` (the default): a 1-pixel `readPixels` from the framebuffer the kernel rendered into,
 *   which cannot return before the kernel has run, on every WebGL implementation.
 * - `'finish'`: `gl.finish()`, which waits where the implementation honours it (headless-gl does;
 *   browsers may return early).
 * - `'none'`: no wait: exact counts, and times that are submission times only.
 *
 * Any wait serialises CPU and GPU, so a profiled step is slower than an unprofiled one; compare
 * the profile's `wallMs` with an unprofiled run to see by how much.
 */
export type GlProfileSync = 'read' | 'finish' | 'none';

/** Options of {@link GpuJsBackend.startProfile}. */
export interface GlProfileOptions {
  /** How each launch is waited for before its time is taken (see {@link GlProfileSync}). Default `'read'`. */
  readonly sync?: GlProfileSync;
}

/** One kernel (by op name, e.g. `map(relu)`, `matmul(128x784x256, transB)`, `reduce(sum)`, `upload`) in a {@link GlProfile}. */
export interface GlKernelProfile {
  /** The op name the backend gives the kernel (shapes are part of it where the source depends on them). */
  readonly name: string;
  /** Launches (draw calls of this kernel), compiling launches included. */
  readonly launches: number;
  /** Launches that compiled the kernel (its first call for a shape signature). */
  readonly compiles: number;
  /** Wall time of the launches that did not compile, in milliseconds (synced per {@link GlProfileOptions.sync}). */
  readonly ms: number;
  /** Wall time of the compiling launches (parse, translate, link, first run), in milliseconds. */
  readonly compileMs: number;
  /** `useProgram` calls inside these launches that changed the current program. */
  readonly programSwitches: number;
  /** Textures created inside these launches (`createTexture`: a new output texture, or gpu.js's own). */
  readonly textureAllocations: number;
  /** Launches that rendered into an existing texture (no `createTexture` during the launch). */
  readonly textureReuses: number;
  /** `texImage2D`/`texSubImage2D` calls with data inside these launches (host-to-GPU copies). */
  readonly texUploads: number;
  /** Bytes those calls copied (whole textures, padding included). */
  readonly texUploadBytes: number;
}

/**
 * What a profile of the gl backend recorded between {@link GpuJsBackend.startProfile} and
 * {@link GpuJsBackend.stopProfile}. Op-level counts (`launches`, `uploads`, `reads`) are what the
 * backend did; GL-level counts (`programLinks`, `programSwitches`, `texture*`, `readPixels*`) are
 * the WebGL calls gpu.js made for it.
 */
export interface GlProfile {
  /** How launches were waited for. */
  readonly sync: GlProfileSync;
  /** Wall time from start to stop, in milliseconds. */
  readonly wallMs: number;
  /** Kernel launches. */
  readonly launches: number;
  /** Launches that compiled a kernel. */
  readonly compiles: number;
  /** Summed {@link GlKernelProfile.ms} (compiling launches excluded), in milliseconds. */
  readonly kernelMs: number;
  /** Summed {@link GlKernelProfile.compileMs}, in milliseconds. */
  readonly compileMs: number;
  /** `linkProgram` calls (programs gpu.js built). */
  readonly programLinks: number;
  /** `useProgram` calls. */
  readonly useProgramCalls: number;
  /** `useProgram` calls that changed the current program. */
  readonly programSwitches: number;
  /** `createTexture` calls. */
  readonly textureAllocations: number;
  /** `deleteTexture` calls. */
  readonly textureDeletes: number;
  /** Launches that rendered into an existing texture. */
  readonly textureReuses: number;
  /** Arrays uploaded by the backend (`upload`: host to device). */
  readonly uploads: number;
  /** Bytes of those arrays (4 per element). */
  readonly uploadBytes: number;
  /** `texImage2D`/`texSubImage2D` calls with data (every host-to-GPU texture copy). */
  readonly texUploads: number;
  /** Bytes those calls copied (whole textures, padding included). */
  readonly texUploadBytes: number;
  /** Arrays read back by the backend (`read`/`readAsync`: device to host). */
  readonly reads: number;
  /** Bytes of those arrays (4 per element). */
  readonly readBytes: number;
  /** `readPixels` calls, the profiler's own 1-pixel syncs excluded. */
  readonly readPixelsCalls: number;
  /** Bytes those calls returned. */
  readonly readPixelsBytes: number;
  /** Per-kernel figures, by descending {@link GlKernelProfile.ms}. */
  readonly kernels: readonly GlKernelProfile[];
}

type MutableKernel = { -readonly [K in keyof GlKernelProfile]: GlKernelProfile[K] };

type AnyFn = (...args: unknown[]) => unknown;

const WRAPPED = [
  'useProgram',
  'linkProgram',
  'createTexture',
  'deleteTexture',
  'texImage2D',
  'texSubImage2D',
  'readPixels',
] as const;

/** The last argument of a texImage2D/texSubImage2D call that carries pixels, as bytes; 0 for none. */
function pixelBytes(args: readonly unknown[]): number {
  const last = args[args.length - 1];
  if (ArrayBuffer.isView(last)) return last.byteLength;
  return 0;
}

/**
 * Records one profile of a gl backend: counters fed by the backend (launch begin/end, uploads,
 * reads) and by wrappers of the WebGL context's methods. Created by
 * {@link GpuJsBackend.startProfile}; {@link GlProfiler.stop} restores the context. @internal
 */
export class GlProfiler {
  private readonly t0 = performance.now();
  private readonly perKernel = new Map<string, MutableKernel>();
  private readonly saved: [string, boolean, unknown][] = [];
  private current: MutableKernel | null = null;
  private currentFirst = false;
  private launchAllocs = 0;
  private launchStart = 0;
  private lastProgram: unknown = undefined;
  private readonly pixel = new Float32Array(4);
  private readonly rawReadPixels: AnyFn;
  private readonly c = {
    programLinks: 0,
    useProgramCalls: 0,
    programSwitches: 0,
    textureAllocations: 0,
    textureDeletes: 0,
    uploads: 0,
    uploadBytes: 0,
    texUploads: 0,
    texUploadBytes: 0,
    reads: 0,
    readBytes: 0,
    readPixelsCalls: 0,
    readPixelsBytes: 0,
  };

  constructor(
    private readonly gl: WebGLRenderingContext,
    readonly sync: GlProfileSync,
  ) {
    const target = gl as unknown as Record<string, unknown>;
    this.rawReadPixels = (target.readPixels as AnyFn).bind(gl);
    for (const name of WRAPPED) {
      const own = Object.hasOwn(target, name);
      const orig = target[name] as AnyFn;
      this.saved.push([name, own, own ? orig : undefined]);
      target[name] = (...args: unknown[]) => {
        this.observe(name, args);
        return orig.apply(gl, args);
      };
    }
  }

  /** Puts the context's methods back. */
  stop(): GlProfile {
    const wallMs = performance.now() - this.t0;
    const target = this.gl as unknown as Record<string, unknown>;
    for (const [name, own, orig] of this.saved) {
      if (own) target[name] = orig;
      else delete target[name];
    }
    this.saved.length = 0;
    const kernels = [...this.perKernel.values()]
      .map((k) => ({ ...k }))
      .sort((a, b) => b.ms - a.ms || b.launches - a.launches);
    const sum = (f: (k: GlKernelProfile) => number) => kernels.reduce((s, k) => s + f(k), 0);
    return {
      sync: this.sync,
      wallMs,
      launches: sum((k) => k.launches),
      compiles: sum((k) => k.compiles),
      kernelMs: sum((k) => k.ms),
      compileMs: sum((k) => k.compileMs),
      textureReuses: sum((k) => k.textureReuses),
      ...this.c,
      kernels,
    };
  }

  /** A launch of `op` starts (`first`: it compiles). */
  begin(op: string, first: boolean): void {
    let k = this.perKernel.get(op);
    if (!k) {
      k = {
        name: op,
        launches: 0,
        compiles: 0,
        ms: 0,
        compileMs: 0,
        programSwitches: 0,
        textureAllocations: 0,
        textureReuses: 0,
        texUploads: 0,
        texUploadBytes: 0,
      };
      this.perKernel.set(op, k);
    }
    this.current = k;
    this.currentFirst = first;
    this.launchAllocs = 0;
    this.launchStart = performance.now();
  }

  /** The launch begun last has been issued: wait for it (per `sync`) and take its time. */
  end(): void {
    const k = this.current;
    if (k === null) return;
    if (this.sync === 'read') {
      // the framebuffer gpu.js rendered into is still bound; the saved method is not counted
      this.rawReadPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.FLOAT, this.pixel);
    } else if (this.sync === 'finish') this.gl.finish();
    const dt = performance.now() - this.launchStart;
    k.launches++;
    if (this.currentFirst) {
      k.compiles++;
      k.compileMs += dt;
    } else k.ms += dt;
    if (this.launchAllocs === 0) k.textureReuses++;
    this.current = null;
  }

  /** The backend uploaded an array of `size` floats. */
  noteUpload(size: number): void {
    this.c.uploads++;
    this.c.uploadBytes += 4 * size;
  }

  /** The backend read back an array of `size` floats. */
  noteRead(size: number): void {
    this.c.reads++;
    this.c.readBytes += 4 * size;
  }

  private observe(name: (typeof WRAPPED)[number], args: readonly unknown[]): void {
    const k = this.current;
    switch (name) {
      case 'useProgram':
        this.c.useProgramCalls++;
        if (args[0] !== this.lastProgram) {
          this.c.programSwitches++;
          if (k) k.programSwitches++;
          this.lastProgram = args[0];
        }
        break;
      case 'linkProgram':
        this.c.programLinks++;
        break;
      case 'createTexture':
        this.c.textureAllocations++;
        this.launchAllocs++;
        if (k) k.textureAllocations++;
        break;
      case 'deleteTexture':
        this.c.textureDeletes++;
        break;
      case 'texImage2D':
      case 'texSubImage2D': {
        const bytes = pixelBytes(args);
        if (bytes > 0) {
          this.c.texUploads++;
          this.c.texUploadBytes += bytes;
          if (k) {
            k.texUploads++;
            k.texUploadBytes += bytes;
          }
        }
        break;
      }
      case 'readPixels':
        this.c.readPixelsCalls++;
        this.c.readPixelsBytes += pixelBytes(args);
        break;
    }
  }
}

// The gl backend's own WebGL passes (issue 16): where gpu.js cannot express a kernel (packed RGBA
// storage, four outputs per fragment with vec4 arithmetic), the backend draws with its own shader
// programs on gpu.js's WebGL context and textures. gpu.js keeps GL state between its kernel runs
// (the viewport it set when it built a kernel, its vertex attribute pointers): every draw here
// saves that state and puts it back. The sources are in ./packed-sources.ts.
import { BackendError } from '../errors.js';
import { PACKED_VERTEX_SOURCE, PACKED_VERTEX_SOURCE_300 } from './packed-sources.js';

/** GL enums not on WebGLRenderingContext's type (WebGL2 values). */
const RGBA32F = 0x8814;

/** Free textures kept per size and format; more are deleted. */
const POOL_PER_SIZE = 16;

/** A texture of this module: GL name and size. @internal */
export interface RawTexture {
  readonly texture: WebGLTexture;
  readonly width: number;
  readonly height: number;
}

/**
 * Counts of the gl backend's own WebGL passes (the packed matmul) and of its texture pool, from
 * `GpuJsBackend.packedStats`.
 */
export interface GlPackedStats {
  /** Programs compiled and linked. */
  readonly programs: number;
  /** Textures created (pooled textures are reused, not created again). */
  readonly textureAllocations: number;
  /** Textures taken from the pool. */
  readonly textureReuses: number;
  /** Draws into four render targets at once (the 4 x 4 blocked matmul). */
  readonly multiTargetDraws: number;
  /**
   * Packed textures that live buffers hold now (a matmul operand's packed form, kept for the next
   * product that packs the same buffer in the same layout; see `GpuJsBackend.packReuse`). They go
   * back to the pool when their buffer is freed: flat across training steps, 0 once every buffer
   * is freed.
   */
  readonly packsHeld: number;
  /** Pack passes skipped because the operand's buffer held its packed form already. */
  readonly packReuses: number;
}

/** {@link GlPackedStats} before any pass: every count 0. @internal */
export function noPackedStats(): { -readonly [K in keyof GlPackedStats]: GlPackedStats[K] } {
  return {
    programs: 0,
    textureAllocations: 0,
    textureReuses: 0,
    multiTargetDraws: 0,
    packsHeld: 0,
    packReuses: 0,
  };
}

/**
 * Draws full-viewport passes with gradkit's own fragment shaders on a WebGL context that gpu.js
 * also uses, restoring the state gpu.js relies on after each pass. Programs are cached by source;
 * RGBA float textures for intermediate results come from a pool keyed by size, so steady-state
 * training allocates none. @internal
 */
export class RawGl {
  private readonly programs = new Map<string, WebGLProgram>();
  private readonly uniforms = new Map<WebGLProgram, Map<string, WebGLUniformLocation | null>>();
  private readonly pool = new Map<string, WebGLTexture[]>();
  private readonly quad: WebGLBuffer;
  private readonly framebuffer: WebGLFramebuffer;
  private mrtFramebuffer: WebGLFramebuffer | null = null;
  private readonly packedFormat: number;
  /** Four render targets per draw: WebGL2's drawBuffers, or WebGL1's WEBGL_draw_buffers; null if neither. */
  readonly multipleTargets: boolean;
  private readonly drawBuffers: ((targets: number[]) => void) | null;
  private counts = noPackedStats();
  /** Textures of {@link RawGl.texture} that buffers hold (see {@link RawGl.hold}). */
  private readonly held = new Set<WebGLTexture>();
  private destroyed = false;

  /**
   * @param gl the context gpu.js runs on.
   * @param webgl2 whether it is a WebGL2 context (RGBA32F textures) or WebGL1 (RGBA + FLOAT).
   */
  constructor(
    private readonly gl: WebGLRenderingContext,
    webgl2: boolean,
  ) {
    this.packedFormat = webgl2 ? RGBA32F : gl.RGBA;
    const gl2 = gl as unknown as { drawBuffers?: (b: number[]) => void; MAX_DRAW_BUFFERS?: number };
    if (webgl2 && typeof gl2.drawBuffers === 'function') {
      const f = gl2.drawBuffers;
      this.drawBuffers = (b) => f.call(gl, b);
    } else {
      const ext = gl.getExtension('WEBGL_draw_buffers');
      this.drawBuffers = ext ? (b) => ext.drawBuffersWEBGL(b) : null;
      if (ext && Number(gl.getParameter(ext.MAX_DRAW_BUFFERS_WEBGL)) < 4) this.drawBuffers = null;
    }
    this.multipleTargets = this.drawBuffers !== null;
    const quad = gl.createBuffer();
    const fb = gl.createFramebuffer();
    if (!quad || !fb) throw new BackendError('gl', 'could not create a GL buffer or framebuffer');
    this.quad = quad;
    this.framebuffer = fb;
    const prev = gl.getParameter(gl.ARRAY_BUFFER_BINDING) as WebGLBuffer | null;
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, prev);
  }

  /** Whether the program of fragment shader `source` is linked already (its next draw is not a first run). */
  hasProgram(source: string): boolean {
    return this.programs.has(source);
  }

  /** Programs, textures created and textures reused so far. */
  get stats(): GlPackedStats {
    return { ...this.counts };
  }

  /** A packed RGBA float texture of `width x height` texels, from the pool when one is free. */
  texture(width: number, height: number): RawTexture {
    const free = this.pool.get(`${width}x${height}`);
    const reused = free?.pop();
    if (reused) {
      this.counts.textureReuses++;
      return { texture: reused, width, height };
    }
    return { texture: this.createTexture(width, height, this.packedFormat, this.gl.RGBA), width, height };
  }

  /**
   * A pooled texture in gpu.js's layout of `width x height` and this format, or null when the pool
   * has none (the caller then lets gpu.js allocate one).
   */
  pooledOutput(width: number, height: number, internalFormat: number, format: number): WebGLTexture | null {
    const reused = this.pool.get(`${width}x${height}:${internalFormat}:${format}`)?.pop();
    if (!reused) return null;
    this.counts.textureReuses++;
    return reused;
  }

  /**
   * A float texture for a result in gpu.js's layout (`internalFormat`/`format` as gpu.js's own
   * outputs), from the pool of such textures when one of this size and format is free.
   */
  outputTexture(width: number, height: number, internalFormat: number, format: number): WebGLTexture {
    const reused = this.pool.get(`${width}x${height}:${internalFormat}:${format}`)?.pop();
    if (reused) {
      this.counts.textureReuses++;
      return reused;
    }
    return this.createTexture(width, height, internalFormat, format);
  }

  /**
   * Puts a texture in gpu.js's layout (one of {@link RawGl.outputTexture}'s, or one gpu.js made)
   * that nothing uses any more into the pool.
   */
  recycle(t: WebGLTexture, width: number, height: number, internalFormat: number, format: number): void {
    this.put(`${width}x${height}:${internalFormat}:${format}`, t);
  }

  private put(key: string, t: WebGLTexture): void {
    let free = this.pool.get(key);
    if (!free) {
      free = [];
      this.pool.set(key, free);
    }
    // a bounded pool: textures of a size that is no longer used are not kept forever
    if (this.destroyed || free.length >= POOL_PER_SIZE) {
      this.gl.deleteTexture(t);
      return;
    }
    free.push(t);
  }

  /** Gives a texture from {@link RawGl.texture} back to the pool. */
  release(t: RawTexture): void {
    this.put(`${t.width}x${t.height}`, t.texture);
  }

  /**
   * Marks a texture of {@link RawGl.texture} as held by a buffer (counted in
   * {@link GlPackedStats.packsHeld}, deleted by {@link RawGl.destroy} if still held) until
   * {@link RawGl.unhold} gives it back.
   */
  hold(t: RawTexture): void {
    if (this.held.has(t.texture)) return;
    this.held.add(t.texture);
    this.counts.packsHeld++;
  }

  /** Gives a texture that {@link RawGl.hold} marked back to the pool. */
  unhold(t: RawTexture): void {
    if (!this.held.delete(t.texture)) return;
    this.counts.packsHeld--;
    this.release(t);
  }

  /** Counts a pack pass skipped because a held packed texture served instead. */
  noteReuse(): void {
    this.counts.packReuses++;
  }

  /**
   * Creates a float texture of `width x height` with the given internal format and format (nearest
   * sampling, clamped edges), as gpu.js creates its own.
   */
  createTexture(width: number, height: number, internalFormat: number, format: number): WebGLTexture {
    const gl = this.gl;
    const t = gl.createTexture();
    if (!t) throw new BackendError('gl', 'could not create a GL texture');
    this.counts.textureAllocations++;
    const unit = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
    gl.activeTexture(gl.TEXTURE0);
    const prev = gl.getParameter(gl.TEXTURE_BINDING_2D) as WebGLTexture | null;
    gl.bindTexture(gl.TEXTURE_2D, t);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texImage2D(gl.TEXTURE_2D, 0, internalFormat, width, height, 0, format, gl.FLOAT, null);
    gl.bindTexture(gl.TEXTURE_2D, prev);
    gl.activeTexture(unit);
    return t;
  }

  /**
   * Runs the fragment shader `source` once per texel of `out` (`width x height`), with the
   * textures `inputs` bound to the shader's samplers of the same names. With four textures in `out`
   * (only where {@link RawGl.multipleTargets}), the shader writes output `r` into `out[r]`.
   * `floats` sets float uniforms by name.
   *
   * @throws {BackendError} when the shader does not compile or link (the message has the log).
   */
  draw(
    source: string,
    inputs: Readonly<Record<string, WebGLTexture>>,
    out: WebGLTexture | readonly WebGLTexture[],
    width: number,
    height: number,
    floats: Readonly<Record<string, number>> = {},
  ): void {
    const gl = this.gl;
    const program = this.program(source);
    const outs = Array.isArray(out) ? (out as readonly WebGLTexture[]) : [out as WebGLTexture];
    // the state gpu.js expects to find again. Not the scissor box: gpu.js sets it on every kernel
    // run, and reading it back is a synchronous round trip to Chromium's GPU process (0.33 ms of a
    // 0.44 ms draw on SwiftShader; the other queries here are answered from client-side state)
    const viewport = gl.getParameter(gl.VIEWPORT) as Int32Array;
    const fb = gl.getParameter(gl.FRAMEBUFFER_BINDING) as WebGLFramebuffer | null;
    const arrayBuffer = gl.getParameter(gl.ARRAY_BUFFER_BINDING) as WebGLBuffer | null;
    const unit = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
    const attrBuffer = gl.getVertexAttrib(0, gl.VERTEX_ATTRIB_ARRAY_BUFFER_BINDING) as WebGLBuffer | null;
    const attrEnabled = gl.getVertexAttrib(0, gl.VERTEX_ATTRIB_ARRAY_ENABLED) as boolean;
    const attrSize = gl.getVertexAttrib(0, gl.VERTEX_ATTRIB_ARRAY_SIZE) as number;
    const attrType = gl.getVertexAttrib(0, gl.VERTEX_ATTRIB_ARRAY_TYPE) as number;
    const attrNorm = gl.getVertexAttrib(0, gl.VERTEX_ATTRIB_ARRAY_NORMALIZED) as boolean;
    const attrStride = gl.getVertexAttrib(0, gl.VERTEX_ATTRIB_ARRAY_STRIDE) as number;
    const attrOffset = gl.getVertexAttribOffset(0, gl.VERTEX_ATTRIB_ARRAY_POINTER);
    const names = Object.keys(inputs);
    const bound: (WebGLTexture | null)[] = [];
    try {
      gl.useProgram(program);
      gl.bindFramebuffer(gl.FRAMEBUFFER, outs.length === 1 ? this.framebuffer : this.mrt());
      // every attachment of the four-target framebuffer is set: one left from an earlier draw would
      // receive undefined values from a shader that writes fewer targets
      const targets = outs.length === 1 ? 1 : 4;
      for (let r = 0; r < targets; r++)
        gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + r, gl.TEXTURE_2D, outs[r] ?? null, 0);
      gl.viewport(0, 0, width, height);
      gl.scissor(0, 0, width, height);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.quad);
      gl.enableVertexAttribArray(0);
      gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
      for (let u = 0; u < names.length; u++) {
        gl.activeTexture(gl.TEXTURE0 + u);
        bound.push(gl.getParameter(gl.TEXTURE_BINDING_2D) as WebGLTexture | null);
        gl.bindTexture(gl.TEXTURE_2D, inputs[names[u]]);
        gl.uniform1i(this.uniform(program, names[u]), u);
      }
      for (const name of Object.keys(floats)) gl.uniform1f(this.uniform(program, name), floats[name]);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      if (outs.length > 1) this.counts.multiTargetDraws++;
    } finally {
      for (let u = 0; u < bound.length; u++) {
        gl.activeTexture(gl.TEXTURE0 + u);
        gl.bindTexture(gl.TEXTURE_2D, bound[u]);
      }
      gl.activeTexture(unit);
      gl.bindBuffer(gl.ARRAY_BUFFER, attrBuffer);
      gl.vertexAttribPointer(0, attrSize, attrType, attrNorm, attrStride, attrOffset);
      if (!attrEnabled) gl.disableVertexAttribArray(0);
      gl.bindBuffer(gl.ARRAY_BUFFER, arrayBuffer);
      gl.viewport(viewport[0], viewport[1], viewport[2], viewport[3]);
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    }
  }

  /**
   * WebGL2 only: copies the red channel of the first `n` texels of `texture` (`width x height`,
   * row by row) into a pixel-pack buffer behind a fence, and resolves with them once the fence
   * has signalled, polling it from timers instead of waiting.
   */
  readAsync(texture: WebGLTexture, width: number, height: number, n: number): Promise<Float32Array> {
    const gl = this.gl as unknown as WebGL2RenderingContext;
    const fb = gl.getParameter(gl.FRAMEBUFFER_BINDING) as WebGLFramebuffer | null;
    const packPrev = gl.getParameter(gl.PIXEL_PACK_BUFFER_BINDING) as WebGLBuffer | null;
    const pbo = gl.createBuffer();
    if (!pbo)
      return Promise.reject(new BackendError('gl', 'readAsync: could not create a pixel-pack buffer'));
    const bytes = width * height * 16;
    try {
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
      gl.bufferData(gl.PIXEL_PACK_BUFFER, bytes, gl.STREAM_READ);
      // RGBA/FLOAT is the combination every float color buffer can be read with
      gl.readPixels(0, 0, width, height, gl.RGBA, gl.FLOAT, 0);
    } finally {
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, packPrev);
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    }
    const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    gl.flush();
    return new Promise((resolve, reject) => {
      const done = (e: unknown, v?: Float32Array) => {
        try {
          if (sync) gl.deleteSync(sync);
          gl.deleteBuffer(pbo);
        } catch {
          // the context may be gone
        }
        if (e) reject(e instanceof BackendError ? e : new BackendError('gl', `readAsync: ${String(e)}`));
        else resolve(v!);
      };
      const poll = () => {
        try {
          step();
        } catch (e) {
          done(e);
        }
      };
      const step = () => {
        if (this.destroyed) {
          done(new BackendError('gl', 'readAsync: the backend was destroyed before the read finished'));
          return;
        }
        const st = sync ? gl.clientWaitSync(sync, 0, 0) : gl.ALREADY_SIGNALED;
        if (st === gl.TIMEOUT_EXPIRED) {
          setTimeout(poll, 1);
          return;
        }
        if (st === gl.WAIT_FAILED) {
          done(new BackendError('gl', 'readAsync: waiting for the GPU failed (WAIT_FAILED)'));
          return;
        }
        const all = new Float32Array(bytes / 4);
        const prev = gl.getParameter(gl.PIXEL_PACK_BUFFER_BINDING) as WebGLBuffer | null;
        gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
        gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, all);
        gl.bindBuffer(gl.PIXEL_PACK_BUFFER, prev);
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = all[4 * i];
        done(null, out);
      };
      setTimeout(poll, 0);
    });
  }

  /** The framebuffer of four-target draws (its draw buffers set once). */
  private mrt(): WebGLFramebuffer {
    if (this.mrtFramebuffer === null) {
      if (this.drawBuffers === null)
        throw new BackendError('gl', 'internal: four render targets are not available');
      const fb = this.gl.createFramebuffer();
      if (!fb) throw new BackendError('gl', 'could not create a GL framebuffer');
      this.gl.bindFramebuffer(this.gl.FRAMEBUFFER, fb);
      const a0 = this.gl.COLOR_ATTACHMENT0;
      this.drawBuffers([a0, a0 + 1, a0 + 2, a0 + 3]);
      this.mrtFramebuffer = fb;
    }
    return this.mrtFramebuffer;
  }

  /** Deletes every program, pooled texture, the quad and the framebuffers. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const gl = this.gl;
    try {
      for (const p of this.programs.values()) gl.deleteProgram(p);
      for (const list of this.pool.values()) for (const t of list) gl.deleteTexture(t);
      for (const t of this.held) gl.deleteTexture(t);
      gl.deleteBuffer(this.quad);
      gl.deleteFramebuffer(this.framebuffer);
      if (this.mrtFramebuffer) gl.deleteFramebuffer(this.mrtFramebuffer);
    } catch {
      // the context may already be gone
    }
    this.programs.clear();
    this.pool.clear();
    this.held.clear();
    this.counts.packsHeld = 0;
  }

  private uniform(program: WebGLProgram, name: string): WebGLUniformLocation | null {
    let m = this.uniforms.get(program);
    if (!m) {
      m = new Map();
      this.uniforms.set(program, m);
    }
    let loc = m.get(name);
    if (loc === undefined) {
      loc = this.gl.getUniformLocation(program, name);
      m.set(name, loc);
    }
    return loc;
  }

  private program(source: string): WebGLProgram {
    const cached = this.programs.get(source);
    if (cached) return cached;
    const gl = this.gl;
    const shader = (type: number, src: string): WebGLShader => {
      const s = gl.createShader(type);
      if (!s) throw new BackendError('gl', 'could not create a shader');
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) {
        const log = gl.getShaderInfoLog(s);
        gl.deleteShader(s);
        throw new BackendError('gl', `a packed-pass shader did not compile: ${log}\n${src}`);
      }
      return s;
    };
    const glsl3 = source.startsWith('#version 300 es');
    const vs = shader(gl.VERTEX_SHADER, glsl3 ? PACKED_VERTEX_SOURCE_300 : PACKED_VERTEX_SOURCE);
    const fs = shader(gl.FRAGMENT_SHADER, source);
    const p = gl.createProgram();
    if (!p) throw new BackendError('gl', 'could not create a program');
    gl.attachShader(p, vs);
    gl.attachShader(p, fs);
    gl.bindAttribLocation(p, 0, 'aPos');
    gl.linkProgram(p);
    gl.deleteShader(vs);
    gl.deleteShader(fs);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) {
      const log = gl.getProgramInfoLog(p);
      gl.deleteProgram(p);
      throw new BackendError('gl', `a packed-pass program did not link: ${log}`);
    }
    this.counts.programs++;
    this.programs.set(source, p);
    return p;
  }
}

// Registers the `gl` backend (gpu.js on headless-gl in Node, WebGL2/WebGL in a browser) with
// priority 300, above wasm and cpu; a probe that finds a software rasterizer says so, and
// automatic selection then ranks gl below wasm (see select.ts).
import { registerBackend, registeredBackends } from '../registry.js';
import { GpuJsBackend } from './backend.js';
import type { GpuJsMode } from './probe.js';
import { probeGpuJs } from './probe.js';

const isBrowser = (): boolean =>
  typeof (globalThis as { window?: unknown }).window !== 'undefined' &&
  typeof (globalThis as { document?: unknown }).document !== 'undefined';

/** The gpu.js modes the gl backend tries here, best first: webgl2 then webgl in a browser, headlessgl in Node. */
function glModes(): GpuJsMode[] {
  return isBrowser() ? ['webgl2', 'webgl'] : ['headlessgl'];
}

/**
 * Registers the `gl` backend (priority 300). Importing `@gradkit/kernels/gl` calls it once; call
 * it again after `unregisterBackend('gl')` to bring gl back. Returns whether it registered (false
 * when a `gl` backend is registered already). The probe starts a context and reads its renderer:
 * on a software rasterizer (see {@link detectSoftwareRenderer}) automatic selection ranks gl
 * below `wasm`, and `backend: 'gl'` still gets it.
 *
 * @example
 * ```ts
 * import '@gradkit/kernels/gl'; // the usual way: registers gl
 * import { createDevice } from '@gradkit/kernels';
 * const d = createDevice({ backend: 'gl' });
 * ```
 */
export function registerGlBackend(): boolean {
  if (registeredBackends().includes('gl')) return false;
  registerBackend({
    name: 'gl',
    priority: 300,
    probe: () => {
      const reasons: string[] = [];
      for (const mode of glModes()) {
        const r = probeGpuJs(mode);
        if (r.ok) {
          return {
            ok: true,
            mode,
            reason: '',
            renderer: r.renderer,
            ...(r.softwareRenderer !== null ? { softwareRenderer: r.softwareRenderer } : {}),
          };
        }
        reasons.push(`${mode}: ${r.reason}`);
      }
      return { ok: false, mode: glModes()[0], reason: reasons.join('; ') };
    },
    create: ({ mode }) => new GpuJsBackend(mode as GpuJsMode),
  });
  return true;
}

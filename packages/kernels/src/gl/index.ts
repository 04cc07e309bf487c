// `@gradkit/kernels/gl`: importing this module registers the `gl` backend (gpu.js on headless-gl in
// Node, WebGL2/WebGL in a browser) with priority 300, above wasm and cpu. The core package never
// imports gpu.js: a program that does not import this module never loads it.
import { registerBackend, registeredBackends } from '../registry.js';
import { GpuJsBackend } from './backend.js';
import type { GpuJsMode } from './probe.js';
import { probeGpuJs } from './probe.js';

export type { GpuJsBuffer, GpuJsStats } from './backend.js';
export { GpuJsBackend } from './backend.js';
export type { GpuJsMode, GpuJsProbe } from './probe.js';
export { probeGpuJs } from './probe.js';

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
 * when a `gl` backend is registered already).
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
        if (r.ok) return { ok: true, mode, reason: '' };
        reasons.push(`${mode}: ${r.reason}`);
      }
      return { ok: false, mode: glModes()[0], reason: reasons.join('; ') };
    },
    create: ({ mode }) => new GpuJsBackend(mode as GpuJsMode),
  });
  return true;
}

registerGlBackend();

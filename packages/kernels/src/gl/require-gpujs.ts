// Loads gpu.js in Node with `require`, so that a missing gpu.js is an error that says what to install.
import { createRequire } from 'node:module';
import { BackendError } from '../errors.js';
import type { GpuJsModule } from './gpujs.js';
import { GPUJS_MISSING, GPUJS_RANGE } from './gpujs.js';
import { firstLine } from './probe.js';

/** A `require` as {@link requireGpuJs} uses it. @internal */
export type RequireLike = ((id: string) => unknown) & { resolve(id: string): string };

/**
 * Loads gpu.js with `req` (default: Node's `require` anchored at this module).
 *
 * @throws {BackendError} naming the package to install when gpu.js cannot be found, or what went
 *   wrong when it is found but does not load.
 * @internal
 */
export function requireGpuJs(req: RequireLike = createRequire(import.meta.url)): GpuJsModule {
  let path: string;
  try {
    path = req.resolve('gpu.js');
  } catch {
    throw new BackendError('gl', GPUJS_MISSING);
  }
  let m: Partial<GpuJsModule> | undefined;
  try {
    m = req(path) as Partial<GpuJsModule> | undefined;
  } catch (e) {
    throw new BackendError(
      'gl',
      `gpu.js is installed (${path}) but could not be loaded: ${firstLine(e)}; reinstall it: npm install gpu.js@${GPUJS_RANGE}`,
    );
  }
  if (typeof m?.GPU !== 'function') {
    throw new BackendError('gl', `${path} does not export a GPU class: install gpu.js@${GPUJS_RANGE}`);
  }
  return m as GpuJsModule;
}

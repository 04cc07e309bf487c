// The one copy of gpu.js the gl backend uses. The entries install it: `./index.ts` (browsers and
// bundlers) from a static `import { GPU } from 'gpu.js'`, `./node.ts` (Node) with `require`, so
// that a missing gpu.js is an error that says what to install. Nothing else imports gpu.js's values.
import type { GPU } from 'gpu.js';
import { BackendError } from '../errors.js';

/** The part of the gpu.js module gradkit uses. @internal */
export interface GpuJsModule {
  /** gpu.js's `GPU` class. */
  readonly GPU: typeof GPU;
}

let lib: GpuJsModule | null = null;

/** Installs gpu.js for the gl backend (the first call wins). @internal */
export function useGpuJs(m: GpuJsModule): void {
  if (lib === null) lib = m;
}

/** The installed gpu.js module. @internal */
export function gpuJs(): GpuJsModule {
  if (lib === null) {
    throw new BackendError(
      'gl',
      "gpu.js is not loaded: the gl backend starts from import '@gradkit/kernels/gl'",
    );
  }
  return lib;
}

/** The version range of gpu.js gradkit's gl backend is tested with (its `peerDependencies`). @internal */
export const GPUJS_RANGE = '^2.24.1';

/** What the error says when gpu.js is missing: exactly what to install. @internal */
export const GPUJS_MISSING =
  `'@gradkit/kernels/gl' needs gpu.js, which is not installed where @gradkit/kernels can find it. ` +
  `Install it next to gradkit: npm install gpu.js@${GPUJS_RANGE} (pnpm add / yarn add gpu.js@${GPUJS_RANGE}). ` +
  `Without the GPU, drop the import: the wasm and cpu backends need nothing else.`;

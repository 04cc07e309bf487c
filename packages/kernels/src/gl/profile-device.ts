// profileGl: a device-level entry to the gl backend's profiler (./profile.ts).
import type { Device } from '../device.js';
import { BackendError } from '../errors.js';
import { GpuJsBackend } from './backend.js';
import type { GlProfile, GlProfileOptions } from './profile.js';

/**
 * Runs `fn` with the gl backend of `device` profiling, and returns its result with what the
 * profile recorded: kernel launches and milliseconds per kernel, program links and switches,
 * texture allocations and reuses, uploads and read-backs (see {@link GlProfile}). Each launch is
 * waited for while profiling (see {@link GlProfileSync}), so `fn` runs slower than it would
 * unprofiled; counts are exact. For work that awaits (e.g. `readAsync`), call
 * `startProfile()`/`stopProfile()` on `device.backend` (a {@link GpuJsBackend}) around it.
 *
 * @param device a device on the `gl` backend.
 * @param fn the work to profile (synchronous).
 * @param options how launches are waited for (default `{ sync: 'read' }`).
 * @throws {BackendError} when the device does not run on `gl`, or a profile is already running.
 * @example
 * ```ts
 * import { createDevice } from '@gradkit/kernels';
 * import { profileGl } from '@gradkit/kernels/gl';
 * const d = createDevice({ backend: 'gl' });
 * const { profile } = profileGl(d, () => d.unary('relu', d.array([1, -2, 3], [3])).read());
 * console.table(profile.kernels); // upload, map(relu): 1 launch each, ms per kernel
 * ```
 */
export function profileGl<T>(
  device: Device,
  fn: () => T,
  options: GlProfileOptions = {},
): { result: T; profile: GlProfile } {
  const b = device.backend;
  if (!(b instanceof GpuJsBackend)) {
    throw new BackendError(b.name, `profileGl: the device runs on '${b.name}', not on 'gl'`);
  }
  b.startProfile(options);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    b.stopProfile();
    throw e;
  }
  return { result, profile: b.stopProfile() };
}

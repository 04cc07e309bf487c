import { GradkitError } from '@gradkit/tensor';

/**
 * A missing, incomplete, corrupt or inconsistent checkpoint (or a malformed safetensors file,
 * see {@link SafetensorsError}); the message names the file and what is wrong with it.
 *
 * @example
 * ```ts
 * try {
 *   loadCheckpoint('runs/none');
 * } catch (e) {
 *   if (e instanceof CheckpointError) console.error(e.message); // runs/none: no such checkpoint directory
 * }
 * ```
 */
export class CheckpointError extends GradkitError {
  /** `'CheckpointError'`: the class name, shown in messages and stack traces. */
  override name = 'CheckpointError';
}

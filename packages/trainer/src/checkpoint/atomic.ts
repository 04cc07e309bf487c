import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes a file atomically: the bytes go to a new temporary file beside the target (created
 * exclusively, so nothing planted under that name is followed), which is flushed to disk and
 * then renamed over the target, so readers see either the old file or the new one, never a
 * half-written one. The rename replaces a symbolic link at `path` instead of writing through it.
 * Creates the directory if needed and flushes it after the rename where the platform allows.
 *
 * @example
 * ```ts
 * writeFileAtomic('run/checkpoint/model.safetensors', bytes);
 * ```
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDirectory(dirname(path));
}

/**
 * Flushes a directory's entries (a rename in it) to disk; a no-op where directories cannot be
 * opened for that (Windows).
 *
 * @internal
 */
export function fsyncDirectory(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported here: the rename is still atomic, only its durability is the OS's
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

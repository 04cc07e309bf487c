import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

/** @internal A file path as a string (file: URLs converted). */
export function pathString(path: string | URL): string {
  return typeof path === 'string' ? path : fileURLToPath(path);
}

/**
 * @internal Reads a whole file; a missing file, a directory or an unreadable file becomes a
 * {@link DataError} naming the path.
 */
export function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, expected a file'
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot read the file (${(e as Error).message})`;
    throw new DataError(path, what, { cause: e });
  }
}

/** @internal True when the bytes start with the gzip magic number `1f 8b`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * @internal Decompresses gzip bytes (`1f 8b ...`), or returns other bytes as they are. A corrupt or
 * truncated gzip stream becomes a {@link DataError} naming the source.
 */
export function maybeGunzip(bytes: Uint8Array, source: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataError(source, `not a valid gzip stream (${(e as Error).message})`, { cause: e });
  }
}

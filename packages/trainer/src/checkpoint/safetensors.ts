import type { StateDtype } from '@gradkit/tensor';
import { CheckpointError } from './checkpoint-error.js';

/**
 * A tensor as stored in a safetensors file: a shape, float32 values and, for an integer tensor,
 * `dtype: 'int64'` (the same shape as a `@gradkit/tensor` state dict entry).
 */
export interface NamedTensor {
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** Its values, row-major (integers for an `'int64'` tensor). */
  readonly data: Float32Array;
  /**
   * `'int64'`: written as `I64` (PyTorch's `torch.long`, e.g. BatchNorm's `num_batches_tracked`)
   * and set when an `I64` tensor is read; absent or `'float32'`: `F32`.
   */
  readonly dtype?: StateDtype;
}

/** A safetensors file's contents: tensors by name and the optional string metadata. */
export interface SafetensorsContents {
  /** The tensors, by name. */
  readonly tensors: Record<string, NamedTensor>;
  /** The header's `__metadata__` entries (empty when the file has none). */
  readonly metadata: Record<string, string>;
}

/**
 * A malformed or unsupported safetensors file; the message says what and where. It is a
 * {@link CheckpointError}, so one `instanceof CheckpointError` catches every unreadable checkpoint.
 *
 * @example
 * ```ts
 * try {
 *   decodeSafetensors(new Uint8Array(4), 'model.safetensors');
 * } catch (e) {
 *   if (e instanceof SafetensorsError) console.error(e.message); // names the file and the problem
 * }
 * ```
 */
export class SafetensorsError extends CheckpointError {
  /** `'SafetensorsError'`: the class name, shown in messages and stack traces. */
  override name = 'SafetensorsError';
}

const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Serializes tensors in the safetensors format: an 8-byte little-endian header length, a JSON
 * header (`{ name: { dtype: 'F32', shape, data_offsets: [begin, end] }, __metadata__ }`) padded
 * with spaces to a multiple of 8 bytes, then the little-endian data, tensors in name order (as
 * `safetensors.torch.save_file`). A tensor with `dtype: 'int64'` is written as `I64` (8 bytes a
 * value), every other one as `F32`.
 *
 * @throws {SafetensorsError} when a tensor's values do not fill its shape, an `'int64'` tensor
 *   holds a value that is not an integer, a tensor has an unknown dtype, a tensor is named
 *   `__proto__` or `__metadata__`, or a metadata value is not a string.
 * @see https://github.com/huggingface/safetensors (format description)
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ 'fc.weight': { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    if (name === '__proto__' || name === '__metadata__')
      throw new SafetensorsError(`a tensor cannot be named '${name}'`);
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata '${k}' must be a string`);
      if (k === '__proto__') throw new SafetensorsError(`a metadata key cannot be named '__proto__'`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const int64 = new Set<string>();
  for (const name of names) {
    const t = tensors[name];
    const size = t.shape.reduce((p, d) => p * d, 1);
    if (!(t.data instanceof Float32Array) || t.data.length !== size) {
      throw new SafetensorsError(
        `tensor '${name}': ${t.data?.length} values do not fill shape [${t.shape.join(',')}]`,
      );
    }
    const dtype = t.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'int64') {
      throw new SafetensorsError(
        `tensor '${name}': dtype must be 'float32' or 'int64', got ${JSON.stringify(t.dtype)}`,
      );
    }
    if (dtype === 'int64') {
      const bad = t.data.findIndex((v) => !Number.isInteger(v));
      if (bad >= 0) {
        throw new SafetensorsError(
          `tensor '${name}': an int64 tensor must hold integers, got ${t.data[bad]} at index ${bad}`,
        );
      }
      int64.add(name);
    }
    const width = dtype === 'int64' ? 8 : 4;
    header[name] = {
      dtype: dtype === 'int64' ? 'I64' : 'F32',
      shape: [...t.shape],
      data_offsets: [offset, offset + size * width],
    };
    offset += size * width;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors[name].data;
    if (int64.has(name)) {
      for (let i = 0; i < data.length; i++, pos += 8) view.setBigInt64(pos, BigInt(data[i]), true);
    } else {
      for (let i = 0; i < data.length; i++, pos += 4) view.setFloat32(pos, data[i], true);
    }
  }
  return out;
}

/**
 * Parses a safetensors file. F32 tensors load as they are; F64, F16, BF16 and integer tensors are
 * converted to float32 (integers are exact up to 2^24 in magnitude); `I64` tensors are marked
 * `dtype: 'int64'`, so that writing them again keeps `I64`. `source` names the file in error
 * messages.
 *
 * The whole header is checked before any tensor is decoded, as the reference implementation
 * does: every entry is an object with a known dtype, a shape of non-negative integers and
 * `data_offsets: [begin, end]` with `begin <= end` and `end - begin` equal to the shape's size in
 * bytes; the tensors, sorted by offset, cover the data section exactly (no overlap, no gap, no
 * trailing bytes after the last tensor); `__metadata__`, when present, is an object. A tensor or
 * metadata key named `__proto__` is rejected (it would replace the prototype of the returned
 * record instead of adding an entry).
 *
 * @throws {SafetensorsError} (a {@link CheckpointError}) for a truncated file, a bad header, an
 *   unknown dtype, overlapping, out-of-order, out-of-range or gapped offsets, trailing bytes, or
 *   a forbidden name.
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(readFileSync('model.safetensors'));
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsContents {
  if (bytes.length < 8)
    throw new SafetensorsError(`${source}: truncated (${bytes.length} bytes, no header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(`${source}: header length ${n} exceeds the file (${bytes.length} bytes)`);
  }
  const headerLen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${source}: header is not a JSON object`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: {
    name: string;
    dtype: string;
    width: number;
    shape: number[];
    begin: number;
    end: number;
  }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__proto__')
      throw new SafetensorsError(`${source}: a tensor named '__proto__' is not allowed`);
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        throw new SafetensorsError(
          `${source}: __metadata__ must be an object of strings, got ${JSON.stringify(entry)}`,
        );
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (k === '__proto__')
          throw new SafetensorsError(`${source}: a metadata key named '__proto__' is not allowed`);
        metadata[k] = String(v);
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new SafetensorsError(
        `${source}: tensor '${name}' is not described by an object, got ${JSON.stringify(entry)}`,
      );
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    const width = Object.hasOwn(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : 0;
    if (!width)
      throw new SafetensorsError(
        `${source}: tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`,
      );
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new SafetensorsError(
        `${source}: tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`,
      );
    }
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(
        `${source}: tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`,
      );
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) {
      throw new SafetensorsError(
        `${source}: tensor '${name}' has out-of-order data_offsets [${begin}, ${end}]`,
      );
    }
    const size = shape.reduce((p, d) => p * d, 1);
    if (end - begin !== size * width || end > dataLen) {
      throw new SafetensorsError(
        `${source}: tensor '${name}' ([${shape.join(',')}] ${dtype}) needs ${size * width} bytes at [${begin}, ${end}) ` +
          `but the data section has ${dataLen} bytes`,
      );
    }
    entries.push({ name, dtype, width, shape, begin, end });
  }
  const spans = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    if (s.begin < covered) {
      throw new SafetensorsError(`${source}: tensors '${spans[i - 1].name}' and '${s.name}' overlap`);
    }
    if (s.begin > covered) {
      throw new SafetensorsError(
        `${source}: the data section has a gap at bytes [${covered}, ${s.begin}) before tensor '${s.name}'`,
      );
    }
    covered = s.end;
  }
  if (covered !== dataLen) {
    throw new SafetensorsError(
      `${source}: ${dataLen - covered} trailing bytes after the last tensor (the tensors cover ${covered} of ${dataLen} data bytes)`,
    );
  }
  const tensors: Record<string, NamedTensor> = {};
  for (const { name, dtype, width, shape, begin } of entries) {
    const size = shape.reduce((p, d) => p * d, 1);
    const data = new Float32Array(size);
    const base = dataStart + begin;
    for (let i = 0; i < size; i++) {
      const p = base + i * width;
      switch (dtype) {
        case 'F32':
          data[i] = view.getFloat32(p, true);
          break;
        case 'F64':
          data[i] = view.getFloat64(p, true);
          break;
        case 'F16':
          data[i] = halfToFloat(view.getUint16(p, true));
          break;
        case 'BF16':
          data[i] = new Float32Array(new Uint32Array([view.getUint16(p, true) << 16]).buffer)[0];
          break;
        case 'I64':
          data[i] = Number(view.getBigInt64(p, true));
          break;
        case 'I32':
          data[i] = view.getInt32(p, true);
          break;
        case 'I16':
          data[i] = view.getInt16(p, true);
          break;
        case 'I8':
          data[i] = view.getInt8(p);
          break;
        default:
          data[i] = view.getUint8(p);
      }
    }
    tensors[name] = dtype === 'I64' ? { shape, data, dtype: 'int64' } : { shape, data };
  }
  return { tensors, metadata };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

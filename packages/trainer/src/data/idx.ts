import { ShapeError, ValueError } from '@gradkit/tensor';
import { DataError } from './errors.js';

/**
 * The element types of the IDX format, named for their typed arrays: `uint8` (code `0x08`,
 * "unsigned byte"), `int8` (`0x09`), `int16` (`0x0B`, "short"), `int32` (`0x0C`, "int"),
 * `float32` (`0x0D`), `float64` (`0x0E`, "double").
 *
 * @see http://yann.lecun.com/exdb/mnist/ (the IDX file format, at the bottom of the page)
 * @example
 * ```ts
 * const dtype: IdxDtype = 'uint8';
 * ```
 */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/**
 * The typed array that holds each {@link IdxDtype}.
 *
 * @example
 * ```ts
 * const pixels: IdxArrayOf['uint8'] = new Uint8Array(784);
 * ```
 */
export interface IdxArrayOf {
  /** Type code 0x08: unsigned bytes (MNIST's images and labels). */
  uint8: Uint8Array;
  /** Type code 0x09: signed bytes. */
  int8: Int8Array;
  /** Type code 0x0B: 16-bit integers. */
  int16: Int16Array;
  /** Type code 0x0C: 32-bit integers. */
  int32: Int32Array;
  /** Type code 0x0D: 32-bit floats. */
  float32: Float32Array;
  /** Type code 0x0E: 64-bit floats. */
  float64: Float64Array;
}

/**
 * A decoded IDX file: its shape (the dimensions from the header, outermost first), its element
 * type, and its values row-major in the matching typed array (converted to the machine's byte
 * order). A union over the dtypes, so checking `dtype` narrows `data`.
 *
 * @example
 * ```ts
 * const idx = decodeIdx(bytes);
 * if (idx.dtype === 'uint8') idx.data; // Uint8Array
 * ```
 */
export type IdxData = {
  [K in IdxDtype]: {
    /** The dimensions from the header, outermost first. */
    readonly shape: number[];
    /** The element type. */
    readonly dtype: K;
    /** The values, row-major, in the machine's byte order. */
    readonly data: IdxArrayOf[K];
  };
}[IdxDtype];

/**
 * The data type codes of the IDX header (its third byte), by dtype.
 *
 * @see http://yann.lecun.com/exdb/mnist/
 * @example
 * ```ts
 * IDX_TYPE_CODES.uint8; // 0x08
 * ```
 */
export const IDX_TYPE_CODES: Readonly<Record<IdxDtype, number>> = Object.freeze({
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
});

const DTYPE_BY_CODE = new Map<number, IdxDtype>(
  (Object.entries(IDX_TYPE_CODES) as [IdxDtype, number][]).map(([dtype, code]) => [code, dtype]),
);

const BYTES: Readonly<Record<IdxDtype, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;
const formatShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;
const SUPPORTED = '0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double';

/**
 * Options of {@link decodeIdx} (and of `readIdx` of `@gradkit/trainer/node`).
 *
 * @example
 * ```ts
 * decodeIdx(new Uint8Array(await blob.arrayBuffer()), { name: 'upload.idx' });
 * ```
 */
export interface ReadIdxOptions {
  /**
   * The name used in error messages when reading bytes (default `'<idx bytes>'`); a path is
   * always named by itself.
   */
  readonly name?: string;
  /**
   * Accept NaN and infinite values in `float32`/`float64` files (default false: the first one is
   * a {@link DataError} naming its flat index and its position in the shape).
   */
  readonly allowNonFinite?: boolean;
}

/**
 * Decodes the bytes of an IDX file (the format of MNIST, Fashion-MNIST, EMNIST), in memory: no
 * file system, so it works in a browser too. The bytes must be raw; gzip-compressed bytes
 * (`1f 8b ...`, an `*.gz` file) are refused with a {@link DataError} saying so: decompress them
 * first (`new Response(blob.stream().pipeThrough(new DecompressionStream('gzip')))` in a browser),
 * or read the file with `readIdx` of `@gradkit/trainer/node`, which decompresses.
 *
 * Format: a 4-byte magic number `0x00 0x00 <type code> <number of dimensions>`, then each
 * dimension as a big-endian unsigned 32-bit integer, then the values, big-endian, row-major
 * (the last dimension changes fastest). See {@link IDX_TYPE_CODES} for the type codes.
 *
 * The returned typed array is a copy in the machine's byte order (never a view of the input).
 *
 * @param bytes the file's bytes (a `Uint8Array`, or a Node `Buffer`).
 * @throws {DataError} naming `options.name` (default `'<idx bytes>'`) for gzip bytes, a wrong
 * magic number (the message shows the four bytes seen), an unsupported data type code, a
 * truncated file (expected N bytes of data, got M) or trailing bytes, or (unless
 * `allowNonFinite`) a NaN or infinite float, named with its index and position.
 * @see http://yann.lecun.com/exdb/mnist/ (LeCun, Cortes & Burges: the MNIST database and the IDX format)
 * @example
 * ```ts
 * const labels = decodeIdx(new Uint8Array(await (await fetch('t10k-labels-idx1-ubyte')).arrayBuffer()));
 * labels.shape; // [10000]
 * labels.dtype; // 'uint8'
 * ```
 */
export function decodeIdx(bytes: Uint8Array, options: ReadIdxOptions = {}): IdxData {
  const name = options.name ?? '<idx bytes>';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new DataError(
      name,
      "gzip-compressed bytes: decompress them first (DecompressionStream('gzip') in a browser), or use readIdx of @gradkit/trainer/node",
    );
  }
  const idx = decodeRaw(bytes, name);
  if (!options.allowNonFinite && (idx.dtype === 'float32' || idx.dtype === 'float64')) {
    const data = idx.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        const at: number[] = [];
        let rest = i;
        for (let k = idx.shape.length - 1; k >= 0; k--) {
          at.unshift(rest % idx.shape[k]);
          rest = Math.floor(rest / idx.shape[k]);
        }
        throw new DataError(
          name,
          `${idx.dtype} value ${data[i]} at index ${i} (position [${at.join(',')}] of shape ${formatShape(idx.shape)}) is not finite; pass allowNonFinite: true to read it anyway`,
        );
      }
    }
  }
  return idx;
}

function decodeRaw(bytes: Uint8Array, name: string): IdxData {
  if (bytes.length < 4) {
    throw new DataError(
      name,
      `truncated IDX header: expected at least 4 bytes (the magic number), got ${bytes.length}`,
    );
  }
  const [b0, b1, code, rank] = bytes;
  if (b0 !== 0 || b1 !== 0) {
    throw new DataError(
      name,
      `wrong magic number: expected 0x00 0x00 <type code> <number of dimensions>, saw ${[b0, b1, code, rank].map(hex).join(' ')} (not an IDX file)`,
    );
  }
  const dtype = DTYPE_BY_CODE.get(code);
  if (dtype === undefined) {
    throw new DataError(name, `unsupported IDX data type code ${hex(code)} (supported: ${SUPPORTED})`);
  }
  if (rank === 0) {
    throw new DataError(name, 'wrong magic number: the number of dimensions (4th byte) is 0');
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(
      name,
      `truncated IDX header: expected ${headerBytes} bytes (magic number and ${rank} dimensions), got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const width = BYTES[dtype];
  const expected = count * width;
  const got = bytes.length - headerBytes;
  const what = `for shape ${formatShape(shape)} (${dtype}, ${width} byte${width === 1 ? '' : 's'} each)`;
  if (got < expected) {
    throw new DataError(name, `truncated IDX file: expected ${expected} bytes of data ${what}, got ${got}`);
  }
  if (got > expected) {
    throw new DataError(
      name,
      `${got - expected} bytes of trailing garbage after the ${expected} bytes of data ${what}`,
    );
  }
  const o = headerBytes;
  switch (dtype) {
    // Copies (Buffer#slice would return a view, possibly into Node's shared pool).
    case 'uint8':
      return { shape, dtype, data: new Uint8Array(bytes.subarray(o, o + count)) };
    case 'int8': {
      const data = new Int8Array(count);
      data.set(new Int8Array(bytes.buffer, bytes.byteOffset + o, count));
      return { shape, dtype, data };
    }
    case 'int16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(o + 2 * i, false);
      return { shape, dtype, data };
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(o + 4 * i, false);
      return { shape, dtype, data };
    }
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(o + 4 * i, false);
      return { shape, dtype, data };
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(o + 8 * i, false);
      return { shape, dtype, data };
    }
  }
}

/**
 * What {@link encodeIdx} (and `writeIdx` of `@gradkit/trainer/node`) write: a shape, a dtype and row-major values.
 *
 * @example
 * ```ts
 * const input: IdxInput = { shape: [2, 3], dtype: 'float32', data: [0, 0.5, 1, 1.5, 2, 2.5] };
 * ```
 */
export interface IdxInput {
  /** The dimensions, outermost first (at least one, at most 255). */
  readonly shape: readonly number[];
  /** The element type to store. */
  readonly dtype: IdxDtype;
  /** The values, row-major; integers in range for integer dtypes. */
  readonly data: ArrayLike<number>;
}

const INT_RANGE: Partial<Record<IdxDtype, readonly [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

/**
 * Encodes values as the bytes of an IDX file (big-endian, see {@link decodeIdx}), in memory.
 * (`writeIdx` of `@gradkit/trainer/node` writes them to a file, gzipped on request.)
 *
 * @throws {ShapeError} when the shape is empty, has more than 255 dimensions, a dimension that
 * is not an integer in [0, 2^32), or a size different from the number of values.
 * @throws {ValueError} for an integer dtype given a value that is not an integer in its range.
 * @see http://yann.lecun.com/exdb/mnist/
 * @example
 * ```ts
 * const bytes = encodeIdx({ shape: [2, 2], dtype: 'uint8', data: [0, 64, 128, 255] });
 * decodeIdx(bytes).shape; // [2, 2]
 * ```
 */
export function encodeIdx(input: IdxInput): Uint8Array {
  const op = 'encodeIdx';
  const { shape, dtype, data } = input;
  const code = IDX_TYPE_CODES[dtype];
  if (code === undefined) throw new ValueError(op, `unknown dtype ${String(dtype)}`);
  if (shape.length === 0 || shape.length > 255) {
    throw new ShapeError(op, `an IDX file has 1 to 255 dimensions, got shape ${formatShape(shape)}`, [shape]);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new ShapeError(op, `shape ${formatShape(shape)} has a dimension that is not a uint32`, [shape]);
    }
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new ShapeError(op, `${data.length} values do not fill shape ${formatShape(shape)}`, [shape]);
  }
  const range = INT_RANGE[dtype];
  if (range) {
    for (let i = 0; i < count; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
        throw new ValueError(
          op,
          `value at index ${i} is ${v}, not a ${dtype} integer in [${range[0]}, ${range[1]}]`,
        );
      }
    }
  }
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + count * BYTES[dtype]);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  for (let i = 0; i < shape.length; i++) view.setUint32(4 + 4 * i, shape[i], false);
  for (let i = 0; i < count; i++) {
    const v = data[i];
    switch (dtype) {
      case 'uint8':
        view.setUint8(header + i, v);
        break;
      case 'int8':
        view.setInt8(header + i, v);
        break;
      case 'int16':
        view.setInt16(header + 2 * i, v, false);
        break;
      case 'int32':
        view.setInt32(header + 4 * i, v, false);
        break;
      case 'float32':
        view.setFloat32(header + 4 * i, v, false);
        break;
      case 'float64':
        view.setFloat64(header + 8 * i, v, false);
        break;
    }
  }
  return out;
}

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { crc32, inflateSync } from 'node:zlib';
import { DataError } from '@gradkit/trainer';

/** A grayscale image, values in [0, 1]. */
export interface Gray {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/**
 * The largest picture `predict` decodes: 4096 x 4096 = 16,777,216 pixels (any aspect ratio). A
 * header declaring more is refused before any pixel memory is allocated or any data inflated.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/** The largest image file read: 128 MiB (a 4096 x 4096 ASCII PGM of 16-bit values fits). */
export const MAX_IMAGE_FILE_BYTES = 128 * 1024 * 1024;

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/**
 * Reads a PNG or a PGM (P2 ASCII / P5 binary) file as grayscale in [0, 1].
 *
 * PNG: every standard format: gray (1, 2, 4, 8, 16 bits), RGB (8, 16), palette (1, 2, 4, 8 bits,
 * with tRNS transparency), gray+alpha and RGBA (8, 16), interlaced (Adam7) or not. Color becomes
 * luminance `0.299 R + 0.587 G + 0.114 B`; transparent pixels are composited over white. Chunk
 * CRCs are checked; the file must start with IHDR and end with IEND.
 * PGM: maxval 1..65535 (two bytes per sample above 255, big-endian), comments in the header.
 *
 * Limits (untrusted files): at most {@link MAX_IMAGE_FILE_BYTES} bytes and
 * {@link MAX_IMAGE_PIXELS} pixels, checked from the header before allocating; PNG data is
 * inflated with an output bound of exactly the size the header implies, so a decompression bomb
 * fails after that many bytes.
 *
 * @throws {DataError} naming the file and the problem: not a PNG/PGM, a size of 0 or above the
 * limits, truncated or corrupt data, a bad CRC, an unsupported bit depth or color type, a sample
 * above the PGM maxval, a palette index outside the palette.
 */
export function readImage(path: string): Gray {
  const size = statSync(path).size;
  if (size > MAX_IMAGE_FILE_BYTES)
    throw new DataError(
      path,
      `image file of ${size} bytes is above the limit of ${MAX_IMAGE_FILE_BYTES} bytes`,
    );
  const bytes = readWhole(path, size);
  return decodeImage(bytes, path);
}

function readWhole(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const r = readSync(fd, buf, got, size - got, got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Decodes PNG or PGM bytes (see {@link readImage}); `name` is used in errors. */
export function decodeImage(bytes: Buffer, name: string): Gray {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return decodePng(bytes, name);
  const magic = bytes.subarray(0, 2).toString('latin1');
  if (magic === 'P5' || magic === 'P2') return decodePgm(bytes, name);
  throw new DataError(name, 'not a PNG or PGM image (other inputs: IDX image files or CSV)');
}

function checkSize(width: number, height: number, fail: (m: string) => DataError): void {
  if (width < 1 || height < 1) throw fail(`image is ${width}x${height}: it has no pixels`);
  if (width * height > MAX_IMAGE_PIXELS)
    throw fail(
      `image is ${width}x${height} = ${width * height} pixels, above the limit of ${MAX_IMAGE_PIXELS} (4096x4096)`,
    );
}

function decodePgm(bytes: Buffer, name: string): Gray {
  const fail = (m: string) => new DataError(name, `PGM: ${m}`);
  const ascii = bytes[1] === 0x32; // 'P2'
  const isSpace = (b: number) =>
    b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
  let i = 2;
  const header: number[] = [];
  while (header.length < 3) {
    if (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== 0x23 && header.length === 0 && i === 2)
      throw fail('malformed header: expected whitespace after the magic number');
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (bytes[i] === 0x23) {
      while (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0x0d) i++;
      continue;
    }
    const start = i;
    while (i < bytes.length && bytes[i] >= 0x30 && bytes[i] <= 0x39 && i - start < 10) i++;
    if (i === start || (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== 0x23))
      throw fail(
        `malformed header: expected ${['the width', 'the height', 'maxval'][header.length]} at byte ${start}`,
      );
    header.push(Number(bytes.toString('latin1', start, i)));
  }
  const [width, height, max] = header;
  checkSize(width, height, fail);
  if (max < 1 || max > 65535) throw fail(`maxval is ${max}, expected 1..65535`);
  const n = width * height;
  const data = new Float32Array(n);
  if (!ascii) {
    const start = i + 1; // exactly one whitespace byte after maxval
    const bps = max < 256 ? 1 : 2;
    if (bytes.length - start < n * bps)
      throw fail(
        `truncated data: ${width}x${height} needs ${n * bps} bytes, got ${Math.max(0, bytes.length - start)}`,
      );
    for (let k = 0; k < n; k++) {
      const v = bps === 1 ? bytes[start + k] : bytes.readUInt16BE(start + 2 * k);
      if (v > max) throw fail(`pixel ${k} is ${v}, above maxval ${max}`);
      data[k] = v / max;
    }
  } else {
    let k = 0;
    while (k < n) {
      while (i < bytes.length && isSpace(bytes[i])) i++;
      if (i >= bytes.length) throw fail(`truncated data: ${width}x${height} needs ${n} values, got ${k}`);
      let v = 0;
      const start = i;
      while (i < bytes.length && bytes[i] >= 0x30 && bytes[i] <= 0x39 && i - start < 6)
        v = v * 10 + bytes[i++] - 0x30;
      if (i === start || (i < bytes.length && !isSpace(bytes[i])))
        throw fail(`value ${k} at byte ${start} is not a non-negative integer`);
      if (v > max) throw fail(`pixel ${k} is ${v}, above maxval ${max}`);
      data[k++] = v / max;
    }
  }
  return { width, height, data };
}

/** Samples per pixel of each PNG color type, and the bit depths it allows. */
const COLOR_TYPES: Record<number, { channels: number; depths: number[]; what: string }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16], what: 'gray' },
  2: { channels: 3, depths: [8, 16], what: 'RGB' },
  3: { channels: 1, depths: [1, 2, 4, 8], what: 'palette' },
  4: { channels: 2, depths: [8, 16], what: 'gray+alpha' },
  6: { channels: 4, depths: [8, 16], what: 'RGBA' },
};

// Adam7 passes: first column, first row, column step, row step
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

function decodePng(bytes: Buffer, name: string): Gray {
  const fail = (m: string) => new DataError(name, `PNG: ${m}`);
  let pos = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let interlaced = false;
  let palette: Buffer | null = null;
  let trns: Buffer | null = null;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) throw fail(`truncated chunk header at byte ${pos}`);
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw fail(`bad chunk type at byte ${pos + 4} (corrupt file)`);
    if (len > 0x7fffffff || pos + 12 + len > bytes.length)
      throw fail(
        `chunk ${type} at byte ${pos} declares ${len} bytes, past the end of the file (truncated file)`,
      );
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + len)) !== bytes.readUInt32BE(pos + 8 + len))
      throw fail(`chunk ${type} at byte ${pos}: CRC mismatch (corrupt file)`);
    if (pos === 8 && type !== 'IHDR') throw fail(`the first chunk is ${type}, expected IHDR`);
    pos += 12 + len;
    if (type === 'IHDR') {
      if (pos !== 8 + 12 + len) throw fail('a second IHDR chunk');
      if (len !== 13) throw fail(`IHDR has ${len} bytes, expected 13`);
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8];
      colorType = body[9];
      const ct = COLOR_TYPES[colorType];
      if (!ct) throw fail(`unknown color type ${colorType}`);
      if (!ct.depths.includes(depth))
        throw fail(`bit depth ${depth} is not valid for ${ct.what} images (${ct.depths.join(', ')})`);
      if (body[10] !== 0 || body[11] !== 0) throw fail('unknown compression or filter method');
      if (body[12] > 1) throw fail(`unknown interlace method ${body[12]}`);
      interlaced = body[12] === 1;
      checkSize(width, height, fail);
    } else if (type === 'PLTE') {
      if (len === 0 || len % 3 !== 0 || len > 768) throw fail(`PLTE has ${len} bytes (1 to 256 RGB entries)`);
      palette = body;
    } else if (type === 'tRNS') trns = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    } else if (type.charCodeAt(0) < 0x61) throw fail(`unsupported critical chunk ${type}`);
  }
  if (!ended) throw fail('no IEND chunk (truncated file)');
  if (colorType === 3 && !palette) throw fail('palette image without a PLTE chunk');
  if (!idat.length) throw fail('no IDAT chunk (no image data)');
  const channels = COLOR_TYPES[colorType].channels;
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter unit in bytes
  const passes: [x0: number, y0: number, dx: number, dy: number, w: number, h: number][] = (
    interlaced ? ADAM7 : [[0, 0, 1, 1] as const]
  )
    .map(([x0, y0, dx, dy]) => {
      const w = Math.ceil((width - x0) / dx);
      const h = Math.ceil((height - y0) / dy);
      return [x0, y0, dx, dy, Math.max(0, w), Math.max(0, h)] as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
    })
    .filter((p) => p[4] > 0 && p[5] > 0);
  let expected = 0;
  for (const p of passes) expected += p[5] * (1 + Math.ceil((p[4] * bitsPerPixel) / 8));
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
      throw fail(
        `image data inflates to more than the ${expected} bytes its ${width}x${height} header implies`,
      );
    throw fail(`corrupt image data (${err.message})`);
  }
  if (raw.length !== expected)
    throw fail(`truncated image data: ${raw.length} bytes inflated, ${width}x${height} needs ${expected}`);

  const maxSample = (1 << depth) - 1;
  const sample = (row: number, x: number, c: number): number => {
    if (depth === 8) return raw[row + x * channels + c];
    if (depth === 16) return raw.readUInt16BE(row + 2 * (x * channels + c));
    const bit = (x * channels + c) * depth;
    return (raw[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & maxSample;
  };
  const entries = palette ? palette.length / 3 : 0;
  const data = new Float32Array(width * height);
  let off = 0;
  for (const [x0, y0, dx, dy, w, h] of passes) {
    const stride = Math.ceil((w * bitsPerPixel) / 8);
    for (let y = 0; y < h; y++) {
      const row = off + y * (stride + 1) + 1;
      const prev = y > 0 ? row - (stride + 1) : -1;
      const filter = raw[row - 1];
      if (filter > 4)
        throw fail(`unknown filter type ${filter} on row ${y}${interlaced ? ' of an interlace pass' : ''}`);
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? raw[row + i - bpp] : 0;
        const b = prev >= 0 ? raw[prev + i] : 0;
        const c = i >= bpp && prev >= 0 ? raw[prev + i - bpp] : 0;
        let p = 0;
        if (filter === 1) p = a;
        else if (filter === 2) p = b;
        else if (filter === 3) p = (a + b) >> 1;
        else if (filter === 4) {
          const q = a + b - c;
          const pa = Math.abs(q - a);
          const pb = Math.abs(q - b);
          const pc = Math.abs(q - c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
        raw[row + i] = (raw[row + i] + p) & 0xff;
      }
      for (let x = 0; x < w; x++) {
        let gray: number;
        let alpha = 1;
        if (colorType === 3) {
          const k = sample(row, x, 0);
          if (k >= entries) throw fail(`palette index ${k} outside the ${entries} PLTE entries`);
          const pal = palette as Buffer;
          gray = (0.299 * pal[3 * k] + 0.587 * pal[3 * k + 1] + 0.114 * pal[3 * k + 2]) / 255;
          if (trns && k < trns.length) alpha = trns[k] / 255;
        } else if (channels >= 3) {
          gray =
            (0.299 * sample(row, x, 0) + 0.587 * sample(row, x, 1) + 0.114 * sample(row, x, 2)) / maxSample;
          if (channels === 4) alpha = sample(row, x, 3) / maxSample;
        } else {
          gray = sample(row, x, 0) / maxSample;
          if (channels === 2) alpha = sample(row, x, 1) / maxSample;
        }
        // transparent pixels count as background (white)
        data[(y0 + y * dy) * width + x0 + x * dx] = gray * alpha + (1 - alpha);
      }
    }
    off += h * (stride + 1);
  }
  return { width, height, data };
}

/**
 * Prepares a picture of a digit the way MNIST digits look: white on black (inverted when the
 * picture's border is light), scaled by area averaging into 28 x 28.
 */
export function toMnist(img: Gray): Float32Array {
  const { width: w, height: h, data } = img;
  let border = 0;
  let count = 0;
  for (let x = 0; x < w; x++) {
    border += data[x] + data[(h - 1) * w + x];
    count += 2;
  }
  const invert = border / count > 0.5;
  const out = new Float32Array(28 * 28);
  for (let oy = 0; oy < 28; oy++) {
    for (let ox = 0; ox < 28; ox++) {
      const y0 = Math.floor((oy * h) / 28);
      const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * h) / 28));
      const x0 = Math.floor((ox * w) / 28);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * w) / 28));
      let s = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += data[y * w + x];
      const v = s / ((y1 - y0) * (x1 - x0));
      out[oy * 28 + ox] = invert ? 1 - v : v;
    }
  }
  return out;
}

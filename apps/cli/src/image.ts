import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { CliError } from './errors.js';

/** A grayscale image, values in [0, 1]. */
export interface Gray {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Reads a PNG (8-bit, non-interlaced; gray, gray+alpha, RGB or RGBA) or a PGM (P2/P5) file as grayscale. */
export function readImage(path: string): Gray {
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])))
    return decodePng(bytes, path);
  const magic = bytes.subarray(0, 2).toString('latin1');
  if (magic === 'P5' || magic === 'P2') return decodePgm(bytes, path);
  throw new CliError(`predict: ${path}: not a PNG or PGM image (other inputs: IDX image files or CSV)`);
}

function decodePgm(bytes: Buffer, path: string): Gray {
  const text = bytes.toString('latin1');
  const tokens: number[] = [];
  let i = 2;
  while (tokens.length < 3) {
    while (/\s/.test(text[i])) i++;
    if (text[i] === '#') {
      while (text[i] !== '\n' && i < text.length) i++;
      continue;
    }
    const m = /^\d+/.exec(text.slice(i));
    if (!m) throw new CliError(`predict: ${path}: malformed PGM header`);
    tokens.push(Number(m[0]));
    i += m[0].length;
  }
  const [width, height, max] = tokens;
  const data = new Float32Array(width * height);
  if (text.startsWith('P5')) {
    const start = i + 1;
    if (bytes.length < start + width * height) throw new CliError(`predict: ${path}: truncated PGM data`);
    for (let k = 0; k < data.length; k++) data[k] = bytes[start + k] / max;
  } else {
    const vals = text.slice(i).trim().split(/\s+/).map(Number);
    if (vals.length < data.length) throw new CliError(`predict: ${path}: truncated PGM data`);
    for (let k = 0; k < data.length; k++) data[k] = vals[k] / max;
  }
  return { width, height, data };
}

function decodePng(bytes: Buffer, path: string): Gray {
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (pos < bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.subarray(pos + 4, pos + 8).toString('latin1');
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      colorType = body[9];
      if (depth !== 8 || body[12] !== 0 || ![0, 2, 4, 6].includes(colorType)) {
        throw new CliError(`predict: ${path}: only 8-bit non-interlaced gray/RGB(A) PNGs are supported`);
      }
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType as 0 | 2 | 4 | 6];
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(height * stride);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = v & 0xff;
    }
    px.set(cur, y * stride);
    prev = cur;
  }
  const data = new Float32Array(width * height);
  for (let k = 0; k < width * height; k++) {
    const o = k * channels;
    const gray = channels >= 3 ? 0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2] : px[o];
    const alpha = channels === 2 ? px[o + 1] / 255 : channels === 4 ? px[o + 3] / 255 : 1;
    // transparent pixels count as background (white)
    data[k] = (gray * alpha + 255 * (1 - alpha)) / 255;
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

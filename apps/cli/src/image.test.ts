import { constants, crc32, deflateRawSync, deflateSync } from 'node:zlib';
import { DataError } from '@gradkit/trainer';
import { describe, expect, it } from 'vitest';
import { decodeImage, MAX_IMAGE_PIXELS, toMnist } from './image.js';

// A small PNG encoder for the tests: chunks with CRCs, filters, every color type, Adam7.

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

function ihdr(w: number, h: number, depth: number, colorType: number, interlace = 0): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(w, 0);
  b.writeUInt32BE(h, 4);
  b[8] = depth;
  b[9] = colorType;
  b[12] = interlace;
  return chunk('IHDR', b);
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Packs samples `[h][w * channels]` into filtered scanlines (filter `filter` on every row). */
function scanlines(rows: number[][], w: number, depth: number, channels: number, filter: number): Buffer {
  const stride = Math.ceil((w * channels * depth) / 8);
  const bpp = Math.max(1, (channels * depth) >> 3);
  const out: number[] = [];
  let prev = new Uint8Array(stride);
  for (const samples of rows) {
    const line = new Uint8Array(stride);
    samples.forEach((v, i) => {
      if (depth === 16) {
        line[2 * i] = v >> 8;
        line[2 * i + 1] = v & 0xff;
      } else if (depth === 8) line[i] = v;
      else {
        const bit = i * depth;
        line[bit >> 3] |= v << (8 - depth - (bit & 7));
      }
    });
    out.push(filter);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter];
      out.push((line[i] - pred) & 0xff);
    }
    prev = line;
  }
  return Buffer.from(out);
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

interface PngSpec {
  w: number;
  h: number;
  depth: number;
  colorType: number;
  /** pixel (x, y) -> its samples */
  px: (x: number, y: number) => number[];
  filter?: number;
  interlace?: boolean;
  extra?: Buffer[];
}

function png(s: PngSpec): Buffer {
  const ch = CHANNELS[s.colorType];
  const filter = s.filter ?? 4;
  let raw: Buffer;
  if (!s.interlace) {
    const rows = Array.from({ length: s.h }, (_, y) =>
      Array.from({ length: s.w }, (_, x) => s.px(x, y)).flat(),
    );
    raw = scanlines(rows, s.w, s.depth, ch, filter);
  } else {
    const parts: Buffer[] = [];
    for (const [x0, y0, dx, dy] of ADAM7) {
      const rows: number[][] = [];
      for (let y = y0; y < s.h; y += dy) {
        const row: number[] = [];
        for (let x = x0; x < s.w; x += dx) row.push(...s.px(x, y));
        if (row.length) rows.push(row);
      }
      if (rows.length) parts.push(scanlines(rows, rows[0].length / ch, s.depth, ch, filter));
    }
    raw = Buffer.concat(parts);
  }
  return Buffer.concat([
    SIGNATURE,
    ihdr(s.w, s.h, s.depth, s.colorType, s.interlace ? 1 : 0),
    ...(s.extra ?? []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

const GRAY = (x: number, y: number) => [(x * 37 + y * 11) % 256];

describe('PNG decoding', () => {
  it('8-bit gray with every filter type decodes exactly', () => {
    for (let filter = 0; filter <= 4; filter++) {
      const img = decodeImage(png({ w: 7, h: 5, depth: 8, colorType: 0, px: GRAY, filter }), 't.png');
      expect(img.width).toBe(7);
      expect(img.height).toBe(5);
      for (let y = 0; y < 5; y++)
        for (let x = 0; x < 7; x++) expect(img.data[y * 7 + x]).toBe(Math.fround(GRAY(x, y)[0] / 255));
    }
  });

  it('1, 2, 4 and 16-bit gray scale to [0, 1]', () => {
    for (const depth of [1, 2, 4, 16]) {
      const max = 2 ** depth - 1;
      const px = (x: number, y: number) => [(x + 3 * y) % (max + 1)];
      const img = decodeImage(png({ w: 11, h: 3, depth, colorType: 0, px }), 't.png');
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 11; x++) expect(img.data[y * 11 + x]).toBeCloseTo(px(x, y)[0] / max, 6);
    }
  });

  it('RGB, RGBA (over white) and palette with tRNS', () => {
    const rgb = decodeImage(
      png({ w: 2, h: 1, depth: 8, colorType: 2, px: (x) => (x ? [255, 0, 0] : [0, 0, 255]) }),
      'c',
    );
    expect(rgb.data[0]).toBeCloseTo(0.114, 6);
    expect(rgb.data[1]).toBeCloseTo(0.299, 6);
    const rgba = decodeImage(png({ w: 1, h: 1, depth: 16, colorType: 6, px: () => [0, 0, 0, 0] }), 'c');
    expect(rgba.data[0]).toBe(1); // fully transparent: white
    const plte = chunk('PLTE', Buffer.from([0, 0, 0, 255, 255, 255, 255, 0, 0]));
    const trns = chunk('tRNS', Buffer.from([255, 255, 0]));
    const pal = decodeImage(
      png({ w: 3, h: 1, depth: 2, colorType: 3, px: (x) => [x], extra: [plte, trns] }),
      'p',
    );
    expect(Array.from(pal.data)).toEqual([0, 1, 1]);
    const bad = png({ w: 3, h: 1, depth: 2, colorType: 3, px: (x) => [x + 1], extra: [plte] });
    expect(dataError(() => decodeImage(bad, 'p.png')).message).toBe(
      'p.png: PNG: palette index 3 outside the 3 PLTE entries',
    );
  });

  it('interlaced (Adam7) decodes to the same pixels as non-interlaced, odd sizes included', () => {
    for (const [w, h, depth, colorType] of [
      [13, 9, 8, 0],
      [1, 1, 8, 2],
      [5, 3, 4, 0],
      [9, 10, 16, 6],
    ]) {
      const px = (x: number, y: number) =>
        Array.from(
          { length: CHANNELS[colorType] },
          (_, c) => (x * 7 + y * 3 + c * 5) % 2 ** Math.min(depth, 8),
        );
      const a = decodeImage(png({ w, h, depth, colorType, px }), 'a');
      const b = decodeImage(png({ w, h, depth, colorType, px, interlace: true }), 'b');
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
    }
  });
});

describe('bad PNGs are DataErrors naming the file', () => {
  const good = png({ w: 4, h: 4, depth: 8, colorType: 0, px: GRAY });
  const cases: [string, Buffer, RegExp][] = [
    [
      'no IHDR',
      Buffer.concat([SIGNATURE, chunk('IEND', Buffer.alloc(0))]),
      /the first chunk is IEND, expected IHDR/,
    ],
    ['signature only', SIGNATURE, /no IEND chunk \(truncated file\)/],
    [
      'truncated chunk',
      good.subarray(0, 50),
      /chunk IDAT at byte 33 declares \d+ bytes, past the end of the file/,
    ],
    ['no IEND', good.subarray(0, good.length - 12), /no IEND chunk/],
    [
      '0x0',
      Buffer.concat([SIGNATURE, ihdr(0, 0, 8, 0), chunk('IEND', Buffer.alloc(0))]),
      /image is 0x0: it has no pixels/,
    ],
    [
      'bad depth',
      Buffer.concat([SIGNATURE, ihdr(2, 2, 3, 0), chunk('IEND', Buffer.alloc(0))]),
      /bit depth 3 is not valid for gray/,
    ],
    [
      'palette without PLTE',
      png({ w: 2, h: 2, depth: 8, colorType: 3, px: () => [0] }),
      /palette image without a PLTE chunk/,
    ],
  ];
  it.each(cases)('%s', (_, bytes, pattern) => {
    expect(dataError(() => decodeImage(bytes, 'bad.png')).message).toMatch(pattern);
  });

  it('a corrupt byte fails the CRC check', () => {
    const b = Buffer.from(good);
    b[45] ^= 0xff; // inside the IDAT data
    expect(dataError(() => decodeImage(b, 'x.png')).message).toMatch(
      /x.png: PNG: chunk IDAT at byte 33: CRC mismatch/,
    );
  });

  it('too little image data, or an unknown filter type', () => {
    const short = Buffer.concat([
      SIGNATURE,
      ihdr(4, 4, 8, 0),
      chunk('IDAT', deflateSync(Buffer.alloc(10))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    expect(dataError(() => decodeImage(short, 's.png')).message).toBe(
      's.png: PNG: truncated image data: 10 bytes inflated, 4x4 needs 20',
    );
    const raw = Buffer.alloc(20);
    raw[5] = 9;
    const filt = Buffer.concat([
      SIGNATURE,
      ihdr(4, 4, 8, 0),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    expect(dataError(() => decodeImage(filt, 'f.png')).message).toBe(
      'f.png: PNG: unknown filter type 9 on row 1',
    );
  });
});

describe('untrusted sizes fail fast, without allocating', () => {
  it('a header declaring 100000x100000 is refused before inflating', () => {
    const b = Buffer.concat([
      SIGNATURE,
      ihdr(100000, 100000, 8, 6),
      chunk('IDAT', deflateSync(Buffer.alloc(1000))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    expect(dataError(() => decodeImage(b, 'huge.png')).message).toBe(
      `huge.png: PNG: image is 100000x100000 = 10000000000 pixels, above the limit of ${MAX_IMAGE_PIXELS} (4096x4096)`,
    );
    expect(performance.now() - t0).toBeLessThan(100);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  it('a 200 KB PNG that inflates to 200 MB stops at the size its header implies', () => {
    // 200 copies of a flushed (non-final) deflate segment of 1 MiB of zeros, then a final block
    const seg = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const body = Buffer.concat([
      Buffer.from([0x78, 0x9c]),
      ...Array.from({ length: 200 }, () => seg),
      deflateRawSync(Buffer.alloc(0)),
      Buffer.from([0, 0, 0, 1]), // adler32 not checked: inflating stops long before
    ]);
    expect(body.length).toBeLessThan(400_000);
    const bomb = Buffer.concat([
      SIGNATURE,
      ihdr(100, 100, 8, 0),
      chunk('IDAT', body),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    expect(dataError(() => decodeImage(bomb, 'bomb.png')).message).toBe(
      'bomb.png: PNG: image data inflates to more than the 10100 bytes its 100x100 header implies',
    );
    expect(performance.now() - t0).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
  });

  it('a PGM header declaring 100000x100000 is refused', () => {
    expect(
      dataError(() => decodeImage(Buffer.from('P5\n100000 100000\n255\n\0\0'), 'h.pgm')).message,
    ).toMatch(/h.pgm: PGM: image is 100000x100000 = 10000000000 pixels, above the limit/);
  });
});

describe('PGM', () => {
  it('P5 (8 and 16 bits) and P2 with comments', () => {
    const p5 = decodeImage(
      Buffer.concat([Buffer.from('P5\n# c\n3 1\n255\n'), Buffer.from([0, 51, 255])]),
      'a',
    );
    expect(Array.from(p5.data)).toEqual([0, Math.fround(0.2), 1]);
    const p16 = decodeImage(
      Buffer.concat([Buffer.from('P5 2 1 1000\n'), Buffer.from([0, 250, 3, 232])]),
      'b',
    );
    expect(Array.from(p16.data)).toEqual([0.25, 1]);
    const p2 = decodeImage(Buffer.from('P2\n2 2 # size\n4\n0 1\n2 4\n'), 'c');
    expect(Array.from(p2.data)).toEqual([0, 0.25, 0.5, 1]);
  });

  it.each([
    ['P5\n0 0\n255\n', /image is 0x0: it has no pixels/],
    ['P5\n2 2\n0\n\0\0\0\0', /maxval is 0, expected 1\.\.65535/],
    ['P5\n1 1\n70000\n\0\0', /maxval is 70000/],
    ['P5\n3 3\n255\n\0', /truncated data: 3x3 needs 9 bytes, got 1/],
    ['P2\n2 1\n10\n3 11\n', /pixel 1 is 11, above maxval 10/],
    ['P2\n2 1\n10\n3 x\n', /value 1 at byte \d+ is not a non-negative integer/],
    ['P2\n2 2\n10\n3\n', /truncated data: 2x2 needs 4 values, got 1/],
    ['P5\nx 1\n255\n', /malformed header: expected the width/],
    ['P5', /malformed header/],
  ])('%j', (text, pattern) => {
    expect(dataError(() => decodeImage(Buffer.from(text, 'latin1'), 'bad.pgm')).message).toMatch(pattern);
  });

  it('P5 16-bit samples above maxval are errors', () => {
    const b = Buffer.concat([Buffer.from('P5 1 1 300\n'), Buffer.from([1, 45])]);
    expect(dataError(() => decodeImage(b, 'm.pgm')).message).toBe(
      'm.pgm: PGM: pixel 0 is 301, above maxval 300',
    );
  });

  it('not an image', () => {
    expect(dataError(() => decodeImage(Buffer.from('hello'), 'x')).message).toMatch(/not a PNG or PGM image/);
  });
});

describe('toMnist', () => {
  it('a 1x1 picture scales to 28x28 without NaN', () => {
    const out = toMnist({ width: 1, height: 1, data: Float32Array.of(0.25) });
    expect(out.length).toBe(784);
    expect(out.every((v) => v === 0.25)).toBe(true);
  });
});

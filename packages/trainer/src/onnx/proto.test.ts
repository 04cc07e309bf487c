import { describe, expect, it } from 'vitest';
import { attributeProto, ProtoWriter, tensorProto } from './proto.js';

// Byte-exact wire format of the protobuf writer, against encodings worked out by hand from the
// protobuf encoding rules (key = field << 3 | wire type; varints 7 bits per byte, low first).

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

describe('ProtoWriter', () => {
  it('writes varints: 150 as 96 01, -1 as ten bytes (int64 two complement), 2^53 - 1', () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('08 96 01');
    expect(hex(new ProtoWriter().int(3, -1).finish())).toBe('18 ff ff ff ff ff ff ff ff ff 01');
    expect(hex(new ProtoWriter().int(1, 0).finish())).toBe('08 00');
    expect(hex(new ProtoWriter().int(1, Number.MAX_SAFE_INTEGER).finish())).toBe(
      '08 ff ff ff ff ff ff ff 0f',
    );
    expect(() => new ProtoWriter().int(1, 1.5)).toThrow(RangeError);
  });

  it('writes floats little-endian, strings as UTF-8 with their length, embedded messages', () => {
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe('15 00 00 80 3f');
    expect(hex(new ProtoWriter().string(1, 'aé').finish())).toBe('0a 03 61 c3 a9');
    const inner = new ProtoWriter().int(1, 150);
    const outer = new ProtoWriter().message(3, inner).int(4, 1);
    expect(hex(outer.finish())).toBe('1a 03 08 96 01 20 01');
    expect(outer.length).toBe(7);
  });

  it('encodes an INTS attribute unpacked, with its type (7)', () => {
    // name 'pads' (1), ints 1 and -1 (8), type INTS = 7 (20 -> key a0 01)
    expect(hex(attributeProto('pads', { ints: [1, -1] }).finish())).toBe(
      '0a 04 70 61 64 73 40 01 40 ff ff ff ff ff ff ff ff ff 01 a0 01 07',
    );
  });

  it('encodes a float tensor as dims, data type 1, name and raw little-endian data', () => {
    const t = tensorProto({ name: 'w', dims: [2], type: 'float32', values: Float32Array.from([1, -2]) });
    expect(hex(t.finish())).toBe('08 02 10 01 42 01 77 4a 08 00 00 80 3f 00 00 00 c0');
    const s = tensorProto({ name: 's', dims: [1], type: 'int64', values: [-1] });
    expect(hex(s.finish())).toBe('08 01 10 07 42 01 73 4a 08 ff ff ff ff ff ff ff ff');
  });
});

import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf.js';

const hex = (w: ProtoWriter) => Buffer.from(w.finish()).toString('hex');

describe('ProtoWriter matches the protobuf encoding guide', () => {
  it('varints: 150 → 08 96 01; 300; 2^40; −1 as ten bytes', () => {
    expect(hex(new ProtoWriter().varint(1, 150))).toBe('089601');
    expect(hex(new ProtoWriter().varint(1, 300))).toBe('08ac02');
    expect(hex(new ProtoWriter().varint(2, 2 ** 40))).toBe('10808080808020');
    expect(hex(new ProtoWriter().varint(3, -1))).toBe('18ffffffffffffffffff01');
    expect(hex(new ProtoWriter().varint(20, 7))).toBe('a00107');
  });

  it('strings, nested messages, floats', () => {
    expect(hex(new ProtoWriter().string(2, 'testing'))).toBe('120774657374696e67');
    expect(hex(new ProtoWriter().message(3, (w) => w.varint(1, 150)))).toBe('1a03089601');
    expect(hex(new ProtoWriter().float(2, 1))).toBe('150000803f');
  });

  it('grows past its initial buffer without losing bytes', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 255);
    const out = new ProtoWriter().varint(1, 1).bytes(9, data).finish();
    expect(Array.from(out.subarray(0, 5))).toEqual([0x08, 0x01, 0x4a, 0xe8, 0x07]);
    expect(out.subarray(5)).toEqual(data);
  });
});

/**
 * The few bits of the protobuf wire format that writing an ONNX file needs: varints, 32-bit floats
 * and length-delimited fields (strings, bytes, nested messages).
 * https://protobuf.dev/programming-guides/encoding/
 *
 * A nested message is encoded into its own writer first and then copied in with its length; an
 * exported model is a few MB at most, so the copies (one per nesting level) cost nothing worth a
 * two-pass size computation.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** A raw varint. Negative integers are written as their 64-bit two's complement (10 bytes), as
   *  protobuf does for int32/int64 fields. Integers only, |v| ≤ 2^53. */
  rawVarint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf varint: ${value} is not a safe integer`);
    if (value < 0) {
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= 0x80n) {
        this.byte(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.byte(Number(v));
      return;
    }
    // Division instead of >>> because values may exceed 32 bits.
    let v = value;
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** int32, int64, enum or bool field. */
  varint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  /** Repeated int64 written one tag per element (proto2's unpacked default, which every parser reads). */
  varints(field: number, values: readonly number[]): this {
    for (const v of values) this.varint(field, v);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, textEncoder.encode(text));
  }

  /** A nested message, built by `write` into its own writer. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** The encoded bytes (a view of exactly the written length). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

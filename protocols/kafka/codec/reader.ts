/**
 * A bounds-checked reader over one Kafka frame, after franz-go's kbin.Reader: reads never
 * throw; the first failure sets a sticky `bad` reason and every later read returns a zero
 * value, so a decoder runs straight through and checks once at the end. Every length prefix
 * (strings, bytes, arrays, tagged fields) is checked against the bytes left before anything
 * is allocated, so a hostile prefix cannot make us allocate more than the frame holds.
 *
 * `compact` selects the flexible-version encodings (KIP-482): lengths as unsigned varints
 * holding length + 1, with 0 meaning null.
 */
export class Reader {
  pos: number;
  bad: string | null = null;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: string): void {
    if (this.bad === null) this.bad = reason;
    this.pos = this.end;
  }

  private need(n: number): boolean {
    if (this.bad !== null) return false;
    if (this.end - this.pos < n) {
      this.fail('not enough data');
      return false;
    }
    return true;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int8(): number {
    if (!this.need(1)) return 0;
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    if (!this.need(2)) return 0;
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    if (!this.need(2)) return 0;
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    if (!this.need(4)) return 0;
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    if (!this.need(4)) return 0;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int64 as a JavaScript number: exact for every offset, timestamp and id this broker uses (< 2^53). */
  int64(): number {
    if (!this.need(8)) return 0;
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  float64(): number {
    if (!this.need(8)) return 0;
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  uuid(): Buffer {
    if (!this.need(16)) return ZERO_UUID;
    const v = this.buf.subarray(this.pos, this.pos + 16);
    this.pos += 16;
    return v;
  }

  /** Unsigned varint up to 32 bits (lengths, tags, counts). */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    while (true) {
      if (!this.need(1)) return 0;
      const b = this.buf[this.pos++]!;
      if (shift === 28 && b > 0x0f) {
        this.fail('varint overflow');
        return 0;
      }
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }

  /** Length of a string/bytes/array: -1 for null; checked against the bytes left. */
  private length(compact: boolean, wide: boolean, minItemBytes: number): number {
    let n: number;
    if (compact) n = this.uvarint() - 1;
    else n = wide ? this.int32() : this.int16();
    if (this.bad !== null) return -1;
    if (n < -1) {
      this.fail('negative length');
      return -1;
    }
    if (n > 0 && n * minItemBytes > this.end - this.pos) {
      this.fail('length exceeds remaining bytes');
      return -1;
    }
    return n;
  }

  nullableString(compact: boolean): string | null {
    const n = this.length(compact, false, 1);
    if (n < 0) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  string(compact: boolean): string {
    const s = this.nullableString(compact);
    if (s === null) {
      if (this.bad === null) this.fail('null in non-nullable string');
      return '';
    }
    return s;
  }

  /** A view into the frame (no copy); null when the length is -1. */
  nullableBytes(compact: boolean): Buffer | null {
    const n = this.length(compact, true, 1);
    if (n < 0) return null;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  bytes(compact: boolean): Buffer {
    const b = this.nullableBytes(compact);
    if (b === null) {
      if (this.bad === null) this.fail('null in non-nullable bytes');
      return EMPTY;
    }
    return b;
  }

  /** Array element count; -1 for null. Each element takes at least one byte on the wire. */
  arrayLength(compact: boolean): number {
    return this.length(compact, true, 1);
  }

  skip(n: number): void {
    if (!this.need(n)) return;
    this.pos += n;
  }
}

const EMPTY = Buffer.alloc(0);
export const ZERO_UUID = Buffer.alloc(16);

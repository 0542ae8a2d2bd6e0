/**
 * Kafka's variable-length integers (protobuf style: 7 bits per byte, little end first,
 * high bit = more) with zigzag sign folding. `varint` is 32-bit, `varlong` 64-bit; the
 * varlong is kept in a JavaScript number, exact up to 2^53, which covers every timestamp
 * delta and offset this broker produces.
 */

/** Zigzag-encoded size in bytes of a signed 32-bit value. */
export function varintSize(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function varlongSize(value: number): number {
  let v = zigzag64(value);
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  let v = zigzag64(value);
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/**
 * A cursor over a buffer for varint-heavy decoding. Reads past the end set a sticky
 * `bad` flag instead of throwing on every read (franz-go's kbin reader, STYLE.md anchor 1):
 * the caller decodes straight through and checks once.
 */
export class VarintReader {
  pos: number;
  bad = false;

  constructor(
    readonly buf: Buffer,
    pos: number,
    readonly end: number,
  ) {
    this.pos = pos;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    const { buf, end } = this;
    for (;;) {
      if (this.pos >= end || shift > 28) {
        this.bad = true;
        return 0;
      }
      const b = buf[this.pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return (result >>> 1) ^ -(result & 1);
  }

  varlong(): number {
    let result = 0;
    let mul = 1;
    const { buf, end } = this;
    for (;;) {
      if (this.pos >= end || mul > 2 ** 63) {
        this.bad = true;
        return 0;
      }
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  int8(): number {
    if (this.pos + 1 > this.end) {
      this.bad = true;
      return 0;
    }
    return this.buf.readInt8(this.pos++);
  }

  /** `len` bytes as a view (no copy); null for a negative length (Kafka's null bytes). */
  bytes(len: number): Buffer | null {
    if (len < 0) return null;
    if (this.pos + len > this.end) {
      this.bad = true;
      this.pos = this.end;
      return null;
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

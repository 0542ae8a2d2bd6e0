/**
 * Writes Kafka primitives into a Buffer whose exact size was computed beforehand (the schema
 * codec sizes a message first, then allocates once). One Writer is reused per connection:
 * `reset` points it at the next frame's Buffer, so no per-field Buffers are created.
 */
export class Writer {
  buf: Buffer = EMPTY;
  pos = 0;
  /**
   * Splicing (Fetch responses): Buffers at least this long are not copied; the frame becomes a
   * list of segments that alternates our bytes with the spliced Buffers (stored record batches),
   * written to the socket in order. Infinity = copy everything.
   */
  spliceMin = Infinity;
  private segments: Buffer[] | null = null;
  private segStart = 0;

  reset(buf: Buffer, pos = 0): this {
    this.buf = buf;
    this.pos = pos;
    this.segments = null;
    this.segStart = pos;
    return this;
  }

  /** Copies `v`, or splices it in when it is at least `spliceMin` long. */
  rawOrSplice(v: Buffer): void {
    if (v.length < this.spliceMin) {
      this.raw(v);
      return;
    }
    this.segments ??= [];
    if (this.pos > this.segStart) this.segments.push(this.buf.subarray(this.segStart, this.pos));
    this.segments.push(v);
    this.segStart = this.pos;
  }

  /** The frame: the buffer alone, or its segments around the spliced Buffers. */
  finish(): Buffer | Buffer[] {
    if (this.segments === null) return this.buf;
    if (this.pos > this.segStart) this.segments.push(this.buf.subarray(this.segStart, this.pos));
    const out = this.segments;
    this.segments = null;
    return out;
  }

  bool(v: boolean): void {
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int8(v: number): void {
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  int16(v: number): void {
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  uint16(v: number): void {
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  uint32(v: number): void {
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(v: number): void {
    const hi = Math.floor(v / 0x1_0000_0000);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * 0x1_0000_0000, this.pos + 4);
    this.pos += 8;
  }

  float64(v: number): void {
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  uuid(v: Buffer): void {
    v.copy(this.buf, this.pos, 0, 16);
    this.pos += 16;
  }

  uvarint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** Length prefix: compact = uvarint(n + 1), else int16 (strings) or int32 (bytes, arrays). */
  length(n: number, compact: boolean, wide: boolean): void {
    if (compact) this.uvarint(n + 1);
    else if (wide) this.int32(n);
    else this.int16(n);
  }

  /** A string whose UTF-8 byte length the caller already knows (from the sizing pass). */
  string(v: string | null, byteLength: number, compact: boolean): void {
    if (v === null) {
      this.length(-1, compact, false);
      return;
    }
    this.length(byteLength, compact, false);
    this.pos += this.buf.write(v, this.pos, byteLength, 'utf8');
  }

  bytes(v: Buffer | null, compact: boolean): void {
    if (v === null) {
      this.length(-1, compact, true);
      return;
    }
    this.length(v.length, compact, true);
    this.raw(v);
  }

  raw(v: Buffer): void {
    v.copy(this.buf, this.pos);
    this.pos += v.length;
  }
}

export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes taken by a length prefix. */
export function lengthSize(n: number, compact: boolean, wide: boolean): number {
  if (compact) return uvarintSize(n + 1);
  return wide ? 4 : 2;
}

const EMPTY = Buffer.alloc(0);

/**
 * An append-only output slab owned by one connection. Frames are encoded straight into it
 * (callers `ensure` the exact size first, so primitive writes never check bounds), and
 * `take()` hands the bytes written since the last take to the socket as one view: one
 * socket write per tick, no per-frame Buffer. Bytes already taken are never overwritten;
 * when the slab runs out a new one is allocated and only the pending tail is copied.
 */
export class Writer {
  buf: Buffer;
  pos = 0;
  private start = 0;

  /**
   * `spill`, when given, receives the pending bytes whenever the slab is full, instead of them
   * being copied to the next slab. Callers only `ensure` between frames, so a spill never
   * splits a frame.
   */
  constructor(
    private readonly slabSize = 64 * 1024,
    private readonly spill?: (bytes: Buffer) => void,
  ) {
    this.buf = Buffer.allocUnsafe(slabSize);
  }

  get pending(): number {
    return this.pos - this.start;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.spill && this.pos > this.start) this.spill(this.take());
    const pending = this.pos - this.start;
    // Geometric growth keeps a large pending run (no spill) from being copied again and again.
    const next = Buffer.allocUnsafe(Math.max(this.slabSize, pending + n, pending > 0 ? 2 * (pending + n) : 0));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
  }

  /** The bytes written since the last take (a view; valid forever, the slab is not reused). */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    return out;
  }

  octet(v: number): void {
    this.buf[this.pos++] = v;
  }

  short(v: number): void {
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  long(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  longlong(v: number): void {
    this.buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000) >>> 0, this.pos);
    this.buf.writeUInt32BE(v >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** `len` is the precomputed byte length of `s`. */
  shortstr(s: string, len: number): void {
    this.buf[this.pos++] = len;
    if (len) this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  longstr(b: Buffer): void {
    this.long(b.length);
    this.bytes(b);
  }

  bytes(b: Buffer): void {
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
}

/** Byte length of a shortstr's content; throws if it cannot be one. */
export function shortstrLength(s: string): number {
  const n = s.length < 86 && isAscii(s) ? s.length : Buffer.byteLength(s, 'utf8');
  if (n > 255) throw new RangeError(`shortstr longer than 255 bytes (${n})`);
  return n;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

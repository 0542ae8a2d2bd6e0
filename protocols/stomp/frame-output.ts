/**
 * The bytes a connection will write on its next flush. Frames are appended into a region that
 * is handed to the socket as one slice per flush (a bump allocator: the next frames go after
 * it, never over bytes already handed out), so a burst of deliveries costs one write and almost
 * no allocation. Large bodies are not copied: the region is sealed and the body Buffer itself
 * becomes the next piece (ws's Sender does the same with cork/uncork).
 *
 * Busy connections get 64 KiB regions; a connection whose last flush was small keeps none (its
 * next frame takes a small one from Node's shared pool), so idle connections cost no buffer.
 */
const BUSY_CHUNK_BYTES = 64 * 1024;
const QUIET_CHUNK_BYTES = 2 * 1024;
const QUIET_FLUSH_BYTES = 4 * 1024;
const COPY_LIMIT = 8 * 1024;
const EMPTY = Buffer.alloc(0);

export class FrameOutput {
  private chunk: Buffer = EMPTY;
  private chunkBytes = QUIET_CHUNK_BYTES;
  /** Start of the bytes not yet handed out, and the write position. */
  private start = 0;
  private pos = 0;
  private pieces: Buffer[] = [];
  private piecesBytes = 0;

  get pendingBytes(): number {
    return this.piecesBytes + (this.pos - this.start);
  }

  /** Makes room for `n` more bytes in the current region. */
  private ensure(n: number): void {
    if (this.chunk.length - this.pos >= n) return;
    this.seal();
    this.chunk = Buffer.allocUnsafe(Math.max(this.chunkBytes, n));
    this.start = 0;
    this.pos = 0;
  }

  private seal(): void {
    if (this.pos > this.start) {
      this.pieces.push(this.chunk.subarray(this.start, this.pos));
      this.piecesBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  bytes(b: Buffer): void {
    if (b.length >= COPY_LIMIT) {
      this.seal();
      this.pieces.push(b);
      this.piecesBytes += b.length;
      return;
    }
    this.ensure(b.length);
    this.pos += b.copy(this.chunk, this.pos);
  }

  byte(b: number): void {
    this.ensure(1);
    this.chunk[this.pos++] = b;
  }

  /** Text known to be ASCII (header names, numbers, ids). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.chunk.write(s, this.pos, 'latin1');
  }

  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.chunk.write(s, this.pos, 'utf8');
  }

  /** A non-negative integer in decimal, without building a string. */
  decimal(n: number): void {
    if (n < 10) {
      this.byte(0x30 + n);
      return;
    }
    this.ensure(16);
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let x = n; ; ) {
      this.chunk[--p] = 0x30 + (x % 10);
      x = Math.floor(x / 10);
      if (x === 0) break;
    }
  }

  /** Hands out everything appended since the last call, in order. */
  take(): Buffer[] {
    this.seal();
    const pieces = this.pieces;
    const flushed = this.piecesBytes;
    this.pieces = [];
    this.piecesBytes = 0;
    this.chunkBytes = flushed < QUIET_FLUSH_BYTES ? QUIET_CHUNK_BYTES : BUSY_CHUNK_BYTES;
    if (flushed < QUIET_FLUSH_BYTES || this.chunk.length - this.pos < 512) {
      this.chunk = EMPTY;
      this.start = 0;
      this.pos = 0;
    }
    return pieces;
  }
}

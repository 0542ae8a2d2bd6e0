/**
 * Cuts a byte stream into size-prefixed Kafka frames. Chunks are kept in a list and a frame is
 * a view into its chunk when it lies in one, one copy when it spans several (ws's Receiver).
 * The size is checked against the limit as soon as its 4 bytes are known, before buffering.
 * Produce requests (API key 0) that span chunks are joined into `requestBuffers` when given.
 */
import { POOLED_REQUEST_BYTES, type RequestBuffers } from './request-buffers.js';

const PRODUCE = 0;

export class FrameTooLargeError extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(`request of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly requestBuffers: RequestBuffers | null = null,
  ) {}

  /** Adds a chunk and returns every complete frame (without its size prefix). */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    while (this.buffered >= 4) {
      const size = this.peekSize();
      if (size < 0 || size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes);
      if (this.buffered < 4 + size) break;
      this.consume(4);
      frames.push(this.consume(size));
    }
    return frames;
  }

  private peekSize(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.chunks, 4);
    return head.readInt32BE(0);
  }

  private consume(n: number): Buffer {
    const first = this.chunks[0]!;
    this.buffered -= n;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const out = this.requestBuffers !== null && n <= POOLED_REQUEST_BYTES && first.length >= 2 && first.readInt16BE(0) === PRODUCE ? this.requestBuffers.take(n) : Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, take);
      filled += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    return out;
  }
}

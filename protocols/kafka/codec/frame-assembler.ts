/**
 * Cuts a byte stream into size-prefixed Kafka frames when the bytes arrive in memory that is
 * overwritten by the next read (direct-socket-reads.ts). Every frame gets a Buffer of its own
 * and each byte is copied at most once; the rest of a large frame can be read straight into it
 * (`directTarget`), so a producer's 1 MB request is not copied in user space at all. Produce
 * requests (API key 0) of at least POOL_MIN_BYTES go into the reused request buffers
 * (request-buffers.ts); other frames into fresh Buffers. The size is checked against the limit
 * as soon as its 4 bytes are known, before anything is buffered. A frame larger than a pooled
 * buffer is not allocated on its size prefix alone (a client could announce 100 MB on many
 * connections and send nothing): its bytes are kept as they arrive and joined at the end.
 */
import { FrameTooLargeError } from './frame-splitter.js';
import { POOLED_REQUEST_BYTES, type RequestBuffers } from './request-buffers.js';

const PRODUCE = 0;
/**
 * Smaller produce requests get a fresh Buffer: a pooled one is 1 MiB, and a client may keep
 * many small requests in flight (acks=all holds each until its fsync).
 */
const POOL_MIN_BYTES = 32 * 1024;
/** A frame still missing at least this much is read into directly; less comes with the next staging read. */
const DIRECT_MIN_BYTES = 4 * 1024;

export class FrameAssembler {
  /** The frame being filled, or null between frames. */
  private frame: Buffer | null = null;
  private filled = 0;
  /** A frame too large to allocate up front: its bytes so far, joined when complete. */
  private parts: Buffer[] | null = null;
  private partsSize = 0;
  /** The size prefix and API key when they span reads. */
  private readonly head = Buffer.alloc(6);
  private headFill = 0;
  /** Where in `frame` the last `directTarget()` began (-1: none named since). */
  private directFrom = -1;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly requestBuffers: RequestBuffers | null = null,
  ) {}

  /** Copies `chunk` (which the caller reuses after this call) into frames; returns the completed ones. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      const frame = this.frame;
      if (this.parts !== null) {
        const take = Math.min(this.partsSize - this.filled, end - pos);
        this.parts.push(Buffer.from(chunk.subarray(pos, pos + take)));
        this.filled += take;
        pos += take;
        if (this.filled === this.partsSize) {
          out.push(Buffer.concat(this.parts, this.partsSize));
          this.parts = null;
          this.filled = 0;
        }
      } else if (frame !== null) {
        const take = Math.min(frame.length - this.filled, end - pos);
        chunk.copy(frame, this.filled, pos, pos + take);
        this.filled += take;
        pos += take;
        if (this.filled === frame.length) this.complete(out);
      } else if (this.headFill === 0 && end - pos >= 6) {
        const size = chunk.readInt32BE(pos);
        this.begin(size, size >= 2 ? chunk.readInt16BE(pos + 4) : -1, out);
        pos += 4;
      } else {
        // The size prefix or the API key spans two reads.
        this.head[this.headFill++] = chunk[pos++]!;
        if (this.headFill === 4) {
          const size = this.head.readInt32BE(0);
          this.check(size);
          if (size < 2) {
            this.headFill = 0;
            this.begin(size, -1, out);
          }
        } else if (this.headFill === 6) {
          this.headFill = 0;
          this.begin(this.head.readInt32BE(0), this.head.readInt16BE(4), out);
          // (begin() may have set `parts`: TypeScript's narrowing above does not know.)
          const parts = this.parts as Buffer[] | null;
          if (parts !== null) parts.push(Buffer.from(this.head.subarray(4, 6)));
          else this.head.copy(this.frame!, 0, 4, 6);
          this.filled = 2;
          if (this.frame !== null && this.filled === this.frame.length) this.complete(out);
        }
      }
    }
    return out;
  }

  /** Where the next read may go directly (the rest of a large frame), or null for a staging read. */
  directTarget(): Buffer | null {
    const frame = this.frame;
    if (frame === null || frame.length - this.filled < DIRECT_MIN_BYTES) {
      this.directFrom = -1;
      return null;
    }
    this.directFrom = this.filled;
    return frame.subarray(this.filled);
  }

  /** `n` bytes were read into the last `directTarget()`; returns the frame if that completed it. */
  directFilled(n: number): Buffer[] {
    const frame = this.frame;
    // A push() since the target was named would make its bytes land in the wrong place.
    if (frame === null || this.directFrom !== this.filled || this.filled + n > frame.length) throw new Error('direct read not where the frame continues');
    this.directFrom = -1;
    this.filled += n;
    const out: Buffer[] = [];
    if (this.filled === frame.length) this.complete(out);
    return out;
  }

  private check(size: number): void {
    if (size < 0 || size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes);
  }

  private begin(size: number, apiKey: number, out: Buffer[]): void {
    this.check(size);
    this.filled = 0;
    if (size > POOLED_REQUEST_BYTES) {
      this.parts = [];
      this.partsSize = size;
      return;
    }
    const pooled = this.requestBuffers !== null && apiKey === PRODUCE && size >= POOL_MIN_BYTES && size <= POOLED_REQUEST_BYTES;
    this.frame = pooled ? this.requestBuffers!.take(size) : Buffer.allocUnsafe(size);
    if (size === 0) this.complete(out);
  }

  private complete(out: Buffer[]): void {
    out.push(this.frame!);
    this.frame = null;
    this.filled = 0;
  }
}

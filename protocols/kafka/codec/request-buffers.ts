/**
 * Reused buffers for Produce requests that arrive in several socket chunks (a producer's
 * 1 MB request comes as ~16 reads of 64 KiB and must be joined before it is decoded).
 * Fresh memory costs a page fault per 4 KiB: in a kcat produce profile joining into new
 * Buffers cost ten times the memcpy into warm ones, plus the garbage collections the external
 * memory triggered. A buffer goes back to the pool only when the produce handler says nothing
 * kept a view of it (the core stores copies of batches up to 1 MiB; see ProduceResult).
 */
export const POOLED_REQUEST_BYTES = 1024 * 1024 + 64 * 1024;
const FREE_MAX = 16;

export class RequestBuffers {
  private readonly free: Buffer[] = [];
  private readonly owned = new WeakSet<ArrayBufferLike>();

  /** A buffer of `size` bytes (at most POOLED_REQUEST_BYTES) from the pool, or a fresh one. */
  take(size: number): Buffer {
    let buf = this.free.pop();
    if (buf === undefined) {
      buf = Buffer.allocUnsafeSlow(POOLED_REQUEST_BYTES);
      this.owned.add(buf.buffer);
    }
    return buf.subarray(0, size);
  }

  /** Whether `frame` is a view of one of the pool's buffers. */
  owns(frame: Buffer): boolean {
    return this.owned.has(frame.buffer);
  }

  /** Returns the buffer behind `frame`: the caller guarantees that nothing references it any more. */
  release(frame: Buffer): void {
    if (!this.owns(frame) || this.free.length >= FREE_MAX) return;
    this.free.push(Buffer.from(frame.buffer, 0, POOLED_REQUEST_BYTES));
  }
}

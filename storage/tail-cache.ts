/**
 * The most recent batches by entry position, bounded by bytes and evicted oldest first:
 * consumers that keep up with producers are served from memory (`readCached`), everyone
 * else reads from disk.
 *
 * Batches are copied into a ring of 1 MiB chunks owned by the cache. Keeping the producer's
 * Buffers instead would retain whatever they are views of (a 64 KiB socket chunk behind a
 * 100-byte batch), so the bound would not hold. A chunk is never overwritten, only dropped. Each entry is one number in a Map
 * (slot, offset and length packed), and a Buffer view is made only when it is read: no
 * object per cached batch. Batches larger than a chunk are kept by reference.
 * Eviction order is a FIFO of positions: re-iterating a Map from its start after deleting
 * its head walks every tombstone, which profiled at 78% of append time.
 */
const CHUNK_BYTES = 1024 * 1024;
const OFFSET_BITS = 2 ** 21; // offset within a chunk and length both < 2^21
const SLOT_MUL = OFFSET_BITS * OFFSET_BITS; // slot * 2^42 stays below 2^53 for 2^11 slots
const MAX_SLOTS = 2048;

export class TailCache {
  /** position -> slot * 2^42 + offset * 2^21 + length */
  private readonly packed = new Map<number, number>();
  private readonly big = new Map<number, Buffer>();
  private fifo: number[] = [];
  private head = 0;
  private bytes = 0;
  private readonly chunks: Buffer[] = [];
  /** Slot of each ring position, oldest first; the last is being filled. */
  private readonly ring: number[] = [];
  private used = CHUNK_BYTES;
  private readonly maxChunks: number;

  constructor(private readonly maxBytes: number) {
    this.maxChunks = Math.min(MAX_SLOTS, Math.floor(maxBytes / CHUNK_BYTES));
  }

  put(position: number, batch: Buffer): void {
    if (this.maxChunks < 1) return;
    if (batch.length > CHUNK_BYTES) {
      this.big.set(position, batch);
    } else {
      if (this.used + batch.length > CHUNK_BYTES) this.nextChunk();
      const slot = this.ring[this.ring.length - 1]!;
      this.chunks[slot]!.set(batch, this.used);
      this.packed.set(position, slot * SLOT_MUL + this.used * OFFSET_BITS + batch.length);
      this.used += batch.length;
    }
    this.fifo.push(position);
    this.bytes += batch.length;
    while (this.bytes > this.maxBytes && this.head < this.fifo.length) this.evictOne();
  }

  /** Starts filling another chunk, recycling the oldest one (evicting its entries) at the bound. */
  private nextChunk(): void {
    if (this.chunks.length < this.maxChunks) {
      this.chunks.push(Buffer.allocUnsafeSlow(CHUNK_BYTES));
      this.ring.push(this.chunks.length - 1);
    } else {
      const slot = this.ring.shift()!;
      // Entries of the oldest chunk precede every entry of newer chunks in the FIFO.
      while (this.head < this.fifo.length) {
        const v = this.packed.get(this.fifo[this.head]!);
        if (v !== undefined && Math.floor(v / SLOT_MUL) !== slot) break;
        this.evictOne();
      }
      // A fresh chunk, not the old one overwritten: views handed to readers (maybe queued on
      // a slow socket) keep the old bytes alive and unchanged until they are dropped.
      this.chunks[slot] = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.ring.push(slot);
    }
    this.used = 0;
  }

  private evictOne(): void {
    const pos = this.fifo[this.head++]!;
    const v = this.packed.get(pos);
    if (v !== undefined) {
      this.packed.delete(pos);
      this.bytes -= v % OFFSET_BITS;
    } else {
      const b = this.big.get(pos);
      if (b !== undefined) {
        this.big.delete(pos);
        this.bytes -= b.length;
      }
    }
    if (this.head > 4096 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
  }

  get(position: number): Buffer | undefined {
    const v = this.packed.get(position);
    if (v === undefined) return this.big.get(position);
    const slot = Math.floor(v / SLOT_MUL);
    const rest = v - slot * SLOT_MUL;
    const offset = Math.floor(rest / OFFSET_BITS);
    return this.chunks[slot]!.subarray(offset, offset + (rest % OFFSET_BITS));
  }

  /** Drops entries below `position` (their segment was deleted). */
  dropBefore(position: number): void {
    while (this.head < this.fifo.length && this.fifo[this.head]! < position) this.evictOne();
  }

  get size(): number {
    return this.bytes;
  }
}

/**
 * The most recent batches by entry position, bounded by bytes and evicted oldest first:
 * consumers that keep up with producers are served from memory (`get`), everyone else reads
 * from disk.
 *
 * Batches are copied into a ring of 1 MiB chunks that is allocated once and then reused:
 * fresh memory costs a page fault per 4 KiB, and in a 1 KiB-record produce profile fresh
 * chunks (and the garbage collections they triggered) cost ten times the copy itself. Because
 * a chunk is overwritten when the ring wraps, `get` returns a copy, never a view. Keeping the
 * producer's Buffers instead would retain whatever they are views of (a socket chunk, or a
 * request buffer the Kafka adapter reuses). Entries arrive in position order, so the index is
 * three typed arrays (position, chunk location, length) searched by bisection: no object and
 * no Map entry per batch (a Map cost 25% of a 100-byte append, profiled). Batches larger than
 * a chunk are kept by reference.
 */
const CHUNK_BYTES = 1024 * 1024;
const SLOT_MUL = 2 ** 21; // location = slot * 2^21 + offset within the chunk (< 2^20)
const BIG = -1;

export class TailCache {
  private pos = new Float64Array(1024);
  private loc = new Float64Array(1024);
  private len = new Int32Array(1024);
  private head = 0;
  private tail = 0;
  private readonly big = new Map<number, Buffer>();
  private bytes = 0;
  private readonly chunks: Buffer[] = [];
  /** Chunk slots, oldest first; the last is being filled. */
  private readonly ring: number[] = [];
  private used = CHUNK_BYTES;
  private readonly maxChunks: number;

  constructor(private readonly maxBytes: number) {
    this.maxChunks = Math.floor(maxBytes / CHUNK_BYTES);
  }

  put(position: number, batch: Buffer): void {
    if (this.maxChunks < 1) return;
    // Make room in the chunks first: that may evict, and must not see this entry half-made.
    const small = batch.length <= CHUNK_BYTES;
    if (small && this.used + batch.length > CHUNK_BYTES) this.nextChunk();
    if (this.tail === this.pos.length) this.makeRoom();
    const i = this.tail++;
    this.pos[i] = position;
    if (!small) {
      this.big.set(position, batch);
      this.len[i] = BIG;
    } else {
      const slot = this.ring[this.ring.length - 1]!;
      this.chunks[slot]!.set(batch, this.used);
      this.loc[i] = slot * SLOT_MUL + this.used;
      this.len[i] = batch.length;
      this.used += batch.length;
    }
    this.bytes += batch.length;
    while (this.bytes > this.maxBytes && this.head < this.tail) this.evictOne();
  }

  private makeRoom(): void {
    const live = this.tail - this.head;
    if (this.head > 0 && live <= this.pos.length / 2) {
      this.pos.copyWithin(0, this.head, this.tail);
      this.loc.copyWithin(0, this.head, this.tail);
      this.len.copyWithin(0, this.head, this.tail);
    } else {
      const size = this.pos.length * 2;
      const pos = new Float64Array(size);
      const loc = new Float64Array(size);
      const len = new Int32Array(size);
      pos.set(this.pos.subarray(this.head, this.tail));
      loc.set(this.loc.subarray(this.head, this.tail));
      len.set(this.len.subarray(this.head, this.tail));
      this.pos = pos;
      this.loc = loc;
      this.len = len;
    }
    this.head = 0;
    this.tail = live;
  }

  /** Starts filling another chunk, dropping the oldest one (and its entries) at the bound. */
  private nextChunk(): void {
    if (this.chunks.length < this.maxChunks) {
      this.chunks.push(Buffer.allocUnsafeSlow(CHUNK_BYTES));
      this.ring.push(this.chunks.length - 1);
    } else {
      const slot = this.ring.shift()!;
      // Entries of the oldest chunk precede every entry of newer chunks.
      while (this.head < this.tail) {
        const l = this.len[this.head]!;
        if (l !== BIG && Math.floor(this.loc[this.head]! / SLOT_MUL) !== slot) break;
        this.evictOne();
      }
      // Reused: readers got copies, so nobody holds a view of it.
      this.ring.push(slot);
    }
    this.used = 0;
  }

  private evictOne(): void {
    const i = this.head++;
    const l = this.len[i]!;
    if (l === BIG) {
      const p = this.pos[i]!;
      this.bytes -= this.big.get(p)!.length;
      this.big.delete(p);
    } else {
      this.bytes -= l;
    }
  }

  /** A copy of the batch at `position` (the chunk it lives in is reused later), if cached. */
  get(position: number): Buffer | undefined {
    let lo = this.head;
    let hi = this.tail - 1;
    const pos = this.pos;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = pos[mid]!;
      if (p < position) lo = mid + 1;
      else if (p > position) hi = mid - 1;
      else {
        const l = this.len[mid]!;
        if (l === BIG) return this.big.get(position);
        const v = this.loc[mid]!;
        const slot = Math.floor(v / SLOT_MUL);
        const offset = v - slot * SLOT_MUL;
        return Buffer.from(this.chunks[slot]!.subarray(offset, offset + l));
      }
    }
    return undefined;
  }

  /** Drops entries below `position` (their segment was deleted). */
  dropBefore(position: number): void {
    while (this.head < this.tail && this.pos[this.head]! < position) this.evictOne();
  }

  get size(): number {
    return this.bytes;
  }
}

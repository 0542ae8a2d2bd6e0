/**
 * The most recent batches by entry position, bounded by bytes and evicted oldest first:
 * consumers that keep up with producers are served from memory (`readCached`), everyone
 * else reads from disk.
 *
 * Batches are copied into 1 MiB chunks owned by the cache. Keeping the producer's Buffers
 * instead would retain whatever they are views of (a 64 KiB socket chunk behind a 100-byte
 * batch), so the bound would not hold. A chunk is never overwritten, only dropped, so a
 * view handed to a reader stays valid. Entries arrive in position order, so the index is
 * three typed arrays (position, chunk location, length) searched by bisection: no object
 * and no Map entry per batch (a Map cost 25% of a 100-byte append, profiled). Batches
 * larger than a chunk are kept by reference, and so are batches of at least 16 KiB that fill
 * most of the memory behind them (a produce request's own buffer): copying those bought no
 * bound and cost a tenth of the broker's CPU in a 1 KiB-record produce profile (the copy, and
 * the garbage collections its fresh chunks triggered).
 */
const CHUNK_BYTES = 1024 * 1024;
const SLOT_MUL = 2 ** 21; // location = slot * 2^21 + offset within the chunk (< 2^20)
const BIG = -1;
const SHARE_MIN_BYTES = 16 * 1024;

/** Kept by reference: retaining it retains little besides its own bytes. */
function shareable(batch: Buffer): boolean {
  return batch.length > CHUNK_BYTES || (batch.length >= SHARE_MIN_BYTES && batch.length * 2 >= batch.buffer.byteLength);
}

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
    const small = !shareable(batch);
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
      this.chunks[slot] = Buffer.allocUnsafeSlow(CHUNK_BYTES);
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
        return this.chunks[slot]!.subarray(offset, offset + l);
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

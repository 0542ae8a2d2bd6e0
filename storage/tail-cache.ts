/**
 * The most recent batches by entry position, bounded by bytes and evicted oldest first:
 * consumers that keep up with producers are served from memory (`readCached`), everyone
 * else reads from disk. It holds the producer's own Buffers (no copy).
 */
export class TailCache {
  private readonly entries = new Map<number, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  put(position: number, batch: Buffer): void {
    if (this.maxBytes <= 0 || batch.length > this.maxBytes) return;
    this.entries.set(position, batch);
    this.bytes += batch.length;
    if (this.bytes > this.maxBytes) {
      for (const [pos, buf] of this.entries) {
        this.entries.delete(pos);
        this.bytes -= buf.length;
        if (this.bytes <= this.maxBytes) break;
      }
    }
  }

  get(position: number): Buffer | undefined {
    return this.entries.get(position);
  }

  /** Drops entries below `position` (their segment was deleted). */
  dropBefore(position: number): void {
    for (const [pos, buf] of this.entries) {
      if (pos >= position) break;
      this.entries.delete(pos);
      this.bytes -= buf.length;
    }
  }

  get size(): number {
    return this.bytes;
  }
}

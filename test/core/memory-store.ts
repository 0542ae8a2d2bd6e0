/**
 * An in-memory implementation of the storage contract (`storage/types.ts`), a test double
 * for core tests only. Its "disk" (`MemoryDisk`) outlives a store instance, so a test can
 * close a core, open a new store on the same disk and check recovery; `crashCopy()` clones
 * the disk as it is now, without anything a close would add (a SIGKILL-like restart).
 */
import type {
  AppendRequest,
  AppendResult,
  IndexUnit,
  MetaLog,
  RecoveryReport,
  RetentionPolicy,
  Store,
  StoredBatch,
  FilteredRead,
  KeyedEntry,
} from '../../storage/types.js';

interface Unit extends IndexUnit {
  baseOffset: number;
  batch: Buffer;
  released: boolean;
}

interface PartitionState {
  units: Unit[];
  start: number;
  end: number;
  policy: RetentionPolicy;
}

interface MetaState {
  snapshot: Buffer | null;
  records: Buffer[];
}

export class MemoryDisk {
  partitions = new Map<number, PartitionState>();
  metas = new Map<string, MetaState>();
  bytes = 0;
  position = 0;

  /** A deep-enough copy to restart from (buffers are immutable once stored). */
  crashCopy(): MemoryDisk {
    const d = new MemoryDisk();
    for (const [id, p] of this.partitions) d.partitions.set(id, { units: p.units.map((u) => ({ ...u })), start: p.start, end: p.end, policy: p.policy });
    for (const [n, m] of this.metas) d.metas.set(n, { snapshot: m.snapshot, records: [...m.records] });
    d.bytes = this.bytes;
    d.position = this.position;
    return d;
  }
}

const resolved = Promise.resolve();

class MemoryMetaLog implements MetaLog {
  constructor(private readonly state: MetaState) {}
  append(record: Buffer): Promise<void> {
    this.state.records.push(Buffer.from(record));
    return resolved;
  }
  snapshot(state: Buffer): Promise<void> {
    this.state.snapshot = Buffer.from(state);
    this.state.records = [];
    return resolved;
  }
  replay(): { snapshot: Buffer | null; records: Buffer[] } {
    return { snapshot: this.state.snapshot, records: [...this.state.records] };
  }
  get recordsSinceSnapshot(): number {
    return this.state.records.length;
  }
}

export class MemoryStore implements Store {
  appends = 0;
  closed = false;
  constructor(readonly disk: MemoryDisk = new MemoryDisk()) {}

  async open(): Promise<RecoveryReport> {
    return { segments: 0, entries: 0, truncatedBytes: 0, truncatedAt: null, indexUnitsRebuilt: 0, durationMs: 0 };
  }
  async close(): Promise<void> {
    this.closed = true;
  }

  private part(id: number): PartitionState {
    let p = this.disk.partitions.get(id);
    if (!p) {
      p = { units: [], start: 0, end: 0, policy: { kind: 'queue' } };
      this.disk.partitions.set(id, p);
    }
    return p;
  }

  setPolicy(partition: number, policy: RetentionPolicy): void {
    this.part(partition).policy = policy;
  }
  async dropPartition(partition: number): Promise<void> {
    const p = this.disk.partitions.get(partition);
    if (p) for (const u of p.units) this.disk.bytes -= u.released ? 0 : u.size;
    this.disk.partitions.delete(partition);
  }

  append(req: AppendRequest): AppendResult {
    if (this.closed) throw new Error('store closed');
    this.appends++;
    const position = this.disk.position;
    this.disk.position += req.batch.length;
    this.disk.bytes += req.batch.length;
    const baseOffsets: number[] = [];
    for (const t of req.targets) {
      const p = this.part(t.partition);
      baseOffsets.push(p.end);
      p.units.push({
        baseOffset: p.end,
        position,
        size: req.batch.length,
        timestamp: req.maxTimestamp,
        tagHash: t.tagHash ?? 0,
        recordCount: req.recordCount,
        batch: req.batch,
        released: false,
      });
      p.end += req.recordCount;
    }
    if (req.keys && req.keys.length > 0) {
      this.keyed.push({ keys: [...req.keys], entry: { position, timestamp: req.maxTimestamp, targets: req.targets.map((t, i) => ({ partition: t.partition, baseOffset: baseOffsets[i]! })), batch: req.batch } });
    }
    return { baseOffsets, position, durable: resolved };
  }

  /** Keyed entries of this store instance (not kept across restarts: the log store's index is). */
  private readonly keyed: { keys: string[]; entry: KeyedEntry }[] = [];
  async lookupKey(key: string, limit: number): Promise<KeyedEntry[]> {
    return this.keyed.filter((k) => k.keys.includes(key)).map((k) => k.entry).reverse().slice(0, limit);
  }
  setKeyExtractor(_extract: (batch: Buffer) => string[]): void {}

  endOffset(partition: number): number {
    return this.disk.partitions.get(partition)?.end ?? 0;
  }
  startOffset(partition: number): number {
    return this.disk.partitions.get(partition)?.start ?? 0;
  }
  private find(p: PartitionState, offset: number): number {
    let lo = 0;
    let hi = p.units.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = p.units[mid]!;
      if (offset < u.baseOffset) hi = mid - 1;
      else if (offset >= u.baseOffset + u.recordCount) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
  lookup(partition: number, offset: number): (IndexUnit & { baseOffset: number }) | null {
    const p = this.disk.partitions.get(partition);
    if (!p || offset < p.start || offset >= p.end) return null;
    const i = this.find(p, offset);
    if (i < 0) return null;
    const u = p.units[i]!;
    return { position: u.position, size: u.size, timestamp: u.timestamp, tagHash: u.tagHash, recordCount: u.recordCount, baseOffset: u.baseOffset };
  }
  offsetForTimestamp(partition: number, timestamp: number): number {
    const p = this.disk.partitions.get(partition);
    if (!p) return 0;
    for (const u of p.units) if (u.baseOffset + u.recordCount > p.start && u.timestamp >= timestamp) return Math.max(u.baseOffset, p.start);
    return p.end;
  }
  async read(partition: number, offset: number, maxBytes: number): Promise<StoredBatch[]> {
    const p = this.disk.partitions.get(partition);
    if (!p || offset >= p.end) return [];
    let i = this.find(p, Math.max(offset, p.start));
    if (i < 0) return [];
    const out: StoredBatch[] = [];
    let bytes = 0;
    for (; i < p.units.length; i++) {
      const u = p.units[i]!;
      if (out.length > 0 && bytes + u.size > maxBytes) break;
      out.push({ partition, baseOffset: u.baseOffset, recordCount: u.recordCount, timestamp: u.timestamp, tagHash: u.tagHash, position: u.position, batch: u.batch });
      bytes += u.size;
    }
    return out;
  }
  async readFiltered(partition: number, offset: number, maxBytes: number, acceptTag: (tagHash: number) => boolean): Promise<FilteredRead> {
    const p = this.disk.partitions.get(partition);
    if (!p || offset >= p.end) return { batches: [], nextOffset: Math.max(offset, p?.end ?? 0) };
    const all = await this.read(partition, offset, Number.MAX_SAFE_INTEGER);
    const batches: StoredBatch[] = [];
    let bytes = 0;
    let next = offset;
    for (const b of all) {
      if (acceptTag(b.tagHash)) {
        if (batches.length > 0 && bytes + b.batch.length > maxBytes) break;
        batches.push(b);
        bytes += b.batch.length;
      }
      next = b.baseOffset + b.recordCount;
    }
    return { batches, nextOffset: next };
  }
  readCached(partition: number, offset: number): StoredBatch | null {
    const p = this.disk.partitions.get(partition);
    if (!p || offset < p.start || offset >= p.end) return null;
    const i = this.find(p, offset);
    if (i < 0) return null;
    const u = p.units[i]!;
    return { partition, baseOffset: u.baseOffset, recordCount: u.recordCount, timestamp: u.timestamp, tagHash: u.tagHash, position: u.position, batch: u.batch };
  }
  release(partition: number, offset: number): void {
    const p = this.disk.partitions.get(partition);
    if (!p) return;
    const i = this.find(p, offset);
    if (i >= 0 && !p.units[i]!.released) {
      p.units[i]!.released = true;
      this.disk.bytes -= p.units[i]!.size;
    }
  }
  truncateBefore(partition: number, offset: number): void {
    const p = this.part(partition);
    if (offset > p.start) p.start = Math.min(offset, p.end);
    while (p.units.length > 0 && p.units[0]!.baseOffset + p.units[0]!.recordCount <= p.start) {
      const u = p.units.shift()!;
      if (!u.released) this.disk.bytes -= u.size;
    }
  }
  async compact(): Promise<null> {
    return null;
  }
  async reclaim(now = Date.now()): Promise<number> {
    let freed = 0;
    for (const [, p] of this.disk.partitions) {
      if (p.policy.kind !== 'stream') continue;
      const { retentionMs, retentionBytes } = p.policy;
      let total = p.units.reduce((s, u) => s + u.size, 0);
      while (p.units.length > 1) {
        const u = p.units[0]!;
        const old = retentionMs >= 0 && u.timestamp < now - retentionMs;
        const big = retentionBytes >= 0 && total > retentionBytes;
        if (!old && !big) break;
        p.units.shift();
        total -= u.size;
        freed += u.size;
        p.start = u.baseOffset + u.recordCount;
      }
    }
    return freed;
  }
  async metaLog(name: string): Promise<MetaLog> {
    let m = this.disk.metas.get(name);
    if (!m) {
      m = { snapshot: null, records: [] };
      this.disk.metas.set(name, m);
    }
    return new MemoryMetaLog(m);
  }
  diskBytes(): number {
    return this.disk.position;
  }
  readonly writable = true;
  whenWritable(): Promise<void> {
    return resolved;
  }
  flush(): Promise<void> {
    return resolved;
  }
}

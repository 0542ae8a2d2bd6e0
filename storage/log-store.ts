/**
 * The Store of storage/types.ts: one shared segmented commit log (commit-log.ts), the
 * per-partition indexes derived from it (partition-index.ts, segment-run.ts,
 * segment-index-file.ts), a tail cache for consumers that keep up (tail-cache.ts), reads
 * (partition-reader.ts), reclamation by per-segment live counts (reclaimer.ts) and internal
 * meta logs (meta-log.ts) — RocketMQ's DefaultMessageStore, STYLE.md anchor 8. This file
 * holds recovery on open and the append path.
 *
 * On disk, in `dir`:
 *   <20-digit base position>.log   commit-log segments (entry-format.ts)
 *   <20-digit base position>.idx   index of a sealed segment (segment-index-file.ts)
 *   meta/<name>.snap, meta/<name>.<generation>.log   internal logs (meta-log.ts)
 *
 * File descriptors: one write fd for the active segment, plus read fds for segments and
 * index files in a bounded LRU (fd-cache.ts). Partitions own no files, so 100,000
 * partitions cost memory for their summaries, not descriptors.
 */
import { mkdir, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { CommitLog } from './commit-log.js';
import { Compactor } from './compactor.js';
import {
  checkEntry,
  entryBatch,
  ENTRY_FIXED_BYTES,
  entryHeaderBytes,
  readEntryHeader,
  targetBaseOffset,
  targetPartition,
  targetTagHash,
  writeEntryHeader,
} from './entry-format.js';
import { FdCache } from './fd-cache.js';
import { MessageKeyIndex } from './message-key-index.js';
import { MetaLogFile } from './meta-log.js';
import { PartitionIndex } from './partition-index.js';
import { PartitionReader } from './partition-reader.js';
import { Reclaimer } from './reclaimer.js';
import { scanSegmentFile } from './recovery.js';
import { loadSegmentIndex, sealedRun, writeSegmentIndex } from './segment-index-file.js';
import { SegmentRun } from './segment-run.js';
import { parseSegmentName, Segment, SEGMENT_INDEX_SUFFIX } from './segment.js';
import { StartOffsets } from './start-offsets.js';
import { TailCache } from './tail-cache.js';
import { TimerStore } from './timer/index.js';
import type {
  FilteredRead,
  KeyedEntry,
  AppendRequest,
  AppendResult,
  CompactionReport,
  CompactOptions,
  DurabilityMode,
  IndexUnit,
  MetaLog,
  RecoveryReport,
  RetentionPolicy,
  Store,
  StoreOptions,
  StoredBatch,
  StoreTimerOptions,
} from './types.js';

const MiB = 1024 * 1024;
const INTERNAL_META = '__storage.start-offsets';

export class LogStore implements Store {
  private readonly partitions = new Map<number, PartitionIndex>();
  private readonly fds: FdCache;
  private readonly cache: TailCache;
  private readonly log: CommitLog;
  private readonly metaDir: string;
  private readonly metaLogs = new Map<string, MetaLogFile>();
  private readonly reader: PartitionReader;
  private readonly reclaimer: Reclaimer;
  private readonly compactor: Compactor;
  private readonly keyIndex: MessageKeyIndex;
  private keyExtractor: ((batch: Buffer) => string[]) | null = null;
  private sealing: Promise<void> = Promise.resolve();
  private readonly warn: (fields: Record<string, unknown>, msg: string) => void;
  private readonly durability: DurabilityMode;
  // Scratch space reused by every append (no allocation per call).
  private tPartitions = new Uint32Array(16);
  private tTags = new Uint32Array(16);
  private tOffsets = new Float64Array(16);
  private opened = false;
  private timerStore: TimerStore | null = null;

  constructor(private readonly options: StoreOptions) {
    this.warn = options.warn ?? (() => {});
    this.durability = options.durability;
    this.fds = new FdCache(options.maxOpenFiles ?? 256);
    this.cache = new TailCache(options.cacheBytes ?? 64 * MiB);
    this.metaDir = join(options.dir, 'meta');
    this.log = new CommitLog({
      dir: options.dir,
      segmentBytes: options.segmentBytes,
      durability: options.durability,
      intervalMs: options.intervalMs,
      maxPendingBytes: options.maxPendingBytes ?? 8 * MiB,
      fds: this.fds,
      onSealable: (seg) => this.seal(seg),
      onTiming: options.onTiming,
      onError: (err) => this.warn({ err: err.message }, 'commit log write failed; store is read-only'),
    });
    this.reader = new PartitionReader(this.partitions, this.fds, this.cache, this.log);
    this.reclaimer = new Reclaimer(
      this.partitions,
      this.log,
      this.fds,
      this.cache,
      (id) => this.partition(id),
      () => this.sealing,
      this.warn,
    );
    this.keyIndex = new MessageKeyIndex(options.dir, this.warn);
    this.compactor = new Compactor(options.dir, this.partitions, this.reader, this.log, this.fds, (run) => this.reclaimer.markDead(run), this.warn);
  }

  // ---------------------------------------------------------------- open / recovery

  async open(): Promise<RecoveryReport> {
    const started = performance.now();
    const { dir } = this.options;
    await mkdir(this.metaDir, { recursive: true });
    const files = await readdir(dir);
    const bases: number[] = [];
    for (const f of files) {
      const base = parseSegmentName(f);
      if (base !== null) bases.push(base);
      else if (f.endsWith(SEGMENT_INDEX_SUFFIX + '.tmp')) await rm(join(dir, f), { force: true });
    }
    bases.sort((a, b) => a - b);
    const report: RecoveryReport = {
      segments: bases.length,
      entries: 0,
      truncatedBytes: 0,
      truncatedAt: null,
      indexUnitsRebuilt: 0,
      durationMs: 0,
    };
    // Compacted partitions first: their runs come before the shared log's in offset order, and
    // the shared log's units below a partition's cleanEnd are superseded by them.
    for (const f of await this.compactor.load()) {
      if (f.run !== null) this.adoptRun(f.run);
      const p = this.partition(f.partition);
      if (f.cleanEnd > p.nextOffset) p.nextOffset = f.cleanEnd;
    }
    // Index files without a segment are leftovers of a deletion interrupted by a crash.
    const baseSet = new Set(bases);
    for (const f of files) {
      const m = /^(\d{20})\.idx$/.exec(f);
      if (m && !baseSet.has(Number(m[1]))) await rm(join(dir, f), { force: true });
    }

    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(dir, bases[i]!);
      const isLast = i === bases.length - 1;
      const fileLength = (await stat(seg.path)).size;
      const loaded = isLast ? null : await loadSegmentIndex(seg, fileLength);
      if (loaded !== null) {
        for (const row of loaded.runs) {
          if (row.endOffset <= this.compactor.cleanEnd(row.partition)) continue;
          this.adoptRun(sealedRun(seg, row));
        }
        seg.length = seg.writtenLength = loaded.fileLength;
        seg.sealed = true;
        report.entries += loaded.runs.reduce((n, r) => n + r.unitCount, 0);
        if (loaded.validLength < loaded.fileLength) {
          this.warn({ segment: seg.name, position: loaded.validLength }, 'segment has a corrupt entry; entries after it are skipped');
        }
        this.log.adopt(seg);
        continue;
      }
      const scan = await scanSegmentFile(seg.path, (buf, at, filePos, length) => {
        report.indexUnitsRebuilt += this.indexEntry(seg, buf, at, seg.base + filePos, length);
      });
      report.entries += scan.entries;
      let length = scan.fileLength;
      if (scan.problem !== null) {
        const torn = scan.problem.kind === 'short' || scan.problem.kind === 'zero';
        if (isLast || torn) {
          await truncate(seg.path, scan.validLength);
          const cut = scan.fileLength - scan.validLength;
          report.truncatedBytes += cut;
          report.truncatedAt ??= { segment: seg.name, position: scan.validLength };
          length = scan.validLength;
          this.warn(
            { segment: seg.name, position: scan.validLength, truncatedBytes: cut, problem: scan.problem.kind },
            'commit log tail truncated',
          );
        } else {
          this.warn(
            { segment: seg.name, position: scan.problem.position, problem: scan.problem.kind },
            'segment has a corrupt entry; entries after it are skipped',
          );
        }
      }
      seg.length = seg.writtenLength = length;
      this.log.adopt(seg);
      if (!isLast) {
        if (length === 0) {
          await this.reclaimer.deleteSegmentFiles(seg);
          this.log.segments.pop();
          continue;
        }
        await writeSegmentIndex(seg, length, scan.validLength);
      }
    }
    if (this.log.segments.length === 0) this.log.adopt(new Segment(dir, 0));

    const startLog = MetaLogFile.open(this.metaDir, INTERNAL_META, 'sync', this.warn);
    this.metaLogs.set(INTERNAL_META, startLog);
    const startOffsets = new StartOffsets(startLog);
    this.reclaimer.startOffsets = startOffsets;
    for (const [id, floor] of startOffsets.nextFloor) {
      const p = this.partition(id);
      p.nextOffset = Math.max(p.nextOffset, floor);
    }
    for (const p of this.partitions.values()) {
      p.startOffset = p.runs.length > 0 ? p.runs[0]!.firstOffset : p.nextOffset;
    }
    for (const [id, start] of startOffsets.start) {
      const p = this.partition(id);
      this.reclaimer.moveStart(p, start);
      p.persistedStart = start;
    }

    await this.openKeyIndex();
    this.opened = true;
    report.segments = this.log.segments.length;
    report.durationMs = performance.now() - started;
    return report;
  }

  /** Loads the key index and indexes again the log past its checkpoint (derived data). */
  private async openKeyIndex(): Promise<void> {
    await this.keyIndex.open();
    const end = this.log.endPosition;
    this.keyIndex.clampTo(end);
    const from = this.keyIndex.checkpoint;
    const extract = this.keyExtractor;
    if (extract !== null && from < end) {
      for (const seg of this.log.segments) {
        if (seg.base + seg.length <= from) continue;
        await scanSegmentFile(seg.path, (buf, at, filePos, length) => {
          const position = seg.base + filePos;
          if (position < from || position + length > end) return;
          let keys: string[];
          try {
            keys = extract(entryBatch(buf, at));
          } catch {
            return;
          }
          if (keys.length > 0) this.keyIndex.add(keys, position, length, readEntryHeader(buf, at).maxTimestamp);
        });
      }
    }
    this.keyIndex.advance(end);
  }

  setKeyExtractor(extract: (batch: Buffer) => string[]): void {
    this.keyExtractor = extract;
  }

  async lookupKey(key: string, limit: number): Promise<KeyedEntry[]> {
    const out: KeyedEntry[] = [];
    for (const hit of this.keyIndex.lookup(key, limit)) {
      const seg = this.log.segments.find((s) => hit.position >= s.base && hit.position < s.base + s.length);
      if (seg === undefined || hit.position + ENTRY_FIXED_BYTES > seg.base + seg.length) continue; // reclaimed
      const head = await this.log.readAt(hit.position, ENTRY_FIXED_BYTES, seg);
      const length = head.readUInt32BE(0);
      if (length < ENTRY_FIXED_BYTES || hit.position + length > seg.base + seg.length) continue;
      const buf = await this.log.readAt(hit.position, length, seg);
      if (checkEntry(buf, 0, length) !== length) continue;
      const h = readEntryHeader(buf, 0);
      const targets: { partition: number; baseOffset: number }[] = [];
      for (let t = 0; t < h.targetCount; t++) targets.push({ partition: targetPartition(buf, 0, t), baseOffset: targetBaseOffset(buf, 0, t) });
      out.push({ position: hit.position, timestamp: h.maxTimestamp, targets, batch: Buffer.from(entryBatch(buf, 0)) });
    }
    return out;
  }

  /** Adds the units of one scanned entry; returns how many. */
  private indexEntry(seg: Segment, buf: Buffer, at: number, position: number, length: number): number {
    const h = readEntryHeader(buf, at);
    for (let t = 0; t < h.targetCount; t++) {
      const id = targetPartition(buf, at, t);
      const base = targetBaseOffset(buf, at, t);
      if (base < this.compactor.cleanEnd(id)) continue;
      const p = this.partition(id);
      let run = p.lastRun();
      if (run === undefined || run.segment !== seg) {
        run = new SegmentRun(seg, p.id, base);
        this.adoptRun(run);
      }
      run.addUnit(base, position, length, h.maxTimestamp, targetTagHash(buf, at, t), h.recordCount);
      if (run.endOffset > p.nextOffset) p.nextOffset = run.endOffset;
    }
    return h.targetCount;
  }

  private adoptRun(run: SegmentRun): void {
    const p = this.partition(run.partition);
    p.runs.push(run);
    run.segment.runs.push(run);
    run.segment.liveRuns++;
    if (run.endOffset > p.nextOffset) p.nextOffset = run.endOffset;
  }

  private partition(id: number): PartitionIndex {
    let p = this.partitions.get(id);
    if (p === undefined) {
      p = new PartitionIndex(id);
      this.partitions.set(id, p);
    }
    return p;
  }

  private seal(seg: Segment): void {
    this.sealing = this.sealing
      .then(() => {
        if (seg.deleted) return;
        // A stale index of the same segment (written before a crash) may be open: drop it.
        this.fds.forget(seg.indexPath);
        return writeSegmentIndex(seg, seg.length, seg.length);
      })
      .catch((err: Error) => this.warn({ segment: seg.name, err: err.message }, 'writing segment index failed; it will be rebuilt on open'));
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    await this.compactor.stop();
    this.opened = false;
    if (this.timerStore) await this.timerStore.close();
    this.timerStore = null;
    await this.log.close();
    this.keyIndex.advance(this.log.endPosition);
    await this.keyIndex.close();
    await this.sealing;
    for (const m of this.metaLogs.values()) await m.close();
    this.metaLogs.clear();
    this.fds.closeAll();
  }

  // ---------------------------------------------------------------- write path

  get writable(): boolean {
    return this.log.writable;
  }

  whenWritable(): Promise<void> {
    return this.log.whenWritable();
  }

  flush(): Promise<void> {
    return this.log.flushAll();
  }

  append(req: AppendRequest): AppendResult {
    const { batch, recordCount, targets } = req;
    if (!this.opened) throw new Error('store is not open');
    if (!(recordCount >= 1)) throw new RangeError(`recordCount must be >= 1, got ${recordCount}`);
    const n = targets.length;
    if (n > 0xffff) throw new RangeError(`at most 65535 targets per append, got ${n}`);
    // Validate before any state changes: a throw half-way would leave offsets assigned.
    if (!Number.isSafeInteger(req.firstTimestamp) || !Number.isSafeInteger(req.maxTimestamp)) {
      throw new RangeError(`timestamps must be integers (ms), got ${req.firstTimestamp}/${req.maxTimestamp}`);
    }
    for (let i = 0; i < n; i++) {
      const id = targets[i]!.partition;
      if (!(id >= 0 && id <= 0xffffffff && Number.isInteger(id))) throw new RangeError(`partition id must be a uint32, got ${id}`);
    }
    if (recordCount > 0xffffffff) throw new RangeError(`recordCount too large: ${recordCount}`);
    if (this.tPartitions.length < n) {
      this.tPartitions = new Uint32Array(n);
      this.tTags = new Uint32Array(n);
      this.tOffsets = new Float64Array(n);
    }
    const headerBytes = entryHeaderBytes(n);
    const size = headerBytes + batch.length;
    const position = this.log.reserve(size);
    const seg = this.log.active;
    const baseOffsets: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = targets[i]!;
      const p = this.partition(t.partition);
      const base = p.nextOffset;
      p.nextOffset = base + recordCount;
      let run = p.lastRun();
      if (run === undefined || run.segment !== seg) {
        run = new SegmentRun(seg, p.id, base);
        p.runs.push(run);
        seg.runs.push(run);
        seg.liveRuns++;
      } else if (run.dead) {
        // The active run was wholly released (a drained queue) and now grows again: it is
        // live once more, or the segment could be reclaimed under the new entries.
        run.dead = false;
        seg.liveRuns++;
      }
      const tag = (t.tagHash ?? 0) >>> 0;
      run.addUnit(base, position, size, req.maxTimestamp, tag, recordCount);
      baseOffsets[i] = base;
      this.tPartitions[i] = t.partition;
      this.tTags[i] = tag;
      this.tOffsets[i] = base;
    }
    const slab = this.log.headerSpace(headerBytes, batch.length);
    const headerPos = this.log.headerPos;
    const copied = this.log.pushBatch(batch);
    writeEntryHeader(
      slab,
      headerPos,
      batch,
      recordCount,
      req.firstTimestamp,
      req.maxTimestamp,
      n === this.tPartitions.length ? this.tPartitions : this.tPartitions.subarray(0, n),
      this.tTags,
      this.tOffsets,
      copied,
      req.batchCrcVerified === true,
    );
    this.cache.put(position, batch);
    if (req.keys !== undefined && req.keys.length > 0) this.keyIndex.add(req.keys, position, size, req.maxTimestamp);
    const durable = this.log.commit(req.durability ?? this.durability);
    // Copied into the log's slab and the cache's chunks (both copy exactly the batches up to 1 MiB).
    return { baseOffsets, position, durable, batchRetained: !copied };
  }

  // ---------------------------------------------------------------- offsets and lookups

  endOffset(partition: number): number {
    return this.partitions.get(partition)?.nextOffset ?? 0;
  }

  startOffset(partition: number): number {
    return this.partitions.get(partition)?.startOffset ?? 0;
  }

  lookup(partition: number, offset: number): (IndexUnit & { baseOffset: number }) | null {
    return this.reader.lookup(partition, offset);
  }

  offsetForTimestamp(partition: number, timestamp: number): number {
    return this.reader.offsetForTimestamp(partition, timestamp);
  }

  readCached(partition: number, offset: number): StoredBatch | null {
    return this.reader.readCached(partition, offset);
  }

  read(partition: number, offset: number, maxBytes: number): Promise<StoredBatch[]> {
    return this.reader.read(partition, offset, maxBytes);
  }

  readFiltered(partition: number, offset: number, maxBytes: number, acceptTag: (tagHash: number) => boolean, maxUnits?: number): Promise<FilteredRead> {
    return this.reader.readFiltered(partition, offset, maxBytes, acceptTag, maxUnits);
  }

  // ---------------------------------------------------------------- reclamation

  setPolicy(partition: number, policy: RetentionPolicy): void {
    this.partition(partition).policy = policy;
  }

  release(partition: number, offset: number): void {
    this.reclaimer.release(partition, offset);
  }

  truncateBefore(partition: number, offset: number): void {
    this.reclaimer.truncateBefore(partition, offset);
  }

  dropPartition(partition: number): Promise<void> {
    return this.reclaimer.dropPartition(partition);
  }

  async reclaim(now: number = Date.now()): Promise<number> {
    const freed = await this.reclaimer.reclaim(now);
    // Keeps the key index's checkpoint near the log end, so an open re-reads little.
    this.keyIndex.advance(this.log.endPosition);
    const first = this.log.segments[0];
    if (first !== undefined) await this.keyIndex.dropBefore(first.base);
    return freed + (await this.compactor.sweep());
  }

  compact(options: CompactOptions = {}): Promise<CompactionReport | null> {
    if (!this.opened) return Promise.resolve(null);
    return this.compactor.compact(options);
  }

  diskBytes(): number {
    let n = this.compactor.bytes();
    for (const s of this.log.segments) n += s.length;
    return n;
  }

  // ---------------------------------------------------------------- meta logs

  timer(options: StoreTimerOptions = {}): TimerStore {
    this.timerStore ??= TimerStore.open({ dir: join(this.options.dir, 'timer'), durability: this.durability, warn: this.warn, ...options });
    return this.timerStore;
  }

  async metaLog(name: string): Promise<MetaLog> {
    if (name.startsWith('__storage.')) throw new Error(`meta log names starting with __storage. are reserved`);
    let log = this.metaLogs.get(name);
    if (log === undefined) {
      log = MetaLogFile.open(this.metaDir, name, this.durability, this.warn);
      this.metaLogs.set(name, log);
    }
    return log;
  }

  /** Diagnostics for tests and benchmarks. */
  stats(): { segments: number; openFiles: number; cachedBytes: number; partitions: number } {
    return {
      segments: this.log.segments.length,
      openFiles: this.fds.size,
      cachedBytes: this.cache.size,
      partitions: this.partitions.size,
    };
  }
}


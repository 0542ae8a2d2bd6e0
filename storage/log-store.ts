/**
 * The Store of storage/types.ts: one shared segmented commit log (commit-log.ts), the
 * per-partition indexes derived from it (partition-index.ts, segment-run.ts,
 * segment-index-file.ts), a tail cache for consumers that keep up, internal meta logs and
 * reclamation by per-segment live counts (RocketMQ's DefaultMessageStore, STYLE.md anchor 8).
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
import {
  checkEntry,
  entryBatch,
  entryHeaderBytes,
  readEntryHeader,
  targetBaseOffset,
  targetPartition,
  targetTagHash,
  writeEntryHeader,
} from './entry-format.js';
import { CorruptSegmentError } from './errors.js';
import { FdCache } from './fd-cache.js';
import { MetaLogFile } from './meta-log.js';
import { PartitionIndex } from './partition-index.js';
import { scanSegmentFile } from './recovery.js';
import { loadSegmentIndex, readRunUnits, removeSegmentIndex, sealedRun, writeSegmentIndex } from './segment-index-file.js';
import {
  SegmentRun,
  UNIT_STRIDE,
  U_BASE_OFFSET,
  U_POSITION,
  U_RECORD_COUNT,
  U_SIZE,
  U_TAG_HASH,
  U_TIMESTAMP,
} from './segment-run.js';
import { parseSegmentName, Segment, SEGMENT_INDEX_SUFFIX } from './segment.js';
import { NEXT_FLOOR, START, StartOffsets } from './start-offsets.js';
import { TailCache } from './tail-cache.js';
import type {
  AppendRequest,
  AppendResult,
  DurabilityMode,
  IndexUnit,
  MetaLog,
  RecoveryReport,
  RetentionPolicy,
  Store,
  StoreOptions,
  StoredBatch,
} from './types.js';

const MiB = 1024 * 1024;
const READ_BLOCK_UNITS = 64;
/** Disk reads of neighbouring batches are merged when the gap between them is at most this. */
const READ_MERGE_GAP_BYTES = 64 * 1024;
const INTERNAL_META = '__storage.start-offsets';

export class LogStore implements Store {
  private readonly partitions = new Map<number, PartitionIndex>();
  private readonly fds: FdCache;
  private readonly cache: TailCache;
  private readonly log: CommitLog;
  private readonly metaDir: string;
  private readonly metaLogs = new Map<string, MetaLogFile>();
  private startOffsets: StartOffsets | null = null;
  private sealing: Promise<void> = Promise.resolve();
  private readonly warn: (fields: Record<string, unknown>, msg: string) => void;
  private readonly durability: DurabilityMode;
  // Scratch space reused by every lookup and append (no allocation per call).
  private readonly probe = new Float64Array(UNIT_STRIDE);
  private readonly scratch = Buffer.allocUnsafe(48 * READ_BLOCK_UNITS);
  private readonly block = new Float64Array(UNIT_STRIDE * READ_BLOCK_UNITS);
  private tPartitions = new Uint32Array(16);
  private tTags = new Uint32Array(16);
  private tOffsets = new Float64Array(16);
  private opened = false;

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
      onError: (err) => this.warn({ err: err.message }, 'commit log write failed; store is read-only'),
    });
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
        for (const row of loaded.runs) this.adoptRun(sealedRun(seg, row));
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
          await this.deleteSegmentFiles(seg);
          this.log.segments.pop();
          continue;
        }
        await writeSegmentIndex(seg, length, scan.validLength);
      }
    }
    if (this.log.segments.length === 0) this.log.adopt(new Segment(dir, 0));

    const startLog = MetaLogFile.open(this.metaDir, INTERNAL_META, 'sync', this.warn);
    this.metaLogs.set(INTERNAL_META, startLog);
    this.startOffsets = new StartOffsets(startLog);
    for (const [id, floor] of this.startOffsets.nextFloor) {
      const p = this.partition(id);
      p.nextOffset = Math.max(p.nextOffset, floor);
    }
    for (const p of this.partitions.values()) {
      p.startOffset = p.runs.length > 0 ? p.runs[0]!.firstOffset : p.nextOffset;
    }
    for (const [id, start] of this.startOffsets.start) {
      const p = this.partition(id);
      this.moveStart(p, start);
      p.persistedStart = start;
    }

    this.opened = true;
    report.segments = this.log.segments.length;
    report.durationMs = performance.now() - started;
    return report;
  }

  /** Adds the units of one scanned entry; returns how many. */
  private indexEntry(seg: Segment, buf: Buffer, at: number, position: number, length: number): number {
    const h = readEntryHeader(buf, at);
    for (let t = 0; t < h.targetCount; t++) {
      const p = this.partition(targetPartition(buf, at, t));
      const base = targetBaseOffset(buf, at, t);
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
    this.opened = false;
    await this.log.close();
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
    );
    this.cache.put(position, batch);
    const durable = this.log.commit(req.durability ?? this.durability);
    return { baseOffsets, position, durable };
  }

  // ---------------------------------------------------------------- offsets and lookups

  endOffset(partition: number): number {
    return this.partitions.get(partition)?.nextOffset ?? 0;
  }

  startOffset(partition: number): number {
    return this.partitions.get(partition)?.startOffset ?? 0;
  }

  private unitAt(run: SegmentRun, u: number): IndexUnit & { baseOffset: number } {
    readRunUnits(this.fds, run, u, 1, this.probe, this.scratch);
    const b = this.probe;
    return {
      baseOffset: b[U_BASE_OFFSET]!,
      position: b[U_POSITION]!,
      size: b[U_SIZE]!,
      timestamp: b[U_TIMESTAMP]!,
      tagHash: b[U_TAG_HASH]!,
      recordCount: b[U_RECORD_COUNT]!,
    };
  }

  lookup(partition: number, offset: number): (IndexUnit & { baseOffset: number }) | null {
    const p = this.partitions.get(partition);
    if (p === undefined || offset < p.startOffset || offset >= p.nextOffset) return null;
    const ri = p.findRun(offset);
    if (ri < 0) return null;
    const run = p.runs[ri]!;
    const u = p.findUnit(run, offset, this.fds, this.probe, this.scratch);
    return u < 0 ? null : this.unitAt(run, u);
  }

  offsetForTimestamp(partition: number, timestamp: number): number {
    const p = this.partitions.get(partition);
    if (p === undefined) return 0;
    for (const run of p.runs) {
      if (run.endOffset <= p.startOffset || run.maxTimestamp < timestamp) continue;
      const u = p.findUnitByTime(run, timestamp, this.fds, this.probe, this.scratch);
      if (u < run.unitCount) return Math.max(this.unitAt(run, u).baseOffset, p.startOffset);
    }
    return p.nextOffset;
  }

  readCached(partition: number, offset: number): StoredBatch | null {
    const unit = this.lookup(partition, offset);
    if (unit === null) return null;
    const batch = this.cache.get(unit.position);
    if (batch === undefined) return null;
    return {
      partition,
      baseOffset: unit.baseOffset,
      recordCount: unit.recordCount,
      timestamp: unit.timestamp,
      tagHash: unit.tagHash,
      position: unit.position,
      batch,
    };
  }

  async read(partition: number, offset: number, maxBytes: number): Promise<StoredBatch[]> {
    const out: StoredBatch[] = [];
    const p = this.partitions.get(partition);
    if (p === undefined || offset >= p.nextOffset) return out;
    if (offset < p.startOffset) offset = p.startOffset;
    let ri = p.findRun(offset);
    if (ri < 0) {
      // The offset fell in a deleted run (queue): continue from the next run that exists.
      ri = p.runs.findIndex((r) => r.firstOffset > offset);
      if (ri < 0) return out;
    }
    let run = p.runs[ri]!;
    let u = offset >= run.firstOffset ? p.findUnit(run, offset, this.fds, this.probe, this.scratch) : 0;
    if (u < 0) return out;
    let bytes = 0;
    const block = this.block;
    for (;;) {
      const got = readRunUnits(this.fds, run, u, READ_BLOCK_UNITS, block, this.scratch);
      // Collect the block's units first, then fetch the uncached ones with merged disk reads.
      const pending: StoredBatch[] = [];
      const pendingSizes: number[] = [];
      let full = false;
      for (let i = 0; i < got; i++) {
        const b = i * UNIT_STRIDE;
        const size = block[b + U_SIZE]!;
        if (out.length + pending.length > 0 && bytes + size > maxBytes) {
          full = true;
          break;
        }
        bytes += size;
        const position = block[b + U_POSITION]!;
        pending.push({
          partition,
          baseOffset: block[b + U_BASE_OFFSET]!,
          recordCount: block[b + U_RECORD_COUNT]!,
          timestamp: block[b + U_TIMESTAMP]!,
          tagHash: block[b + U_TAG_HASH]!,
          position,
          batch: this.cache.get(position) ?? EMPTY,
        });
        pendingSizes.push(size);
      }
      await this.fillFromDisk(run.segment, pending, pendingSizes);
      out.push(...pending);
      u += got;
      if (full) break;
      if (u >= run.unitCount) {
        if (++ri >= p.runs.length) break;
        run = p.runs[ri]!;
        u = 0;
      }
    }
    return out;
  }

  /** Reads the batches of `pending` that were not cached, merging neighbouring reads. */
  private async fillFromDisk(segment: Segment, pending: StoredBatch[], sizes: number[]): Promise<void> {
    let i = 0;
    while (i < pending.length) {
      if (pending[i]!.batch !== EMPTY) {
        i++;
        continue;
      }
      const start = pending[i]!.position;
      let end = start + sizes[i]!;
      let j = i + 1;
      while (j < pending.length && pending[j]!.batch === EMPTY) {
        const pos = pending[j]!.position;
        if (pos < end || pos - end > READ_MERGE_GAP_BYTES) break;
        end = pos + sizes[j]!;
        j++;
      }
      const buf = await this.log.readAt(start, end - start, segment);
      for (let k = i; k < j; k++) {
        const sb = pending[k]!;
        const at = sb.position - start;
        const size = sizes[k]!;
        const checked = checkEntry(buf, at, at + size);
        if (checked !== size) {
          throw new CorruptSegmentError(segment.name, sb.position - segment.base, String(checked));
        }
        sb.batch = entryBatch(buf, at);
      }
      i = j;
    }
  }

  // ---------------------------------------------------------------- reclamation

  setPolicy(partition: number, policy: RetentionPolicy): void {
    this.partition(partition).policy = policy;
  }

  private markDead(run: SegmentRun): void {
    if (run.dead) return;
    run.dead = true;
    run.segment.liveRuns--;
  }

  /** Moves the start offset forward and kills the runs wholly before it. */
  private moveStart(p: PartitionIndex, offset: number): boolean {
    offset = Math.min(offset, p.nextOffset);
    if (offset <= p.startOffset) return false;
    p.startOffset = offset;
    for (const run of p.runs) {
      if (run.endOffset > offset) break;
      this.markDead(run);
    }
    return true;
  }

  release(partition: number, offset: number): void {
    const p = this.partitions.get(partition);
    if (p === undefined) return;
    const ri = p.findRun(offset);
    if (ri < 0) return;
    const run = p.runs[ri]!;
    if (run.release(offset)) this.markDead(run);
    // Released offsets at the head move the start offset (they are never read again).
    if (offset === p.startOffset) {
      let start = p.startOffset;
      let r = ri;
      while (start < p.nextOffset) {
        const cur = p.runs[r];
        if (cur === undefined) break;
        if (start >= cur.endOffset) {
          r++;
          continue;
        }
        if (!cur.isReleased(start) && !cur.dead) break;
        start = cur.dead ? cur.endOffset : start + 1;
      }
      p.startOffset = start;
    }
  }

  truncateBefore(partition: number, offset: number): void {
    const p = this.partition(partition);
    if (this.moveStart(p, offset)) {
      void this.recordStarts([[partition, START, p.startOffset]]).catch((err: Error) =>
        this.warn({ partition, err: err.message }, 'recording log start offset failed'),
      );
    }
  }

  async dropPartition(partition: number): Promise<void> {
    const p = this.partitions.get(partition);
    if (p === undefined) return;
    this.moveStart(p, p.nextOffset);
    for (const run of p.runs) this.markDead(run);
    await this.startOffsets!.record([
      [partition, START, p.nextOffset],
      [partition, NEXT_FLOOR, p.nextOffset],
    ]);
    p.policy = { kind: 'queue' };
  }

  async reclaim(now: number = Date.now()): Promise<number> {
    // Segments rolled just now get their index file first (a deleted segment needs none, but
    // sealing also closes the write fd).
    await this.sealing;
    const active = this.log.active;
    const rows: [number, number, number][] = [];
    for (const p of this.partitions.values()) {
      const policy = p.policy;
      if (policy.kind !== 'stream') {
        // A queue's released head is persisted here, batched per reclaim, so a restart does
        // not resurrect consumed entries even before the core re-applies its acks.
        if (p.startOffset > p.persistedStart) rows.push([p.id, START, p.startOffset]);
        continue;
      }
      let target = p.startOffset;
      if (policy.retentionMs >= 0) {
        for (const run of p.runs) {
          if (run.segment === active || run.maxTimestamp >= now - policy.retentionMs) break;
          target = Math.max(target, run.endOffset);
        }
      }
      if (policy.retentionBytes >= 0) {
        let total = 0;
        for (const run of p.runs) if (!run.dead) total += run.bytes;
        for (const run of p.runs) {
          if (run.dead) continue;
          if (run.segment === active || total - run.bytes < policy.retentionBytes) break;
          total -= run.bytes;
          target = Math.max(target, run.endOffset);
        }
      }
      if (this.moveStart(p, target)) rows.push([p.id, START, p.startOffset]);
    }

    const doomed = this.log.segments.filter(
      (s) => s !== active && s.sealed && s.liveRuns === 0 && !this.log.isRolling(s),
    );
    if (doomed.length === 0) {
      await this.recordStarts(rows);
      return 0;
    }
    // Before entries vanish, make sure offsets never go backwards after a restart.
    for (const seg of doomed) {
      for (const run of seg.runs) rows.push([run.partition, NEXT_FLOOR, run.endOffset]);
    }
    await this.recordStarts(rows);
    let freed = 0;
    for (const seg of doomed) {
      seg.deleted = true;
      for (const run of seg.runs) {
        const p = this.partitions.get(run.partition);
        if (p === undefined) continue;
        const i = p.runs.indexOf(run);
        if (i >= 0) p.runs.splice(i, 1);
      }
      seg.runs.length = 0;
      const i = this.log.segments.indexOf(seg);
      if (i >= 0) this.log.segments.splice(i, 1);
      await this.deleteSegmentFiles(seg);
      freed += seg.length;
    }
    this.cache.dropBefore(this.log.segments[0]!.base);
    return freed;
  }

  private async recordStarts(rows: [number, number, number][]): Promise<void> {
    await this.startOffsets!.record(rows);
    for (const [id, kind, offset] of rows) {
      const p = kind === START ? this.partitions.get(id) : undefined;
      if (p !== undefined && offset > p.persistedStart) p.persistedStart = offset;
    }
  }

  private async deleteSegmentFiles(seg: Segment): Promise<void> {
    this.fds.forget(seg.path);
    this.fds.forget(seg.indexPath);
    await removeSegmentIndex(seg);
    await rm(seg.path, { force: true });
  }

  diskBytes(): number {
    let n = 0;
    for (const s of this.log.segments) n += s.length;
    return n;
  }

  // ---------------------------------------------------------------- meta logs

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

/** Placeholder of a batch still to be read from disk. */
const EMPTY = Buffer.alloc(0);

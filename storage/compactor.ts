/**
 * The background log compactor (Kafka's LogCleaner, cleanup.policy=compact): for the
 * dirtiest compacted partition it builds a map key -> latest offset over the dirty section,
 * then copies the partition's clean and dirty sections, minus superseded records, expired
 * tombstones and aborted transactions, into a new compacted file of that partition
 * (compacted-file.ts), and swaps the partition's index onto it in one synchronous step.
 *
 * Why a file per compacted partition instead of rewriting segments: commit-log segments are
 * shared (one entry may be indexed by a queue, another stream and this partition), so they are
 * never rewritten; the compacted partition's old runs are only marked dead, and a segment is
 * deleted by the reclaimer once no partition has a live run in it. docs/storage.md explains.
 *
 * Guarantees: the active segment (and any segment not yet sealed) is never compacted, nor the
 * partition's newest run (its own "active segment" in Kafka's terms); nothing
 * at or past the stable offset (open transactions) is; a run younger than
 * min.compaction.lag.ms is not; a partition is compacted when dirty / (clean + dirty) bytes
 * reaches min.cleanable.dirty.ratio, or when the tombstones its compacted file keeps have passed
 * their delete horizon (compaction-filter.ts). The key map holds at most `maxMapKeys` keys
 * (Kafka's dedupe buffer): when it is full at a run boundary the pass cleans up to there and
 * the next pass goes on from there (a single run is never split, so one run's keys may go over
 * the bound). The work is done in chunks of CHUNK_BYTES with the event
 * loop free between them, so appends are not stalled. Crash safety: the new file is written as
 * `.tmp`, fsynced, indexed, renamed and the directory fsynced before the swap; the old file
 * goes later. On open the file with the highest cleanEnd wins and the shared log's units of the
 * partition below it are ignored, so a SIGKILL at any point leaves either the old or the new
 * state, both complete.
 */
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommitLog } from './commit-log.js';
import { controlIsCommit, filterBatch, mapKey, type FilterContext } from './compaction-filter.js';
import {
  compactedStem,
  loadCompactedFiles,
  removeFiles,
  SLOT_BYTES,
  slotBase,
  slotOf,
  type CompactedFile,
} from './compacted-file.js';
import { entryHeaderBytes, writeEntryHeader } from './entry-format.js';
import type { FdCache } from './fd-cache.js';
import type { PartitionIndex } from './partition-index.js';
import type { PartitionReader } from './partition-reader.js';
import { decodeRecordBatch, readRecordBatchHeader } from './record-batch.js';
import { writeSegmentIndex } from './segment-index-file.js';
import { SegmentRun } from './segment-run.js';
import { Segment } from './segment.js';
import type { CompactionPolicy, CompactionReport, CompactOptions } from './types.js';

const CHUNK_BYTES = 1024 * 1024;
/**
 * Default bound of a pass's key map: about 100-150 MB of JS Map for short keys, near Kafka's
 * default dedupe buffer (log.cleaner.dedupe.buffer.size, 128 MiB).
 */
export const DEFAULT_MAX_MAP_KEYS = 1_000_000;
/** A superseded compacted file is deleted this long after the swap (reads in flight finish). */
const RETIRE_GRACE_MS = 10_000;

interface Retired {
  segment: Segment;
  at: number;
}

interface Candidate {
  p: PartitionIndex;
  policy: CompactionPolicy;
  end: number;
  ratio: number;
}

interface OffsetMap {
  /** Where the map ends (the requested end, or the run boundary where it was full). */
  end: number;
  latest: Map<string, number>;
  abortedBatches: Set<number>;
  /** First offset of a transaction whose marker is not in the section, or -1. */
  unresolved: number;
  bytesRead: number;
}

export class Compactor {
  readonly dir: string;
  private readonly files = new Map<number, CompactedFile>();
  private retired: Retired[] = [];
  /** Partitions that cannot progress until they grow (end offset when last tried). */
  private readonly blocked = new Map<number, number>();
  private running: Promise<CompactionReport | null> | null = null;
  private stopped = false;

  constructor(
    storeDir: string,
    private readonly partitions: Map<number, PartitionIndex>,
    private readonly reader: PartitionReader,
    private readonly log: CommitLog,
    private readonly fds: FdCache,
    private readonly markDead: (run: SegmentRun) => void,
    private readonly warn: (fields: Record<string, unknown>, msg: string) => void,
  ) {
    this.dir = join(storeDir, 'compacted');
  }

  /** Opens the compacted files (before the commit log is indexed); returns their runs. */
  async load(): Promise<CompactedFile[]> {
    const files = await loadCompactedFiles(this.dir, this.warn);
    for (const f of files) this.files.set(f.partition, f);
    return files;
  }

  /** Offsets of `partition` below this live in its compacted file (the shared log's are stale). */
  cleanEnd(partition: number): number {
    return this.files.get(partition)?.cleanEnd ?? -1;
  }

  bytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.segment.length;
    for (const r of this.retired) n += r.segment.length;
    return n;
  }

  compact(o: CompactOptions = {}): Promise<CompactionReport | null> {
    if (this.stopped) return Promise.resolve(null);
    if (this.running !== null) return this.running.then(() => null);
    const run = this.compactOnce(o).finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Stops starting new passes and waits for the current one. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => {});
  }

  /** Deletes superseded files past their grace time and files wholly below their partition's start. */
  async sweep(now = Date.now(), force = false): Promise<number> {
    let freed = 0;
    const keep: Retired[] = [];
    for (const r of this.retired) {
      if (!force && now - r.at < RETIRE_GRACE_MS) keep.push(r);
      else freed += await this.deleteFile(r.segment);
    }
    this.retired = keep;
    for (const [id, f] of [...this.files]) {
      const p = this.partitions.get(id);
      if (p !== undefined && p.startOffset < f.cleanEnd) continue;
      // Dropped, or everything it holds is below the log start offset: nothing reads it.
      this.files.delete(id);
      if (f.run !== null) this.markDead(f.run);
      if (p !== undefined) {
        const i = f.run === null ? -1 : p.runs.indexOf(f.run);
        if (i >= 0) p.runs.splice(i, 1);
      }
      freed += await this.deleteFile(f.segment);
    }
    return freed;
  }

  private async deleteFile(seg: Segment): Promise<number> {
    seg.deleted = true;
    this.fds.forget(seg.path);
    this.fds.forget(seg.indexPath);
    await removeFiles(join(this.dir, seg.name));
    return seg.length;
  }

  private async compactOnce(o: CompactOptions): Promise<CompactionReport | null> {
    const now = o.now ?? Date.now();
    await this.sweep(now);
    const c = this.pick(now, o.stableOffset);
    if (c === null) return null;
    return this.compactPartition(c, now, o.maxMapKeys ?? DEFAULT_MAX_MAP_KEYS);
  }

  /** The eligible partition with the highest dirty ratio, and where its cleanable section ends. */
  private pick(now: number, stableOffset?: (partition: number) => number): Candidate | null {
    const active = this.log.active;
    let best: Candidate | null = null;
    for (const p of this.partitions.values()) {
      const policy = p.policy.kind === 'stream' ? p.policy.compaction : undefined;
      if (policy === undefined) continue;
      const file = this.files.get(p.id);
      const cleaned = Math.max(file?.cleanEnd ?? 0, p.startOffset);
      // Tombstones past their horizon go even when nothing new is dirty (Kafka 3+ does the same).
      const expired = file !== undefined && file.deleteHorizon >= 0 && file.deleteHorizon <= now && file.cleanEnd > p.startOffset;
      if (expired && best === null) best = { p, policy, end: cleaned, ratio: 0 };
      if (this.blocked.get(p.id) === p.nextOffset) continue;
      const stable = stableOffset?.(p.id) ?? p.nextOffset;
      let end = cleaned;
      let clean = 0;
      let dirty = 0;
      for (const run of p.runs) {
        if (run.dead) continue;
        if (run.endOffset <= cleaned) {
          clean += run.bytes;
          continue;
        }
        const seg = run.segment;
        if (seg === active || !seg.sealed || this.log.isRolling(seg)) break;
        if (run.maxTimestamp > now - policy.minCompactionLagMs) break;
        if (run.endOffset > stable) break;
        // The partition's newest run is its "active segment" (Kafka never cleans that): so the
        // last record of a partition always stays and readers at the end never face a gap.
        if (run.endOffset >= p.nextOffset) break;
        end = run.endOffset;
        dirty += run.bytes;
      }
      if (dirty === 0) continue;
      const ratio = dirty / (dirty + clean);
      if (ratio < policy.minCleanableDirtyRatio) continue;
      if (best === null || ratio > best.ratio) best = { p, policy, end, ratio };
    }
    return best;
  }

  private async compactPartition(c: Candidate, now: number, maxMapKeys: number): Promise<CompactionReport | null> {
    const started = performance.now();
    const { p, policy } = c;
    const old = this.files.get(p.id);
    const from = p.startOffset;
    const dirtyFrom = Math.max(old?.cleanEnd ?? from, from);
    let end = c.end;
    let map: OffsetMap;
    for (;;) {
      map = await this.buildOffsetMap(p, dirtyFrom, end, maxMapKeys);
      if (this.stopped) return null;
      end = map.end;
      if (map.unresolved < 0) break;
      // A transaction's data is in the section but its marker is not (yet): stop before it,
      // at a run boundary (recovery skips the shared log's runs whole).
      let cap = dirtyFrom;
      for (const run of p.runs) {
        if (!run.dead && run !== old?.run && run.endOffset <= map.unresolved && run.endOffset > cap) cap = run.endOffset;
      }
      if (cap <= dirtyFrom) {
        this.blocked.set(p.id, p.nextOffset);
        return null;
      }
      end = cap;
    }
    const ctx: FilterContext = {
      latest: map.latest,
      abortedBatches: map.abortedBatches,
      from,
      now,
      deleteRetentionMs: policy.deleteRetentionMs,
    };
    const written = await this.writeFile(p, from, end, ctx);
    if (written === null) return null;
    const { file, bytesRead, bytesWritten, kept, removed } = written;
    // The partition may have been dropped or its policy changed while the file was written.
    if (this.stopped || this.partitions.get(p.id) !== p || p.policy.kind !== 'stream' || p.policy.compaction === undefined) {
      await this.deleteFile(file.segment);
      return null;
    }
    this.swap(p, old, file);
    this.blocked.delete(p.id);
    return {
      partition: p.id,
      cleanEnd: end,
      bytesRead: bytesRead + map.bytesRead,
      bytesWritten,
      recordsKept: kept,
      recordsRemoved: removed,
      durationMs: performance.now() - started,
    };
  }

  /**
   * Pass 1: the latest offset of every key in [from, to), and which transactions aborted. Stops
   * early at the first run boundary where the map holds `maxKeys` keys or more.
   */
  private async buildOffsetMap(p: PartitionIndex, from: number, to: number, maxKeys: number): Promise<OffsetMap> {
    const partition = p.id;
    const boundaries = new Set<number>();
    for (const run of p.runs) if (!run.dead && run.endOffset > from && run.endOffset < to) boundaries.add(run.endOffset);
    const latest = new Map<string, number>();
    const abortedBatches = new Set<number>();
    // Open transactions per producer id: their batches and keys wait for the marker.
    const pending = new Map<number, { first: number; batches: number[]; keys: [string, number][] }>();
    let bytesRead = 0;
    let off = from;
    while (off < to && !this.stopped) {
      const batches = await this.reader.read(partition, off, CHUNK_BYTES);
      if (batches.length === 0) break;
      for (const b of batches) {
        if (b.baseOffset >= to) {
          off = to;
          break;
        }
        if (b.baseOffset >= off && boundaries.has(b.baseOffset) && latest.size >= maxKeys) {
          // Full: this pass ends at the boundary (a run boundary, as recovery needs).
          to = b.baseOffset;
          off = to;
          break;
        }
        off = b.baseOffset + b.recordCount;
        bytesRead += b.batch.length;
        const h = readRecordBatchHeader(b.batch);
        if (h.isControl) {
          const t = pending.get(h.producerId);
          if (t === undefined) continue;
          pending.delete(h.producerId);
          if (controlIsCommit(b.batch)) for (const [k, o] of t.keys) latest.set(k, o);
          else for (const base of t.batches) abortedBatches.add(base);
          continue;
        }
        let keys: [string, number][] | null = null;
        if (h.isTransactional && h.producerId >= 0) {
          let t = pending.get(h.producerId);
          if (t === undefined) {
            t = { first: b.baseOffset, batches: [], keys: [] };
            pending.set(h.producerId, t);
          }
          t.batches.push(b.baseOffset);
          keys = t.keys;
        }
        for (const r of decodeRecordBatch(b.batch, { verifyCrc: false }).records) {
          const o = b.baseOffset + r.offsetDelta;
          if (o < from || r.key === null) continue;
          if (keys !== null) keys.push([mapKey(r.key), o]);
          else latest.set(mapKey(r.key), o);
        }
      }
      await yieldToLoop();
    }
    let unresolved = -1;
    for (const t of pending.values()) if (unresolved < 0 || t.first < unresolved) unresolved = t.first;
    return { end: to, latest, abortedBatches, unresolved, bytesRead };
  }

  /** Pass 2: copies what survives of [from, to) into a new compacted file, fsynced and renamed. */
  private async writeFile(
    p: PartitionIndex,
    from: number,
    to: number,
    ctx: FilterContext,
  ): Promise<{ file: CompactedFile; bytesRead: number; bytesWritten: number; kept: number; removed: number } | null> {
    const base = slotBase(this.freeSlot());
    // Named once the delete horizon of what it keeps is known: written as .tmp until then.
    const tmp = join(this.dir, compactedStem(base, p.id, to) + '.log.tmp');
    const fh = await open(tmp, 'w');
    const units: number[] = [];
    let firstOffset = -1;
    let deleteHorizon = -1;
    let filePos = 0;
    let bytesRead = 0;
    let kept = 0;
    let removed = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const { bytesWritten } = await fh.writev(pending, filePos);
      if (bytesWritten !== pendingBytes) throw new Error(`short write to ${tmp}`);
      filePos += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    try {
      let off = from;
      while (off < to) {
        if (this.stopped) {
          await fh.close().catch(() => {});
          await rm(tmp, { force: true });
          return null;
        }
        const batches = await this.reader.read(p.id, off, CHUNK_BYTES);
        if (batches.length === 0) break;
        for (const b of batches) {
          if (b.baseOffset >= to) {
            off = to;
            break;
          }
          off = b.baseOffset + b.recordCount;
          bytesRead += b.batch.length;
          const f = filterBatch(b.batch, b.baseOffset, ctx);
          kept += f.kept;
          removed += f.removed;
          if (f.batch === null) continue;
          if (f.deleteHorizon >= 0 && (deleteHorizon < 0 || f.deleteHorizon < deleteHorizon)) deleteHorizon = f.deleteHorizon;
          const h = readRecordBatchHeader(f.batch);
          const hb = entryHeaderBytes(1);
          const entry = Buffer.allocUnsafe(hb + f.batch.length);
          f.batch.copy(entry, hb);
          writeEntryHeader(entry, 0, f.batch, b.recordCount, f.firstTimestamp, h.maxTimestamp, [p.id], [b.tagHash], [b.baseOffset], true);
          const position = base + filePos + pendingBytes;
          if (position + entry.length > base + SLOT_BYTES) throw new Error(`compacted partition ${p.id} exceeds ${SLOT_BYTES} bytes`);
          if (firstOffset < 0) firstOffset = Math.min(from, b.baseOffset);
          units.push(b.baseOffset, position, entry.length, h.maxTimestamp, b.tagHash, b.recordCount);
          pending.push(entry);
          pendingBytes += entry.length;
        }
        if (pendingBytes >= CHUNK_BYTES) await flush();
        await yieldToLoop();
      }
      await flush();
      await fh.datasync();
    } finally {
      await fh.close().catch(() => {});
    }
    const seg = new Segment(this.dir, base, compactedStem(base, p.id, to, deleteHorizon));
    let run: SegmentRun | null = null;
    if (firstOffset >= 0) {
      run = new SegmentRun(seg, p.id, firstOffset);
      for (let i = 0; i < units.length; i += 6) run.addUnit(units[i]!, units[i + 1]!, units[i + 2]!, units[i + 3]!, units[i + 4]!, units[i + 5]!);
    }
    seg.length = seg.writtenLength = filePos;
    if (run !== null) {
      seg.runs.push(run);
      await writeSegmentIndex(seg, filePos, filePos);
    }
    seg.sealed = true;
    await rename(tmp, seg.path);
    await fsyncDir(this.dir);
    return { file: { partition: p.id, cleanEnd: to, segment: seg, run, deleteHorizon }, bytesRead, bytesWritten: filePos, kept, removed };
  }

  /** Points the partition at its new compacted file: one synchronous step, no await. */
  private swap(p: PartitionIndex, old: CompactedFile | undefined, file: CompactedFile): void {
    const rest: SegmentRun[] = [];
    for (const run of p.runs) {
      if (run.endOffset <= file.cleanEnd) this.markDead(run);
      else rest.push(run);
    }
    p.runs.length = 0;
    if (file.run !== null) {
      file.segment.liveRuns++;
      p.runs.push(file.run);
      if (file.run.endOffset <= p.startOffset) this.markDead(file.run);
    }
    for (const run of rest) p.runs.push(run);
    if (file.cleanEnd > p.nextOffset) p.nextOffset = file.cleanEnd;
    this.files.set(p.id, file);
    if (old !== undefined) this.retired.push({ segment: old.segment, at: Date.now() });
  }

  private freeSlot(): number {
    const used = new Set<number>();
    for (const f of this.files.values()) used.add(slotOf(f.segment));
    for (const r of this.retired) used.add(slotOf(r.segment));
    let s = 0;
    while (used.has(s)) s++;
    return s;
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

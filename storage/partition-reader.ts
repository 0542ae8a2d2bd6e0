/**
 * The read side of the store: index lookups by offset and timestamp, reads from the tail
 * cache, and disk reads of whole batches (neighbouring ones merged into one read, each
 * checked against its entry CRC).
 */
import type { CommitLog } from './commit-log.js';
import { checkEntry, entryBatch } from './entry-format.js';
import { CorruptSegmentError } from './errors.js';
import type { FdCache } from './fd-cache.js';
import type { PartitionIndex } from './partition-index.js';
import { readRunUnits } from './segment-index-file.js';
import {
  UNIT_STRIDE,
  U_BASE_OFFSET,
  U_POSITION,
  U_RECORD_COUNT,
  U_SIZE,
  U_TAG_HASH,
  U_TIMESTAMP,
  type SegmentRun,
} from './segment-run.js';
import type { Segment } from './segment.js';
import type { TailCache } from './tail-cache.js';
import type { FilteredRead, IndexUnit, StoredBatch } from './types.js';

const READ_BLOCK_UNITS = 64;
/** Index units a filtered read scans per call by default (about 3 MiB of index file). */
const FILTER_SCAN_UNITS = 65536;
/** Index units a filtered read takes per index-file read. */
const FILTER_BLOCK_UNITS = 1024;
/** Accepted batches a filtered read collects before it reads them (in parallel). */
const FILTER_READ_BATCHES = 256;
/** Disk reads of neighbouring batches are merged when the gap between them is at most this. */
const READ_MERGE_GAP_BYTES = 64 * 1024;
/** Placeholder of a batch still to be read from disk. */
const EMPTY = Buffer.alloc(0);

export class PartitionReader {
  // Scratch space reused by every lookup (used synchronously, so concurrent reads are safe).
  private readonly probe = new Float64Array(UNIT_STRIDE);
  private readonly scratch = Buffer.allocUnsafe(48 * READ_BLOCK_UNITS);
  private readonly block = new Float64Array(UNIT_STRIDE * READ_BLOCK_UNITS);
  // Filtered reads skip most units: a larger block means fewer index-file reads per unit.
  private readonly filterScratch = Buffer.allocUnsafe(48 * FILTER_BLOCK_UNITS);
  private readonly filterBlock = new Float64Array(UNIT_STRIDE * FILTER_BLOCK_UNITS);

  constructor(
    private readonly partitions: Map<number, PartitionIndex>,
    private readonly fds: FdCache,
    private readonly cache: TailCache,
    private readonly log: CommitLog,
  ) {}

  unitAt(run: SegmentRun, u: number): IndexUnit & { baseOffset: number } {
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
    if (u < 0) {
      // The offset fell in a gap left by compaction: continue from the next batch that exists.
      u = p.findUnitAtOrAfter(run, offset, this.fds, this.probe, this.scratch);
      while (u >= run.unitCount) {
        if (++ri >= p.runs.length) return out;
        run = p.runs[ri]!;
        u = 0;
      }
    }
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

  /**
   * Like `read`, but units whose tag hash `acceptTag` refuses are skipped from the index alone:
   * their bytes are never read, from disk or cache, and do not count against `maxBytes`.
   */
  async readFiltered(partition: number, offset: number, maxBytes: number, acceptTag: (tagHash: number) => boolean, maxUnits = FILTER_SCAN_UNITS): Promise<FilteredRead> {
    const out: StoredBatch[] = [];
    const p = this.partitions.get(partition);
    if (p === undefined || offset >= p.nextOffset) return { batches: out, nextOffset: Math.max(offset, p?.nextOffset ?? 0) };
    if (offset < p.startOffset) offset = p.startOffset;
    let ri = p.findRun(offset);
    if (ri < 0) {
      ri = p.runs.findIndex((r) => r.firstOffset > offset);
      if (ri < 0) return { batches: out, nextOffset: p.nextOffset };
    }
    let run = p.runs[ri]!;
    let u = offset >= run.firstOffset ? p.findUnit(run, offset, this.fds, this.probe, this.scratch) : 0;
    if (u < 0) return { batches: out, nextOffset: offset };
    let next = offset;
    let bytes = 0;
    let scanned = 0;
    let runPending: StoredBatch[] = [];
    let runSizes: number[] = [];
    const block = this.filterBlock;
    for (;;) {
      const got = readRunUnits(this.fds, run, u, FILTER_BLOCK_UNITS, block, this.filterScratch);
      const pending: StoredBatch[] = [];
      const pendingSizes: number[] = [];
      let full = false;
      let i = 0;
      for (; i < got; i++) {
        const b = i * UNIT_STRIDE;
        const tagHash = block[b + U_TAG_HASH]!;
        const end = block[b + U_BASE_OFFSET]! + block[b + U_RECORD_COUNT]!;
        if (!acceptTag(tagHash)) {
          next = end;
          continue;
        }
        const size = block[b + U_SIZE]!;
        if (out.length + runPending.length + pending.length > 0 && bytes + size > maxBytes) {
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
          tagHash,
          position,
          batch: this.cache.get(position) ?? EMPTY,
        });
        pendingSizes.push(size);
        next = end;
      }
      for (let k = 0; k < pending.length; k++) {
        runPending.push(pending[k]!);
        runSizes.push(pendingSizes[k]!);
      }
      u += i;
      scanned += i;
      const runDone = u >= run.unitCount;
      if (full || scanned >= maxUnits || runDone || runPending.length >= FILTER_READ_BATCHES) {
        // The accepted batches of this run are read together (in parallel ranges).
        await this.fillFromDisk(run.segment, runPending, runSizes);
        for (const sb of runPending) out.push(sb);
        runPending = [];
        runSizes = [];
      }
      if (full || scanned >= maxUnits) break;
      if (runDone) {
        if (++ri >= p.runs.length) {
          next = Math.max(next, run.endOffset);
          break;
        }
        run = p.runs[ri]!;
        u = 0;
      }
    }
    return { batches: out, nextOffset: next };
  }

  /** Reads the batches of `pending` that were not cached, merging neighbouring reads. */
  private async fillFromDisk(segment: Segment, pending: StoredBatch[], sizes: number[]): Promise<void> {
    // Merged ranges first, then their reads in parallel: a filtered read has many small
    // ranges far apart, and one thread-pool round trip after another would dominate it.
    const reads: Promise<void>[] = [];
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
      const from = i;
      const to = j;
      reads.push(
        this.log.readAt(start, end - start, segment).then((buf) => {
          for (let k = from; k < to; k++) {
            const sb = pending[k]!;
            const at = sb.position - start;
            const size = sizes[k]!;
            const checked = checkEntry(buf, at, at + size);
            if (checked !== size) {
              throw new CorruptSegmentError(segment.name, sb.position - segment.base, String(checked));
            }
            sb.batch = entryBatch(buf, at);
          }
        }),
      );
      i = j;
    }
    if (reads.length === 1) await reads[0];
    else if (reads.length > 1) await Promise.all(reads);
  }
}

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
import { INDEX_UNIT_BYTES, readRunUnits } from './segment-index-file.js';
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
import { UnitBlock } from './unit-block.js';
import type { FilteredRead, IndexUnit, StoredBatch } from './types.js';

const READ_BLOCK_UNITS = 64;
/** Index units a filtered read scans per call by default (about 3 MiB of index file). */
const FILTER_SCAN_UNITS = 65536;
/** Index units a filtered read takes per index-file read (768 KiB). */
const FILTER_BLOCK_UNITS = 16384;
/** Accepted batches a filtered read collects before it reads them (in parallel). */
const FILTER_READ_BATCHES = 256;
/** Disk reads of neighbouring batches are merged when the gap between them is at most this. */
const READ_MERGE_GAP_BYTES = 64 * 1024;
/** Placeholder of a batch still to be read from disk. */
const EMPTY = Buffer.alloc(0);

export class PartitionReader {
  // Scratch space reused by every lookup (used synchronously, so concurrent reads are safe).
  private readonly probe = new Float64Array(UNIT_STRIDE);
  private readonly scratch = Buffer.allocUnsafe(INDEX_UNIT_BYTES);
  private readonly block = new UnitBlock(READ_BLOCK_UNITS);
  // Filtered reads skip most units: a larger block means fewer index-file reads per unit.
  private readonly filterBlock = new UnitBlock(FILTER_BLOCK_UNITS);

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
    const start = this.startAt(p, offset);
    if (start === null) return out;
    let { ri, u } = start;
    let run = p.runs[ri]!;
    let bytes = 0;
    const block = this.block;
    for (;;) {
      const got = block.load(this.fds, run, u, READ_BLOCK_UNITS);
      // Collect the block's units first, then fetch the uncached ones with merged disk reads.
      const pending: StoredBatch[] = [];
      const pendingSizes: number[] = [];
      let full = false;
      for (let i = 0; i < got; i++) {
        const size = block.size(i);
        if (out.length + pending.length > 0 && bytes + size > maxBytes) {
          full = true;
          break;
        }
        bytes += size;
        pending.push(this.storedBatch(partition, block, i));
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
   * their bytes are never read, from disk or cache, and do not count against `maxBytes`. The
   * scan looks only at the tag field of each unit, asks `acceptTag` once per change of tag, and
   * skips a run of refused units in one tight loop; only accepted units are decoded.
   */
  async readFiltered(partition: number, offset: number, maxBytes: number, acceptTag: (tagHash: number) => boolean, maxUnits = FILTER_SCAN_UNITS): Promise<FilteredRead> {
    const out: StoredBatch[] = [];
    const p = this.partitions.get(partition);
    if (p === undefined || offset >= p.nextOffset) return { batches: out, nextOffset: Math.max(offset, p?.nextOffset ?? 0) };
    const start = this.startAt(p, offset);
    if (start === null) return { batches: out, nextOffset: p.nextOffset };
    let { ri, u } = start;
    let run = p.runs[ri]!;
    let next = offset;
    let bytes = 0;
    let scanned = 0;
    let pending: StoredBatch[] = [];
    let pendingSizes: number[] = [];
    // The last refused and accepted tags: NaN equals nothing, so the first unit asks.
    let refused = NaN;
    let accepted = NaN;
    const block = this.filterBlock;
    for (;;) {
      const got = block.load(this.fds, run, u, maxUnits - scanned);
      let full = false;
      let i = 0;
      while (i < got) {
        const tag = block.tagHash(i);
        if (tag !== accepted) {
          if (tag === refused || !acceptTag(tag)) {
            refused = tag;
            i = block.skipTag(i + 1, tag);
            continue;
          }
          accepted = tag;
        }
        const size = block.size(i);
        if (out.length + pending.length > 0 && bytes + size > maxBytes) {
          full = true;
          break;
        }
        bytes += size;
        pending.push(this.storedBatch(partition, block, i));
        pendingSizes.push(size);
        i++;
      }
      if (i > 0) next = block.endOffset(i - 1);
      u += i;
      scanned += i;
      const runDone = u >= run.unitCount;
      if (full || scanned >= maxUnits || runDone || pending.length >= FILTER_READ_BATCHES) {
        // The accepted batches of this run are read together (in parallel ranges).
        await this.fillFromDisk(run.segment, pending, pendingSizes);
        for (const sb of pending) out.push(sb);
        pending = [];
        pendingSizes = [];
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

  /**
   * Where a read from `offset` starts: the run and unit holding it, or the next batch that
   * exists when it fell in a deleted run (queue) or a gap a compaction left; null past the end.
   */
  private startAt(p: PartitionIndex, offset: number): { ri: number; u: number } | null {
    if (offset < p.startOffset) offset = p.startOffset;
    let ri = p.findRun(offset);
    if (ri < 0) {
      ri = p.runs.findIndex((r) => r.firstOffset > offset);
      if (ri < 0) return null;
    }
    let run = p.runs[ri]!;
    let u = offset >= run.firstOffset ? p.findUnit(run, offset, this.fds, this.probe, this.scratch) : 0;
    if (u < 0) {
      u = p.findUnitAtOrAfter(run, offset, this.fds, this.probe, this.scratch);
      while (u >= run.unitCount) {
        if (++ri >= p.runs.length) return null;
        run = p.runs[ri]!;
        u = 0;
      }
    }
    return { ri, u };
  }

  /** Unit `i` of `block` as a batch, its bytes from the tail cache or still to be read. */
  private storedBatch(partition: number, block: UnitBlock, i: number): StoredBatch {
    const position = block.position(i);
    return {
      partition,
      baseOffset: block.baseOffset(i),
      recordCount: block.recordCount(i),
      timestamp: block.timestamp(i),
      tagHash: block.tagHash(i),
      position,
      batch: this.cache.get(position) ?? EMPTY,
    };
  }

  /** Reads the batches of `pending` that were not cached, merging neighbouring reads. */
  private async fillFromDisk(segment: Segment, pending: StoredBatch[], sizes: number[]): Promise<void> {
    // Merged ranges first, then their reads in parallel: a filtered read has many small
    // ranges far apart, and one thread-pool round trip after another would dominate it.
    const starts: number[] = [];
    const lengths: number[] = [];
    const firsts: number[] = [];
    const ends: number[] = [];
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
      starts.push(start);
      lengths.push(end - start);
      firsts.push(i);
      ends.push(j);
      i = j;
    }
    if (starts.length === 0) return;
    const bufs = starts.length === 1 ? [await this.log.readAt(starts[0]!, lengths[0]!, segment)] : await this.log.readRanges(segment, starts, lengths);
    for (let r = 0; r < bufs.length; r++) {
      const buf = bufs[r]!;
      const start = starts[r]!;
      for (let k = firsts[r]!; k < ends[r]!; k++) {
        const sb = pending[k]!;
        const at = sb.position - start;
        const size = sizes[k]!;
        const checked = checkEntry(buf, at, at + size);
        if (checked !== size) throw new CorruptSegmentError(segment.name, sb.position - segment.base, String(checked));
        sb.batch = entryBatch(buf, at);
      }
    }
  }
}

/**
 * A block of consecutive index units of one run, as reads scan them: a sealed run's block is
 * the index file's bytes (one positioned read), an active run's is a window on its units in
 * memory. Fields are decoded on demand, so a scan that looks only at tag hashes (a filtered
 * read skipping 99% of a backlog) never decodes the units it skips.
 */
import { readSync } from 'node:fs';
import type { FdCache } from './fd-cache.js';
import { INDEX_HEADER_BYTES, INDEX_UNIT_BYTES } from './segment-index-file.js';
import { UNIT_STRIDE, U_BASE_OFFSET, U_POSITION, U_RECORD_COUNT, U_SIZE, U_TAG_HASH, U_TIMESTAMP, type SegmentRun } from './segment-run.js';

// Byte offsets of the fields in an index-file unit (see segment-index-file.ts).
const F_BASE_OFFSET = 0;
const F_POSITION = 8;
const F_TIMESTAMP = 16;
const F_SIZE = 32;
const F_RECORD_COUNT = 36;
const F_TAG_HASH = 40;

export class UnitBlock {
  /** Units loaded by the last `load`. */
  count = 0;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  /** The active run's units (null when the block holds index-file bytes). */
  private mem: Float64Array | null = null;
  /** Index in `mem` of the block's first unit's first field. */
  private memAt = 0;

  constructor(readonly capacity: number) {
    // Its own ArrayBuffer: a DataView over a pooled Buffer would still work, this keeps it simple.
    this.bytes = Buffer.allocUnsafeSlow(capacity * INDEX_UNIT_BYTES);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
  }

  /**
   * Loads units [from, from + count) of `run` (fewer at the run's end or past the capacity);
   * returns how many. Valid until the next `load` or the next turn of the event loop (an
   * active run's units move when they grow).
   */
  load(fds: FdCache, run: SegmentRun, from: number, count: number): number {
    count = Math.min(count, this.capacity, run.unitCount - from);
    if (count <= 0) return (this.count = 0);
    if (run.units !== null) {
      this.mem = run.units;
      this.memAt = from * UNIT_STRIDE;
    } else {
      this.mem = null;
      const want = count * INDEX_UNIT_BYTES;
      const got = readSync(fds.get(run.segment.indexPath), this.bytes, 0, want, INDEX_HEADER_BYTES + (run.unitStart + from) * INDEX_UNIT_BYTES);
      if (got !== want) throw new Error(`short read of index ${run.segment.indexPath}`);
    }
    return (this.count = count);
  }

  tagHash(i: number): number {
    const mem = this.mem;
    return mem !== null ? mem[this.memAt + i * UNIT_STRIDE + U_TAG_HASH]! : this.view.getUint32(i * INDEX_UNIT_BYTES + F_TAG_HASH);
  }

  /**
   * First unit at or after `i` whose tag hash is not `tag` (or `count`): skips a run of
   * units the filter refused, looking at nothing but their tag field.
   */
  skipTag(i: number, tag: number): number {
    const n = this.count;
    const mem = this.mem;
    if (mem !== null) {
      let at = this.memAt + i * UNIT_STRIDE + U_TAG_HASH;
      while (i < n && mem[at] === tag) {
        i++;
        at += UNIT_STRIDE;
      }
      return i;
    }
    const view = this.view;
    let at = i * INDEX_UNIT_BYTES + F_TAG_HASH;
    while (i < n && view.getUint32(at) === tag) {
      i++;
      at += INDEX_UNIT_BYTES;
    }
    return i;
  }

  baseOffset(i: number): number {
    return this.mem !== null ? this.mem[this.memAt + i * UNIT_STRIDE + U_BASE_OFFSET]! : this.int64(i * INDEX_UNIT_BYTES + F_BASE_OFFSET);
  }

  position(i: number): number {
    return this.mem !== null ? this.mem[this.memAt + i * UNIT_STRIDE + U_POSITION]! : this.int64(i * INDEX_UNIT_BYTES + F_POSITION);
  }

  timestamp(i: number): number {
    return this.mem !== null ? this.mem[this.memAt + i * UNIT_STRIDE + U_TIMESTAMP]! : this.int64(i * INDEX_UNIT_BYTES + F_TIMESTAMP);
  }

  size(i: number): number {
    return this.mem !== null ? this.mem[this.memAt + i * UNIT_STRIDE + U_SIZE]! : this.view.getUint32(i * INDEX_UNIT_BYTES + F_SIZE);
  }

  recordCount(i: number): number {
    return this.mem !== null ? this.mem[this.memAt + i * UNIT_STRIDE + U_RECORD_COUNT]! : this.view.getUint32(i * INDEX_UNIT_BYTES + F_RECORD_COUNT);
  }

  /** Offset after the last record of unit `i`. */
  endOffset(i: number): number {
    return this.baseOffset(i) + this.recordCount(i);
  }

  private int64(at: number): number {
    return this.view.getInt32(at) * 0x1_0000_0000 + this.view.getUint32(at + 4);
  }
}

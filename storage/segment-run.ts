/**
 * A partition's entries within one segment: a contiguous offset range [firstOffset,
 * endOffset) and its index units. While the segment is active the units live in memory
 * (a growable Float64Array, no object per unit); once the segment is sealed they are read
 * from the segment's index file (see segment-index-file.ts) and memory keeps only this
 * summary, so memory grows with (partitions x segments), never with entries.
 */
import type { Segment } from './segment.js';

/** In-memory unit layout: 7 doubles per unit. */
export const U_BASE_OFFSET = 0;
export const U_POSITION = 1;
export const U_SIZE = 2;
export const U_TIMESTAMP = 3;
export const U_TAG_HASH = 4;
export const U_RECORD_COUNT = 5;
/** Running max of U_TIMESTAMP within the run: the monotone key of timestamp search. */
export const U_SEARCH_TS = 6;
export const UNIT_STRIDE = 7;

export class SegmentRun {
  endOffset: number;
  unitCount = 0;
  bytes = 0;
  maxTimestamp = -Infinity;
  /** Units in memory while the segment is active; null once sealed. */
  units: Float64Array | null = new Float64Array(UNIT_STRIDE * 4);
  /** First unit of this run in the segment index file (valid when sealed). */
  unitStart = 0;
  /** One bit per offset released by the core (queues); allocated on first release. */
  released: Uint8Array | null = null;
  releasedCount = 0;
  dead = false;

  constructor(
    readonly segment: Segment,
    readonly partition: number,
    readonly firstOffset: number,
  ) {
    this.endOffset = firstOffset;
  }

  addUnit(
    baseOffset: number,
    position: number,
    size: number,
    timestamp: number,
    tagHash: number,
    recordCount: number,
  ): void {
    let units = this.units!;
    const at = this.unitCount * UNIT_STRIDE;
    if (at + UNIT_STRIDE > units.length) {
      const grown = new Float64Array(units.length * 2);
      grown.set(units);
      this.units = units = grown;
    }
    const searchTs = this.unitCount === 0 ? timestamp : Math.max(units[at - UNIT_STRIDE + U_SEARCH_TS]!, timestamp);
    units[at + U_BASE_OFFSET] = baseOffset;
    units[at + U_POSITION] = position;
    units[at + U_SIZE] = size;
    units[at + U_TIMESTAMP] = timestamp;
    units[at + U_TAG_HASH] = tagHash;
    units[at + U_RECORD_COUNT] = recordCount;
    units[at + U_SEARCH_TS] = searchTs;
    this.unitCount++;
    this.bytes += size;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.endOffset = baseOffset + recordCount;
  }

  get recordSpan(): number {
    return this.endOffset - this.firstOffset;
  }

  /** Marks one offset released; returns true when that made every offset of the run released. */
  release(offset: number): boolean {
    const span = this.recordSpan;
    const i = offset - this.firstOffset;
    if (i < 0 || i >= span || this.dead) return false;
    if (this.released === null || this.released.length * 8 <= i) {
      // The active run may still grow: size the bitmap for the current span, keep old bits.
      const grown = new Uint8Array(Math.max((span + 7) >>> 3, 64));
      if (this.released !== null) grown.set(this.released);
      this.released = grown;
    }
    const bit = 1 << (i & 7);
    if ((this.released[i >>> 3]! & bit) !== 0) return false;
    this.released[i >>> 3]! |= bit;
    this.releasedCount++;
    return this.releasedCount === span;
  }

  isReleased(offset: number): boolean {
    const i = offset - this.firstOffset;
    if (this.released === null || i < 0 || i >= this.recordSpan) return false;
    return (this.released[i >>> 3]! & (1 << (i & 7))) !== 0;
  }
}

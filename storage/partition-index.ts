/**
 * What the store knows of one partition (a queue or a stream partition): its offsets and
 * its runs, one per segment that holds its entries, in offset order. Lookup by offset is a
 * binary search over runs and then an interpolation-first search over the run's units (one
 * probe when every batch holds the same number of records); lookup by timestamp is a
 * binary search over the monotone `searchTs` key (Kafka's time index keeps the same
 * running maximum).
 */
import type { RetentionPolicy } from './types.js';
import type { FdCache } from './fd-cache.js';
import { readRunUnits } from './segment-index-file.js';
import { SegmentRun, UNIT_STRIDE, U_BASE_OFFSET, U_RECORD_COUNT, U_SEARCH_TS } from './segment-run.js';

export class PartitionIndex {
  policy: RetentionPolicy = { kind: 'stream', retentionMs: -1, retentionBytes: -1 };
  nextOffset = 0;
  startOffset = 0;
  /** Start offset last written to the start-offsets log. */
  persistedStart = 0;
  /** Runs in offset order; dead runs are removed from the front when their segment goes. */
  readonly runs: SegmentRun[] = [];

  constructor(readonly id: number) {}

  /** The run of the active segment, when this partition has entries there. */
  lastRun(): SegmentRun | undefined {
    return this.runs[this.runs.length - 1];
  }

  /** Index into `runs` of the run holding `offset`, or -1. */
  findRun(offset: number): number {
    const runs = this.runs;
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const run = runs[mid]!;
      if (offset < run.firstOffset) hi = mid - 1;
      else if (offset >= run.endOffset) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Unit number within `run` of the batch holding `offset` (offset must be in the run). */
  findUnit(run: SegmentRun, offset: number, fds: FdCache, probe: Float64Array, scratch: Buffer): number {
    let lo = 0;
    let hi = run.unitCount - 1;
    // Interpolation guess: exact when batches hold equal record counts.
    let mid = Math.min(hi, Math.floor(((offset - run.firstOffset) * run.unitCount) / run.recordSpan));
    for (;;) {
      readRunUnits(fds, run, mid, 1, probe, scratch);
      const base = probe[U_BASE_OFFSET]!;
      if (offset < base) hi = mid - 1;
      else if (offset >= base + probe[U_RECORD_COUNT]!) lo = mid + 1;
      else return mid;
      if (lo > hi) return -1;
      mid = (lo + hi) >>> 1;
    }
  }

  /**
   * First unit of `run` that ends after `offset` (the one holding it, or the next one when
   * `offset` falls in a gap a compaction left); run.unitCount when none.
   */
  findUnitAtOrAfter(run: SegmentRun, offset: number, fds: FdCache, probe: Float64Array, scratch: Buffer): number {
    let lo = 0;
    let hi = run.unitCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      readRunUnits(fds, run, mid, 1, probe, scratch);
      if (probe[U_BASE_OFFSET]! + probe[U_RECORD_COUNT]! > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** First unit of `run` whose searchTs >= timestamp, or run.unitCount. */
  findUnitByTime(run: SegmentRun, timestamp: number, fds: FdCache, probe: Float64Array, scratch: Buffer): number {
    let lo = 0;
    let hi = run.unitCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      readRunUnits(fds, run, mid, 1, probe, scratch);
      if (probe[U_SEARCH_TS]! >= timestamp) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export const PROBE_UNITS = 1;
export function newProbe(): Float64Array {
  return new Float64Array(UNIT_STRIDE * PROBE_UNITS);
}

/**
 * One commit-log segment file and what is known about it. Segments are named by their base
 * position, 20 digits (RocketMQ's MappedFile naming), so a directory listing sorted by name
 * is the log in order and position = base + byte within the file. A segment is at most
 * `segmentBytes` long unless one entry is larger; the next segment starts where the
 * previous one's data ends, so positions stay contiguous except after a truncation.
 */
import { join } from 'node:path';
import type { SegmentRun } from './segment-run.js';

export const SEGMENT_SUFFIX = '.log';
export const SEGMENT_INDEX_SUFFIX = '.idx';

export function segmentName(base: number): string {
  return String(base).padStart(20, '0');
}

export function parseSegmentName(file: string): number | null {
  const m = /^(\d{20})\.log$/.exec(file);
  return m === null ? null : Number(m[1]);
}

export class Segment {
  readonly name: string;
  readonly path: string;
  readonly indexPath: string;
  /** Bytes of the file holding valid entries (written or queued for writing). */
  length = 0;
  /** Bytes handed to the OS so far (<= length). */
  writtenLength = 0;
  /** Per-partition runs of entries in this segment (for sealing and reclamation). */
  readonly runs: SegmentRun[] = [];
  /** Runs still needed by some partition; the segment may go when this is 0 and it is sealed. */
  liveRuns = 0;
  /** Its index file is written and the runs read units from it. */
  sealed = false;
  /** Write-side descriptor (active segment and segments awaiting their last fsync). */
  writeFd: number | null = null;
  /** Written since the last fdatasync, by appends that need it fsynced (`sync`, `interval`). */
  dirty = false;
  /** Written since the last fdatasync at all (`flush()` and `close()` sync these too). */
  unsynced = false;
  /** The write fd is O_DSYNC: every write is durable when it returns. */
  dsync = false;
  deleted = false;

  constructor(
    dir: string,
    readonly base: number,
    /** File name without suffix; defaults to the 20-digit base (compacted files carry more). */
    stem?: string,
  ) {
    this.name = stem ?? segmentName(base);
    this.path = join(dir, this.name + SEGMENT_SUFFIX);
    this.indexPath = join(dir, this.name + SEGMENT_INDEX_SUFFIX);
  }

  get end(): number {
    return this.base + this.length;
  }
}

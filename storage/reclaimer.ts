/**
 * Reclamation: queue releases (one bit per offset per run), log start offsets (DeleteRecords,
 * retention, dropPartition), and deletion of segments no partition needs any more (per-segment
 * live run counts). What the log alone cannot tell after a deletion goes to the start-offsets
 * log first (start-offsets.ts), so offsets never go backwards after a restart.
 */
import { rm } from 'node:fs/promises';
import type { CommitLog } from './commit-log.js';
import type { FdCache } from './fd-cache.js';
import type { PartitionIndex } from './partition-index.js';
import { removeSegmentIndex } from './segment-index-file.js';
import type { SegmentRun } from './segment-run.js';
import type { Segment } from './segment.js';
import { NEXT_FLOOR, START, type StartOffsets } from './start-offsets.js';
import type { TailCache } from './tail-cache.js';

export class Reclaimer {
  startOffsets: StartOffsets | null = null;

  constructor(
    private readonly partitions: Map<number, PartitionIndex>,
    private readonly log: CommitLog,
    private readonly fds: FdCache,
    private readonly cache: TailCache,
    private readonly partition: (id: number) => PartitionIndex,
    private readonly sealed: () => Promise<void>,
    private readonly warn: (fields: Record<string, unknown>, msg: string) => void,
  ) {}

  markDead(run: SegmentRun): void {
    if (run.dead) return;
    run.dead = true;
    run.segment.liveRuns--;
  }

  /** Moves the start offset forward and kills the runs wholly before it. */
  moveStart(p: PartitionIndex, offset: number): boolean {
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
          // The head walked past this run: nothing in it is needed any more (a run the head
          // passed without every bit set, e.g. offsets released before a restart).
          this.markDead(cur);
          r++;
          continue;
        }
        // Offsets between runs belonged to a deleted (fully released) run.
        if (start < cur.firstOffset) start = cur.firstOffset;
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
    await this.sealed();
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

  async deleteSegmentFiles(seg: Segment): Promise<void> {
    this.fds.forget(seg.path);
    this.fds.forget(seg.indexPath);
    await removeSegmentIndex(seg);
    await rm(seg.path, { force: true });
  }
}

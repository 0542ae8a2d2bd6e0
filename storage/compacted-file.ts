/**
 * The compacted file of one partition (`<dir>/compacted/<base>-p<partition>-c<cleanEnd>[-h<horizon>].log`
 * plus its `.idx`): the partition's records below `cleanEnd` that survived compaction, as
 * ordinary commit-log entries with one target each, indexed like a sealed segment. The shared
 * commit log is never rewritten; see docs/storage.md "Compaction" for why.
 *
 * Positions in a compacted file are virtual: the file gets a base far above any commit-log
 * position (a slot of SLOT_BYTES from COMPACTED_BASE), so the tail cache and the reader, both
 * keyed by position, can never mistake one for a commit-log entry.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readEntryHeader, targetBaseOffset, targetTagHash } from './entry-format.js';
import { scanSegmentFile } from './recovery.js';
import { loadSegmentIndex, sealedRun, writeSegmentIndex } from './segment-index-file.js';
import { SegmentRun } from './segment-run.js';
import { Segment, segmentName } from './segment.js';

/** 2^51: commit-log positions stay far below (2 PiB of log). */
export const COMPACTED_BASE = 2 ** 51;
/** Largest compacted file (8 GiB); (2^53 - 2^51) / 2^33 slots. */
export const SLOT_BYTES = 2 ** 33;
const NAME = /^(\d{20})-p(\d+)-c(\d+)(?:-h(\d+))?\.log$/;

export interface CompactedFile {
  partition: number;
  /** Every offset of the partition below this was compacted into this file. */
  cleanEnd: number;
  segment: Segment;
  /** The partition's run in the file; null when compaction kept nothing. */
  run: SegmentRun | null;
  /**
   * The earliest delete horizon of the tombstones the file keeps (ms), -1 when it keeps none: a
   * pass past it removes them even when nothing new is dirty. In the name, so a restart knows it.
   */
  deleteHorizon: number;
}

export function compactedStem(base: number, partition: number, cleanEnd: number, deleteHorizon = -1): string {
  return `${segmentName(base)}-p${partition}-c${cleanEnd}${deleteHorizon >= 0 ? `-h${deleteHorizon}` : ''}`;
}

export function slotBase(slot: number): number {
  return COMPACTED_BASE + slot * SLOT_BYTES;
}

export function slotOf(segment: Segment): number {
  return Math.round((segment.base - COMPACTED_BASE) / SLOT_BYTES);
}

/**
 * Opens the compacted files of `dir` after a crash or a clean stop: per partition the one with
 * the highest cleanEnd wins (a crash between writing a new file and deleting the old leaves
 * both, and the old one is the superseded one); unfinished `.tmp` files and orphans go.
 */
export async function loadCompactedFiles(
  dir: string,
  warn: (fields: Record<string, unknown>, msg: string) => void,
): Promise<CompactedFile[]> {
  await mkdir(dir, { recursive: true });
  const names = await readdir(dir);
  const best = new Map<number, { base: number; cleanEnd: number; deleteHorizon: number; stem: string }>();
  const losers: string[] = [];
  for (const f of names) {
    if (f.endsWith('.tmp')) {
      await rm(join(dir, f), { force: true });
      continue;
    }
    const m = NAME.exec(f);
    if (m === null) continue;
    const cand = { base: Number(m[1]), cleanEnd: Number(m[3]), deleteHorizon: m[4] === undefined ? -1 : Number(m[4]), stem: f.slice(0, -'.log'.length) };
    const partition = Number(m[2]);
    const cur = best.get(partition);
    if (cur === undefined || cand.cleanEnd > cur.cleanEnd || (cand.cleanEnd === cur.cleanEnd && cand.base > cur.base)) {
      if (cur !== undefined) losers.push(cur.stem);
      best.set(partition, cand);
    } else losers.push(cand.stem);
  }
  for (const stem of losers) await removeFiles(join(dir, stem));
  const keep = new Set([...best.values()].map((b) => b.stem));
  for (const f of names) {
    if (f.endsWith('.idx') && !keep.has(f.slice(0, -'.idx'.length))) await rm(join(dir, f), { force: true });
  }
  const out: CompactedFile[] = [];
  for (const [partition, b] of best) {
    const seg = new Segment(dir, b.base, b.stem);
    const size = (await stat(seg.path)).size;
    let run: SegmentRun | null = null;
    const loaded = size === 0 ? null : await loadSegmentIndex(seg, size);
    if (loaded !== null) {
      const row = loaded.runs.find((r) => r.partition === partition);
      if (row !== undefined && row.unitCount > 0) run = sealedRun(seg, row);
    } else if (size > 0) {
      const scan = await scanSegmentFile(seg.path, (buf, at, filePos, length) => {
        const h = readEntryHeader(buf, at);
        const base = targetBaseOffset(buf, at, 0);
        run ??= new SegmentRun(seg, partition, base);
        run.addUnit(base, seg.base + filePos, length, h.maxTimestamp, targetTagHash(buf, at, 0), h.recordCount);
      });
      if (scan.problem !== null) {
        warn({ file: seg.path, position: scan.problem.position, problem: scan.problem.kind }, 'compacted file has a corrupt entry; entries after it are skipped');
      }
      if (run !== null) {
        seg.runs.push(run);
        await writeSegmentIndex(seg, size, scan.validLength);
        seg.runs.length = 0;
      }
    }
    seg.length = seg.writtenLength = size;
    seg.sealed = true;
    out.push({ partition, cleanEnd: b.cleanEnd, segment: seg, run, deleteHorizon: b.deleteHorizon });
  }
  return out;
}

/** Removes a compacted file and its index (`path` without suffix). */
export async function removeFiles(stemPath: string): Promise<void> {
  await rm(stemPath + '.log', { force: true });
  await rm(stemPath + '.idx', { force: true });
  await rm(stemPath + '.idx.tmp', { force: true });
}

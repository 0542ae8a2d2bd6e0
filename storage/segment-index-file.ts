/**
 * The index file of a sealed segment (`<base>.idx`): every index unit of the segment,
 * grouped by partition (each partition's units contiguous and in offset order), followed by
 * one directory row per partition run. Opening a store reads only header and directory;
 * lookups read units with positioned reads. Derived data: missing, stale or failing its CRC,
 * it is rebuilt by scanning the segment (like Kafka's index files, rebuilt after a crash).
 *
 *  header (40 bytes)
 *   0 magic        uint32 'PBIX'
 *   4 version      uint16 = 1 | reserved uint16
 *   8 segmentBase  int64
 *  16 fileLength   int64   segment file size when indexed (stale if it differs)
 *  24 validLength  int64   bytes of valid entries (< fileLength after mid-segment corruption)
 *  32 unitCount    uint32
 *  36 runCount     uint32
 *  unit (48 bytes) x unitCount
 *   0 baseOffset   int64
 *   8 position     int64   global log position of the entry
 *  16 timestamp    int64   batch max timestamp
 *  24 searchTs     int64   running max of timestamp within the run (binary-search key)
 *  32 size         uint32  entry bytes
 *  36 recordCount  uint32
 *  40 tagHash      uint32
 *  44 partition    uint32
 *  run (48 bytes) x runCount
 *   0 partition    uint32
 *   4 unitCount    uint32
 *   8 unitStart    uint32
 *  12 reserved     uint32
 *  16 firstOffset  int64
 *  24 endOffset    int64
 *  32 bytes        int64
 *  40 maxTimestamp int64
 *  trailer: crc32c uint32 of everything before it
 */
import { crc32c } from '@node-rs/crc32';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { readInt64, writeInt64 } from './entry-format.js';
import type { FdCache } from './fd-cache.js';
import type { Segment } from './segment.js';
import {
  SegmentRun,
  UNIT_STRIDE,
  U_BASE_OFFSET,
  U_POSITION,
  U_RECORD_COUNT,
  U_SEARCH_TS,
  U_SIZE,
  U_TAG_HASH,
  U_TIMESTAMP,
} from './segment-run.js';

const MAGIC = 0x50424958; // 'PBIX'
const VERSION = 1;
export const INDEX_HEADER_BYTES = 40;
export const INDEX_UNIT_BYTES = 48;
const RUN_BYTES = 48;
const WRITE_CHUNK_UNITS = 16384;

/**
 * Writes the index file of `segment` from its runs' in-memory units (temp file, fsync,
 * rename), then switches the runs to read from it and frees their memory.
 */
export async function writeSegmentIndex(segment: Segment, fileLength: number, validLength: number): Promise<void> {
  const runs = segment.runs.slice().sort((a, b) => a.partition - b.partition);
  let unitCount = 0;
  for (const run of runs) unitCount += run.unitCount;
  const tmp = segment.indexPath + '.tmp';
  const fh = await open(tmp, 'w');
  const starts: number[] = [];
  try {
    let crc = 0;
    let filePos = 0;
    const put = async (buf: Buffer): Promise<void> => {
      crc = crc32c(buf, crc);
      await fh.write(buf, 0, buf.length, filePos);
      filePos += buf.length;
    };
    const header = Buffer.alloc(INDEX_HEADER_BYTES);
    header.writeUInt32BE(MAGIC, 0);
    header.writeUInt16BE(VERSION, 4);
    writeInt64(header, 8, segment.base);
    writeInt64(header, 16, fileLength);
    writeInt64(header, 24, validLength);
    header.writeUInt32BE(unitCount, 32);
    header.writeUInt32BE(runs.length, 36);
    await put(header);

    const chunk = Buffer.allocUnsafe(WRITE_CHUNK_UNITS * INDEX_UNIT_BYTES);
    let used = 0;
    let unitStart = 0;
    for (const run of runs) {
      starts.push(unitStart);
      const units = run.units!;
      for (let i = 0; i < run.unitCount; i++) {
        if (used === WRITE_CHUNK_UNITS) {
          await put(chunk);
          used = 0;
        }
        const u = i * UNIT_STRIDE;
        const p = used * INDEX_UNIT_BYTES;
        writeInt64(chunk, p, units[u + U_BASE_OFFSET]!);
        writeInt64(chunk, p + 8, units[u + U_POSITION]!);
        writeInt64(chunk, p + 16, units[u + U_TIMESTAMP]!);
        writeInt64(chunk, p + 24, units[u + U_SEARCH_TS]!);
        chunk.writeUInt32BE(units[u + U_SIZE]!, p + 32);
        chunk.writeUInt32BE(units[u + U_RECORD_COUNT]!, p + 36);
        chunk.writeUInt32BE(units[u + U_TAG_HASH]!, p + 40);
        chunk.writeUInt32BE(run.partition, p + 44);
        used++;
      }
      unitStart += run.unitCount;
    }
    if (used > 0) await put(chunk.subarray(0, used * INDEX_UNIT_BYTES));

    const dir = Buffer.alloc(runs.length * RUN_BYTES + 4);
    runs.forEach((run, i) => {
      const p = i * RUN_BYTES;
      dir.writeUInt32BE(run.partition, p);
      dir.writeUInt32BE(run.unitCount, p + 4);
      dir.writeUInt32BE(starts[i]!, p + 8);
      writeInt64(dir, p + 16, run.firstOffset);
      writeInt64(dir, p + 24, run.endOffset);
      writeInt64(dir, p + 32, run.bytes);
      writeInt64(dir, p + 40, run.unitCount === 0 ? 0 : run.maxTimestamp);
    });
    const dirBody = dir.subarray(0, runs.length * RUN_BYTES);
    crc = crc32c(dirBody, crc);
    dir.writeUInt32BE(crc, runs.length * RUN_BYTES);
    await fh.write(dir, 0, dir.length, filePos);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, segment.indexPath);
  runs.forEach((run, i) => {
    run.unitStart = starts[i]!;
    run.units = null;
  });
  segment.sealed = true;
}

/** Directory row of an index file. */
export interface IndexedRun {
  partition: number;
  unitCount: number;
  unitStart: number;
  firstOffset: number;
  endOffset: number;
  bytes: number;
  maxTimestamp: number;
}

export interface LoadedIndex {
  fileLength: number;
  validLength: number;
  runs: IndexedRun[];
}

/** Reads and verifies an index file; null when missing, stale or corrupt (then rebuild). */
export async function loadSegmentIndex(segment: Segment, fileLength: number): Promise<LoadedIndex | null> {
  let buf: Buffer;
  try {
    buf = await readFile(segment.indexPath);
  } catch {
    return null;
  }
  if (buf.length < INDEX_HEADER_BYTES + 4) return null;
  if (buf.readUInt32BE(0) !== MAGIC || buf.readUInt16BE(4) !== VERSION) return null;
  if (readInt64(buf, 8) !== segment.base || readInt64(buf, 16) !== fileLength) return null;
  const unitCount = buf.readUInt32BE(32);
  const runCount = buf.readUInt32BE(36);
  const dirPos = INDEX_HEADER_BYTES + unitCount * INDEX_UNIT_BYTES;
  if (buf.length !== dirPos + runCount * RUN_BYTES + 4) return null;
  if (crc32c(buf.subarray(0, buf.length - 4)) !== buf.readUInt32BE(buf.length - 4)) return null;
  const runs: IndexedRun[] = [];
  for (let i = 0; i < runCount; i++) {
    const p = dirPos + i * RUN_BYTES;
    runs.push({
      partition: buf.readUInt32BE(p),
      unitCount: buf.readUInt32BE(p + 4),
      unitStart: buf.readUInt32BE(p + 8),
      firstOffset: readInt64(buf, p + 16),
      endOffset: readInt64(buf, p + 24),
      bytes: readInt64(buf, p + 32),
      maxTimestamp: readInt64(buf, p + 40),
    });
  }
  return { fileLength, validLength: readInt64(buf, 24), runs };
}

export async function removeSegmentIndex(segment: Segment): Promise<void> {
  await rm(segment.indexPath, { force: true });
  await rm(segment.indexPath + '.tmp', { force: true });
}

/** A restored run backed by the index file. */
export function sealedRun(segment: Segment, row: IndexedRun): SegmentRun {
  const run = new SegmentRun(segment, row.partition, row.firstOffset);
  run.units = null;
  run.unitStart = row.unitStart;
  run.unitCount = row.unitCount;
  run.endOffset = row.endOffset;
  run.bytes = row.bytes;
  run.maxTimestamp = row.maxTimestamp;
  return run;
}

/**
 * Reads units [from, from + count) of a run into `out` (UNIT_STRIDE doubles each), from
 * memory or from the index file. Returns the number of units read.
 */
export function readRunUnits(
  fds: FdCache,
  run: SegmentRun,
  from: number,
  count: number,
  out: Float64Array,
  scratch: Buffer,
): number {
  count = Math.min(count, run.unitCount - from, out.length / UNIT_STRIDE);
  if (count <= 0) return 0;
  if (run.units !== null) {
    out.set(run.units.subarray(from * UNIT_STRIDE, (from + count) * UNIT_STRIDE));
    return count;
  }
  count = Math.min(count, Math.floor(scratch.length / INDEX_UNIT_BYTES));
  const fd = fds.get(run.segment.indexPath);
  const want = count * INDEX_UNIT_BYTES;
  const got = readSync(fd, scratch, 0, want, INDEX_HEADER_BYTES + (run.unitStart + from) * INDEX_UNIT_BYTES);
  if (got !== want) throw new Error(`short read of index ${run.segment.indexPath}`);
  for (let i = 0; i < count; i++) {
    const p = i * INDEX_UNIT_BYTES;
    const u = i * UNIT_STRIDE;
    out[u + U_BASE_OFFSET] = readInt64(scratch, p);
    out[u + U_POSITION] = readInt64(scratch, p + 8);
    out[u + U_TIMESTAMP] = readInt64(scratch, p + 16);
    out[u + U_SEARCH_TS] = readInt64(scratch, p + 24);
    out[u + U_SIZE] = scratch.readUInt32BE(p + 32);
    out[u + U_RECORD_COUNT] = scratch.readUInt32BE(p + 36);
    out[u + U_TAG_HASH] = scratch.readUInt32BE(p + 40);
  }
  return count;
}

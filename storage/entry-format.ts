/**
 * One commit-log entry: a framed RecordBatch plus the partitions that index it, so that
 * every index can be rebuilt from the log alone (RocketMQ's CommitLog message header plays
 * the same role for its ConsumeQueue).
 *
 *  byte  0 +--------------------------------+
 *          | length          uint32          |  whole entry, this field included
 *        4 | crc             uint32          |  CRC32C of bytes [8, length)
 *        8 | magic           uint8  = 0xB7   |
 *        9 | version         uint8  = 1      |
 *       10 | targetCount     uint16          |
 *       12 | recordCount     uint32          |
 *       16 | firstTimestamp  int64 (ms)      |
 *       24 | maxTimestamp    int64 (ms)      |
 *       32 | targets: targetCount x 16 bytes |
 *          |   +0 partition  uint32          |
 *          |   +4 tagHash    uint32          |
 *          |   +8 baseOffset int64           |  the offset this partition assigned
 *  32+16n  | RecordBatch v2 bytes            |  as produced; its baseOffset field untouched
 *          +--------------------------------+
 *
 * Integers are big-endian like the RecordBatch they carry. A zero `length` never starts a
 * valid entry, so a zero-filled tail reads as the end of the log (LavinMQ's rule).
 */
import { crc32c } from '@node-rs/crc32';
import { crc32cCombine } from './crc32c-combine.js';

export const ENTRY_MAGIC = 0xb7;
/** RecordBatch v2: its CRC field, and where the bytes it covers start. */
const BATCH_CRC_POS = 17;
const BATCH_CRC_END = 21;
export const ENTRY_VERSION = 1;
export const ENTRY_FIXED_BYTES = 32;
export const ENTRY_TARGET_BYTES = 16;
/** Largest entry accepted (a sanity bound for recovery; Kafka's default max is 1 MiB). */
export const ENTRY_MAX_BYTES = 256 * 1024 * 1024;

export function entryHeaderBytes(targetCount: number): number {
  return ENTRY_FIXED_BYTES + ENTRY_TARGET_BYTES * targetCount;
}

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 0x1_0000_0000 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 0x1_0000_0000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 0x1_0000_0000, pos + 4);
}

/**
 * Writes an entry header at `pos` (targets included, CRC computed over header and batch).
 * `offsets[i]` is the base offset assigned in `partitions[i]`; `batchFollows` says the batch
 * bytes are already in `buf` right behind the header. `batchCrcVerified` says the batch's own
 * CRC field (bytes 17..21, RecordBatch v2) was checked against bytes [21, end) by the caller:
 * the entry CRC then extends it instead of reading the batch again.
 */
export function writeEntryHeader(
  buf: Buffer,
  pos: number,
  batch: Buffer,
  recordCount: number,
  firstTimestamp: number,
  maxTimestamp: number,
  partitions: ArrayLike<number>,
  tagHashes: ArrayLike<number>,
  offsets: ArrayLike<number>,
  batchFollows = false,
  batchCrcVerified = false,
): number {
  const n = partitions.length;
  const headerBytes = entryHeaderBytes(n);
  buf.writeUInt32BE(headerBytes + batch.length, pos);
  buf[pos + 8] = ENTRY_MAGIC;
  buf[pos + 9] = ENTRY_VERSION;
  buf.writeUInt16BE(n, pos + 10);
  buf.writeUInt32BE(recordCount, pos + 12);
  writeInt64(buf, pos + 16, firstTimestamp);
  writeInt64(buf, pos + 24, maxTimestamp);
  let t = pos + ENTRY_FIXED_BYTES;
  for (let i = 0; i < n; i++, t += ENTRY_TARGET_BYTES) {
    buf.writeUInt32BE(partitions[i]!, t);
    buf.writeUInt32BE(tagHashes[i]! >>> 0, t + 4);
    writeInt64(buf, t + 8, offsets[i]!);
  }
  // When the batch was already copied right behind the header, one CRC call covers both.
  let crc: number;
  if (batchCrcVerified && batch.length > BATCH_CRC_END) {
    const head = batchFollows
      ? crc32c(buf.subarray(pos + 8, pos + headerBytes + BATCH_CRC_END))
      : crc32c(batch.subarray(0, BATCH_CRC_END), crc32c(buf.subarray(pos + 8, pos + headerBytes)));
    crc = crc32cCombine(head, batch.readUInt32BE(BATCH_CRC_POS), batch.length - BATCH_CRC_END);
  } else if (batchFollows) crc = crc32c(buf.subarray(pos + 8, pos + headerBytes + batch.length));
  else crc = crc32c(batch, crc32c(buf.subarray(pos + 8, pos + headerBytes)));
  buf.writeUInt32BE(crc, pos + 4);
  return pos + headerBytes;
}

/** Why an entry at some position cannot be read. */
export type EntryProblem = 'short' | 'zero' | 'length' | 'magic' | 'crc';

/**
 * Checks the entry at `pos` within `buf[pos, end)`. Returns its length, or a problem:
 * 'short' means more bytes are needed to decide (or the log ends there).
 */
export function checkEntry(buf: Buffer, pos: number, end: number): number | EntryProblem {
  if (end - pos < ENTRY_FIXED_BYTES) {
    return end - pos >= 4 && buf.readUInt32BE(pos) === 0 ? 'zero' : 'short';
  }
  const length = buf.readUInt32BE(pos);
  if (length === 0) return 'zero';
  if (buf[pos + 8] !== ENTRY_MAGIC || buf[pos + 9] !== ENTRY_VERSION) return 'magic';
  const targets = buf.readUInt16BE(pos + 10);
  if (length < entryHeaderBytes(targets) || length > ENTRY_MAX_BYTES) return 'length';
  if (end - pos < length) return 'short';
  if (crc32c(buf.subarray(pos + 8, pos + length)) !== buf.readUInt32BE(pos + 4)) return 'crc';
  return length;
}

/** The fields of a verified entry header at `pos`. */
export interface EntryHeader {
  length: number;
  targetCount: number;
  recordCount: number;
  firstTimestamp: number;
  maxTimestamp: number;
}

export function readEntryHeader(buf: Buffer, pos: number): EntryHeader {
  return {
    length: buf.readUInt32BE(pos),
    targetCount: buf.readUInt16BE(pos + 10),
    recordCount: buf.readUInt32BE(pos + 12),
    firstTimestamp: readInt64(buf, pos + 16),
    maxTimestamp: readInt64(buf, pos + 24),
  };
}

export function targetPartition(buf: Buffer, pos: number, i: number): number {
  return buf.readUInt32BE(pos + ENTRY_FIXED_BYTES + i * ENTRY_TARGET_BYTES);
}
export function targetTagHash(buf: Buffer, pos: number, i: number): number {
  return buf.readUInt32BE(pos + ENTRY_FIXED_BYTES + i * ENTRY_TARGET_BYTES + 4);
}
export function targetBaseOffset(buf: Buffer, pos: number, i: number): number {
  return readInt64(buf, pos + ENTRY_FIXED_BYTES + i * ENTRY_TARGET_BYTES + 8);
}

/** The RecordBatch bytes of a verified entry (a view). */
export function entryBatch(buf: Buffer, pos: number): Buffer {
  const length = buf.readUInt32BE(pos);
  return buf.subarray(pos + entryHeaderBytes(buf.readUInt16BE(pos + 10)), pos + length);
}

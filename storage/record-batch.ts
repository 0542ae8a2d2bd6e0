/**
 * Kafka RecordBatch v2 (magic 2), the canonical stored record format (ARCHITECTURE.md,
 * "Storage"; Kafka protocol guide, "Record Batch"; KIP-98 for producer fields).
 *
 *  byte  0 +---------------------------+
 *          | baseOffset        int64   |  not covered by the CRC: patched per partition
 *        8 | batchLength       int32   |  bytes after this field
 *       12 | partitionLeaderEpoch int32|  not covered by the CRC
 *       16 | magic             int8 =2 |
 *       17 | crc               uint32  |  CRC32C of bytes [21, end)
 *       21 | attributes        int16   |  bits 0-2 codec, 3 timestampType (1 = LogAppendTime),
 *          |                           |  4 isTransactional, 5 isControl, 6 hasDeleteHorizonMs
 *       23 | lastOffsetDelta   int32   |
 *       27 | baseTimestamp     int64   |
 *       35 | maxTimestamp      int64   |
 *       43 | producerId        int64   |  -1 when not idempotent
 *       51 | producerEpoch     int16   |
 *       53 | baseSequence      int32   |
 *       57 | recordCount       int32   |
 *       61 | records (compressed as a whole when codec != 0)
 *          +---------------------------+
 *
 *  Record:  length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *           keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
 *           headerCount varint | [ keyLength varint | key utf8 | valueLength varint | value ]*
 */
import { crc32c } from '@node-rs/crc32';
import { compress, decompress, Compression } from './compression.js';
import {
  VarintReader,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from './varint.js';

export const RECORD_BATCH_HEADER_BYTES = 61;
/** Bytes before `batchLength`'s payload: baseOffset + batchLength. */
export const RECORD_BATCH_LOG_OVERHEAD = 12;
const MAGIC = 2;
const CRC_POS = 17;
const ATTRIBUTES_POS = 21;

const ATTR_CODEC_MASK = 0x07;
const ATTR_LOG_APPEND_TIME = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
const ATTR_DELETE_HORIZON = 0x40;

/** Ordered header: [key, value]; a null value is Kafka's null header value. */
export type RecordHeader = [key: string, value: Buffer | null];

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: readonly RecordHeader[];
  /** Absolute timestamp (ms); defaults to the batch's base timestamp. */
  timestamp?: number;
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
}

export interface RecordBatchInput {
  records: readonly RecordInput[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  /** Codec number (see `Compression`); 0 = none. */
  compression?: number;
  logAppendTime?: boolean;
  isTransactional?: boolean;
  isControl?: boolean;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the smallest record timestamp, else Date.now(). */
  baseTimestamp?: number;
  /** Defaults to the largest record timestamp (a compacted batch keeps its original one). */
  maxTimestamp?: number;
  /** Defaults to the largest record offsetDelta (a compacted batch keeps its original span). */
  lastOffsetDelta?: number;
  /**
   * KIP-534: when the compactor first keeps a batch's tombstones it stores the time they may go
   * (cleaning time + delete.retention.ms) in baseTimestamp and sets attribute bit 6; record
   * timestamps stay right (their deltas are taken from this base, negative if need be).
   */
  deleteHorizonMs?: number;
}

export interface RecordBatchHeader {
  baseOffset: number;
  /** Total size of the batch in bytes (batchLength + 12). */
  sizeBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  logAppendTime: boolean;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface KafkaRecord {
  attributes: number;
  timestamp: number;
  timestampDelta: number;
  offsetDelta: number;
  /** baseOffset + offsetDelta. */
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedRecordBatch extends RecordBatchHeader {
  records: KafkaRecord[];
}

/** Malformed batch; Kafka's CORRUPT_MESSAGE (2). */
export class CorruptRecordBatchError extends Error {
  readonly code = 'CORRUPT_MESSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'CorruptRecordBatchError';
  }
}

function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 0x1_0000_0000 + buf.readUInt32BE(pos + 4);
}

function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 0x1_0000_0000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 0x1_0000_0000, pos + 4);
}

function recordBodySize(rec: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let n = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta);
  const key = rec.key ?? null;
  n += key === null ? 1 : varintSize(key.length) + key.length;
  n += rec.value === null ? 1 : varintSize(rec.value.length) + rec.value.length;
  const headers = rec.headers ?? [];
  n += varintSize(headers.length);
  for (const [hk, hv] of headers) {
    const kl = Buffer.byteLength(hk);
    n += varintSize(kl) + kl;
    n += hv === null ? 1 : varintSize(hv.length) + hv.length;
  }
  return n;
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  b.copy(buf, pos);
  return pos + b.length;
}

/** Encodes records into `buf` at `pos`; returns the end position. Sizes precomputed by caller. */
function writeRecords(
  buf: Buffer,
  pos: number,
  records: readonly RecordInput[],
  baseTimestamp: number,
  bodySizes: number[],
): number {
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    pos = writeVarint(buf, pos, bodySizes[i]!);
    buf[pos++] = 0;
    pos = writeVarlong(buf, pos, (rec.timestamp ?? baseTimestamp) - baseTimestamp);
    pos = writeVarint(buf, pos, rec.offsetDelta ?? i);
    pos = writeBytes(buf, pos, rec.key ?? null);
    pos = writeBytes(buf, pos, rec.value);
    const headers = rec.headers ?? [];
    pos = writeVarint(buf, pos, headers.length);
    for (const [hk, hv] of headers) {
      const kl = Buffer.byteLength(hk);
      pos = writeVarint(buf, pos, kl);
      buf.write(hk, pos, 'utf8');
      pos += kl;
      pos = writeBytes(buf, pos, hv);
    }
  }
  return pos;
}

/** Encodes one RecordBatch v2, allocating once (plus the codec's output when compressed). */
export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const { records } = input;
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (const r of records) {
    if (r.timestamp !== undefined) {
      if (r.timestamp < minTs) minTs = r.timestamp;
      if (r.timestamp > maxTs) maxTs = r.timestamp;
    }
  }
  const baseTimestamp = input.deleteHorizonMs ?? input.baseTimestamp ?? (minTs === Infinity ? Date.now() : minTs);
  if (maxTs === -Infinity || records.some((r) => r.timestamp === undefined)) {
    maxTs = Math.max(maxTs, baseTimestamp);
  }
  let lastOffsetDelta = -1;
  let recordsBytes = 0;
  const bodySizes: number[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const od = rec.offsetDelta ?? i;
    if (od > lastOffsetDelta) lastOffsetDelta = od;
    const body = recordBodySize(rec, (rec.timestamp ?? baseTimestamp) - baseTimestamp, od);
    bodySizes[i] = body;
    recordsBytes += varintSize(body) + body;
  }
  if (lastOffsetDelta < 0) lastOffsetDelta = 0;
  if (input.lastOffsetDelta !== undefined) lastOffsetDelta = Math.max(lastOffsetDelta, input.lastOffsetDelta);
  if (input.maxTimestamp !== undefined) maxTs = input.maxTimestamp;
  const codec = input.compression ?? Compression.None;

  let buf: Buffer;
  let end: number;
  if (codec === Compression.None) {
    buf = Buffer.allocUnsafe(RECORD_BATCH_HEADER_BYTES + recordsBytes);
    end = writeRecords(buf, RECORD_BATCH_HEADER_BYTES, records, baseTimestamp, bodySizes);
  } else {
    const raw = Buffer.allocUnsafe(recordsBytes);
    writeRecords(raw, 0, records, baseTimestamp, bodySizes);
    const packed = compress(codec, raw);
    buf = Buffer.allocUnsafe(RECORD_BATCH_HEADER_BYTES + packed.length);
    packed.copy(buf, RECORD_BATCH_HEADER_BYTES);
    end = buf.length;
  }

  let attributes = codec & ATTR_CODEC_MASK;
  if (input.logAppendTime) attributes |= ATTR_LOG_APPEND_TIME;
  if (input.isTransactional) attributes |= ATTR_TRANSACTIONAL;
  if (input.isControl) attributes |= ATTR_CONTROL;
  if (input.deleteHorizonMs !== undefined) attributes |= ATTR_DELETE_HORIZON;

  writeInt64(buf, 0, input.baseOffset ?? 0);
  buf.writeInt32BE(end - RECORD_BATCH_LOG_OVERHEAD, 8);
  buf.writeInt32BE(input.partitionLeaderEpoch ?? -1, 12);
  buf[16] = MAGIC;
  buf.writeInt16BE(attributes, ATTRIBUTES_POS);
  buf.writeInt32BE(lastOffsetDelta, 23);
  writeInt64(buf, 27, baseTimestamp);
  writeInt64(buf, 35, maxTs);
  writeInt64(buf, 43, input.producerId ?? -1);
  buf.writeInt16BE(input.producerEpoch ?? -1, 51);
  buf.writeInt32BE(input.baseSequence ?? -1, 53);
  buf.writeInt32BE(records.length, 57);
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_POS, end)), CRC_POS);
  return buf;
}

/** Reads the fixed 61-byte header at `pos` without touching the records. */
export function readRecordBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  if (buf.length - pos < RECORD_BATCH_HEADER_BYTES) {
    throw new CorruptRecordBatchError(`record batch header needs 61 bytes, ${buf.length - pos} left`);
  }
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_POS);
  return {
    baseOffset: readInt64(buf, pos),
    sizeBytes: buf.readInt32BE(pos + 8) + RECORD_BATCH_LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    magic: buf.readInt8(pos + 16),
    crc: buf.readUInt32BE(pos + CRC_POS),
    attributes,
    compression: attributes & ATTR_CODEC_MASK,
    logAppendTime: (attributes & ATTR_LOG_APPEND_TIME) !== 0,
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
    hasDeleteHorizon: (attributes & ATTR_DELETE_HORIZON) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + 23),
    baseTimestamp: readInt64(buf, pos + 27),
    maxTimestamp: readInt64(buf, pos + 35),
    producerId: readInt64(buf, pos + 43),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    recordCount: buf.readInt32BE(pos + 57),
  };
}

/** True when the stored CRC matches bytes [21, size) of the batch at `pos`. */
export function verifyRecordBatchCrc(buf: Buffer, pos = 0): boolean {
  if (buf.length - pos < RECORD_BATCH_HEADER_BYTES) return false;
  const size = buf.readInt32BE(pos + 8) + RECORD_BATCH_LOG_OVERHEAD;
  if (size < RECORD_BATCH_HEADER_BYTES || pos + size > buf.length) return false;
  return crc32c(buf.subarray(pos + ATTRIBUTES_POS, pos + size)) === buf.readUInt32BE(pos + CRC_POS);
}

/**
 * Writes a partition's base offset into a batch in place. The CRC starts at `attributes`,
 * so the stored CRC stays valid (ARCHITECTURE.md: one stored batch, many partitions).
 */
export function patchBaseOffset(batch: Buffer, baseOffset: number, pos = 0): void {
  writeInt64(batch, pos, baseOffset);
}

/** Writes the leader epoch in place; also outside the CRC. */
export function patchPartitionLeaderEpoch(batch: Buffer, epoch: number, pos = 0): void {
  batch.writeInt32BE(epoch, pos + 12);
}

/**
 * Splits a run of concatenated batches (a Kafka produce's `records` field) into views.
 * A trailing partial batch is an error: producers never send one.
 */
export function splitRecordBatches(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < RECORD_BATCH_LOG_OVERHEAD + 5) {
      throw new CorruptRecordBatchError(`truncated record batch at ${pos}`);
    }
    const size = buf.readInt32BE(pos + 8) + RECORD_BATCH_LOG_OVERHEAD;
    if (size < RECORD_BATCH_HEADER_BYTES || pos + size > buf.length) {
      throw new CorruptRecordBatchError(`record batch at ${pos} claims ${size} bytes, ${buf.length - pos} left`);
    }
    out.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

export interface DecodeOptions {
  /** Check the CRC (default true). */
  verifyCrc?: boolean;
}

/** Decodes a whole batch; keys, values and header values are views into `buf` when uncompressed. */
export function decodeRecordBatch(buf: Buffer, options: DecodeOptions = {}): DecodedRecordBatch {
  const header = readRecordBatchHeader(buf, 0);
  if (header.magic !== MAGIC) {
    throw new CorruptRecordBatchError(`unsupported record batch magic ${header.magic}`);
  }
  if (header.sizeBytes < RECORD_BATCH_HEADER_BYTES || header.sizeBytes > buf.length) {
    throw new CorruptRecordBatchError(`record batch claims ${header.sizeBytes} bytes, ${buf.length} present`);
  }
  if (options.verifyCrc !== false && !verifyRecordBatchCrc(buf, 0)) {
    throw new CorruptRecordBatchError('record batch CRC mismatch');
  }
  let body = buf.subarray(RECORD_BATCH_HEADER_BYTES, header.sizeBytes);
  if (header.compression !== Compression.None) {
    try {
      body = decompress(header.compression, body);
    } catch (err) {
      if ((err as { code?: string }).code === 'UNSUPPORTED_COMPRESSION_TYPE') throw err;
      throw new CorruptRecordBatchError(`cannot decompress record batch: ${(err as Error).message}`);
    }
  }
  const count = header.recordCount;
  // Every record takes at least 7 bytes, so a hostile count cannot force a huge allocation.
  if (count < 0 || count > body.length / 7 + 1) {
    throw new CorruptRecordBatchError(`record count ${count} does not fit in ${body.length} bytes`);
  }
  const records: KafkaRecord[] = new Array(count);
  const r = new VarintReader(body, 0, body.length);
  for (let i = 0; i < count; i++) {
    const len = r.varint();
    const recEnd = r.pos + len;
    if (r.bad || len < 0 || recEnd > body.length) {
      throw new CorruptRecordBatchError(`record ${i} overruns the batch`);
    }
    const attributes = r.int8();
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = r.bytes(r.varint());
    const value = r.bytes(r.varint());
    const headerCount = r.varint();
    if (headerCount < 0 || headerCount > len) {
      throw new CorruptRecordBatchError(`record ${i} has a bad header count ${headerCount}`);
    }
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const kb = r.bytes(r.varint());
      const hv = r.bytes(r.varint());
      headers[h] = [kb === null ? '' : kb.toString('utf8'), hv];
    }
    if (r.bad || r.pos !== recEnd) {
      throw new CorruptRecordBatchError(`record ${i} is malformed`);
    }
    records[i] = {
      attributes,
      timestamp: header.baseTimestamp + timestampDelta,
      timestampDelta,
      offsetDelta,
      offset: header.baseOffset + offsetDelta,
      key,
      value,
      headers,
    };
  }
  if (r.pos !== body.length) {
    throw new CorruptRecordBatchError(`${body.length - r.pos} trailing bytes after ${count} records`);
  }
  return { ...header, records };
}

/**
 * Kafka refuses records without a key on a compacted topic (LogValidator.validateKey): the
 * compactor could never supersede them. This finds the first such record of a produced
 * RecordBatch v2; an uncompressed batch is scanned without decoding values or headers, a
 * compressed one is decompressed (only compacted topics pay for it).
 */
import { decodeRecordBatch, readRecordBatchHeader, RECORD_BATCH_HEADER_BYTES } from '../../storage/record-batch.js';
import { VarintReader } from '../../storage/varint.js';
import { InvalidArgument } from './errors.js';

/** Index (within the batch) of the first record whose key is null, or -1; control batches: -1. */
export function firstKeylessRecord(batch: Buffer): number {
  const h = readRecordBatchHeader(batch);
  if (h.isControl) return -1;
  if (h.compression !== 0) {
    const records = decodeRecordBatch(batch, { verifyCrc: false }).records;
    return records.findIndex((r) => r.key === null);
  }
  const r = new VarintReader(batch, RECORD_BATCH_HEADER_BYTES, Math.min(batch.length, h.sizeBytes));
  for (let i = 0; i < h.recordCount; i++) {
    const length = r.varint();
    const next = r.pos + length;
    r.int8(); // attributes
    r.varlong(); // timestamp delta
    r.varint(); // offset delta
    const keyLength = r.varint();
    if (r.bad) throw new InvalidArgument(`corrupt record batch: record ${i} is truncated`);
    if (keyLength < 0) return i;
    r.pos = next;
  }
  return -1;
}

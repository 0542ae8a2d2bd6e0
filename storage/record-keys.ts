/**
 * The keys of an uncompressed RecordBatch v2, read without decoding values or headers: per
 * record, its length, attributes, timestamp and offset deltas, then the key (KIP-98 record
 * format). Used to index Kafka keys on produce, where a full decode would cost most of the
 * produce path's CPU. Compressed and control batches answer [] (not indexed).
 */
import { readRecordBatchHeader, RECORD_BATCH_HEADER_BYTES } from './record-batch.js';
import { VarintReader } from './varint.js';

export function uncompressedRecordKeys(batch: Buffer): Buffer[] {
  if (batch.length < RECORD_BATCH_HEADER_BYTES) return [];
  const h = readRecordBatchHeader(batch);
  if (h.compression !== 0 || h.isControl) return [];
  const out: Buffer[] = [];
  const end = Math.min(batch.length, h.sizeBytes);
  const r = new VarintReader(batch, RECORD_BATCH_HEADER_BYTES, end);
  for (let i = 0; i < h.recordCount && !r.bad; i++) {
    const length = r.varint();
    const next = r.pos + length;
    r.int8();
    r.varlong();
    r.varint();
    const key = r.bytes(r.varint());
    if (r.bad) break;
    if (key !== null) out.push(key);
    r.pos = next;
  }
  return out;
}

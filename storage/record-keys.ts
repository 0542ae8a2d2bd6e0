/**
 * The keys and one header's values of an uncompressed RecordBatch v2, read without decoding
 * values or other headers (KIP-98 record format: length, attributes, timestamp delta, offset
 * delta, key, value, headers). Used on produce, where a full decode would cost most of the
 * produce path's CPU, for the message-key index and the filter tag. Compressed and control
 * batches are not read (`compressed: true`).
 */
import { readRecordBatchHeader, RECORD_BATCH_HEADER_BYTES } from './record-batch.js';
import { VarintReader } from './varint.js';

export interface BatchKeyScan {
  /** Non-null record keys, in record order. */
  keys: Buffer[];
  /**
   * The value of header `headerName`: the same in every record (a Buffer), absent from every
   * record (null), or 'mixed' (records differ, or the batch was not read).
   */
  headerValue: Buffer | null | 'mixed';
  compressed: boolean;
  /** Some record has a header whose name starts with `headerPrefix` (false when not asked or not read). */
  prefixSeen: boolean;
}

const UNREAD: BatchKeyScan = Object.freeze({ keys: [], headerValue: 'mixed', compressed: true, prefixSeen: false }) as BatchKeyScan;

export function scanRecordBatch(batch: Buffer, headerName: Buffer, headerPrefix?: Buffer): BatchKeyScan {
  if (batch.length < RECORD_BATCH_HEADER_BYTES) return UNREAD;
  const h = readRecordBatchHeader(batch);
  if (h.compression !== 0 || h.isControl) return UNREAD;
  const keys: Buffer[] = [];
  let value: Buffer | null | 'mixed' | undefined;
  let prefixSeen = false;
  const p0 = headerPrefix !== undefined && headerPrefix.length > 0 ? headerPrefix[0]! : -1;
  const end = Math.min(batch.length, h.sizeBytes);
  const r = new VarintReader(batch, RECORD_BATCH_HEADER_BYTES, end);
  for (let i = 0; i < h.recordCount && !r.bad; i++) {
    const length = r.varint();
    const next = r.pos + length;
    r.int8();
    r.varlong();
    r.varint();
    const key = r.bytes(r.varint());
    r.bytes(r.varint());
    let found: Buffer | null = null;
    const headers = r.varint();
    for (let k = 0; k < headers && !r.bad; k++) {
      const name = r.bytes(r.varint());
      const v = r.bytes(r.varint());
      if (found === null && name !== null && v !== null && name.equals(headerName)) found = v;
      if (!prefixSeen && p0 >= 0 && name !== null && name[0] === p0 && name.length >= headerPrefix!.length && name.compare(headerPrefix!, 0, headerPrefix!.length, 0, headerPrefix!.length) === 0) prefixSeen = true;
    }
    if (r.bad) return UNREAD;
    if (key !== null) keys.push(key);
    if (value === undefined) value = found;
    else if (value !== 'mixed' && !(value === null ? found === null : found !== null && value.equals(found))) value = 'mixed';
    r.pos = next;
  }
  return { keys, headerValue: value ?? null, compressed: false, prefixSeen };
}

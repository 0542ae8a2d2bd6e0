/**
 * What compaction keeps of one stored RecordBatch (Kafka's LogCleaner.filterInto): records
 * whose key has a later record are dropped, tombstones older than delete.retention.ms are
 * dropped, records of aborted transactions are dropped, control batches are kept. A batch that
 * keeps every record is kept byte for byte; one that keeps some is re-encoded with the same
 * producer fields, codec, timestamps and offset span (so offsets keep their meaning and the
 * records keep their offset deltas: offsets become sparse, never renumbered).
 */
import { decodeRecordBatch, encodeRecordBatch, readRecordBatchHeader, type KafkaRecord } from './record-batch.js';

/** Offset map key of a record key (latin1 maps bytes 1:1 to string units). */
export function mapKey(key: Buffer): string {
  return key.toString('latin1');
}

/** A control record's key is version int16 + type int16; type 1 is COMMIT, 0 ABORT. */
export function controlIsCommit(batch: Buffer): boolean {
  const key = decodeRecordBatch(batch, { verifyCrc: false }).records[0]?.key;
  return key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === 1;
}

export interface FilterContext {
  /** Latest offset of each key in the dirty section. */
  latest: Map<string, number>;
  /** Base offsets of batches that belong to aborted transactions. */
  abortedBatches: Set<number>;
  /** Records below this (the log start offset) are dropped. */
  from: number;
  /** Tombstones whose timestamp is below this are dropped. */
  tombstoneHorizon: number;
}

export interface Filtered {
  /** The batch to store (the original when nothing was dropped), or null when nothing remains. */
  batch: Buffer | null;
  kept: number;
  removed: number;
}

export function filterBatch(batch: Buffer, baseOffset: number, ctx: FilterContext): Filtered {
  const h = readRecordBatchHeader(batch);
  if (h.isControl) return { batch, kept: 0, removed: 0 };
  if (ctx.abortedBatches.has(baseOffset)) return { batch: null, kept: 0, removed: h.recordCount };
  const dec = decodeRecordBatch(batch, { verifyCrc: false });
  const keep: KafkaRecord[] = [];
  for (const r of dec.records) {
    const offset = baseOffset + r.offsetDelta;
    if (offset < ctx.from) continue;
    if (r.key !== null) {
      const latest = ctx.latest.get(mapKey(r.key));
      if (latest !== undefined && offset < latest) continue;
      const ts = h.logAppendTime ? h.maxTimestamp : r.timestamp;
      if (r.value === null && ts < ctx.tombstoneHorizon) continue;
    }
    keep.push(r);
  }
  const removed = dec.records.length - keep.length;
  if (removed === 0) return { batch, kept: keep.length, removed: 0 };
  if (keep.length === 0) return { batch: null, kept: 0, removed };
  const out = encodeRecordBatch({
    records: keep.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: h.compression,
    logAppendTime: h.logAppendTime,
    isTransactional: h.isTransactional,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    baseTimestamp: h.baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    lastOffsetDelta: h.lastOffsetDelta,
  });
  return { batch: out, kept: keep.length, removed };
}

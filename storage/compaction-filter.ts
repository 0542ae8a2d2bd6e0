/**
 * What compaction keeps of one stored RecordBatch (Kafka's LogCleaner.filterInto): records
 * whose key has a later record are dropped, records of aborted transactions are dropped,
 * control batches are kept. Tombstones age as in Kafka 3+ (KIP-534): the first pass that keeps
 * one stamps its batch with a delete horizon (that pass's time + delete.retention.ms, in the
 * batch's baseTimestamp with attribute bit 6), and a later pass past the horizon drops it. So
 * a consumer that read the partition up to the tombstone's cleaning has delete.retention.ms to
 * see it, however old the tombstone's own timestamp is. A batch that
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
  /** The pass's time (ms). */
  now: number;
  /** delete.retention.ms of the partition. */
  deleteRetentionMs: number;
}

export interface Filtered {
  /** The batch to store (the original when nothing changed), or null when nothing remains. */
  batch: Buffer | null;
  kept: number;
  removed: number;
  /** The delete horizon of the tombstones the stored batch keeps, or -1 when it keeps none. */
  deleteHorizon: number;
  /** The smallest timestamp of the stored records (the batch's baseTimestamp may be a horizon). */
  firstTimestamp: number;
}

export function filterBatch(batch: Buffer, baseOffset: number, ctx: FilterContext): Filtered {
  const h = readRecordBatchHeader(batch);
  if (h.isControl) return { batch, kept: 0, removed: 0, deleteHorizon: -1, firstTimestamp: h.baseTimestamp };
  if (ctx.abortedBatches.has(baseOffset)) return { batch: null, kept: 0, removed: h.recordCount, deleteHorizon: -1, firstTimestamp: -1 };
  const dec = decodeRecordBatch(batch, { verifyCrc: false });
  const keep: KafkaRecord[] = [];
  const horizonPassed = h.hasDeleteHorizon && h.baseTimestamp <= ctx.now;
  let tombstones = 0;
  let firstTimestamp = Infinity;
  for (const r of dec.records) {
    const offset = baseOffset + r.offsetDelta;
    if (offset < ctx.from) continue;
    if (r.key !== null) {
      const latest = ctx.latest.get(mapKey(r.key));
      if (latest !== undefined && offset < latest) continue;
      if (r.value === null) {
        if (horizonPassed) continue;
        tombstones++;
      }
    }
    keep.push(r);
    if (r.timestamp < firstTimestamp) firstTimestamp = r.timestamp;
  }
  const removed = dec.records.length - keep.length;
  if (keep.length === 0) return { batch: null, kept: 0, removed, deleteHorizon: -1, firstTimestamp: -1 };
  // Tombstones kept for the first time get their horizon now; a stamped batch keeps its own.
  const stamp = tombstones > 0 && !h.hasDeleteHorizon;
  const deleteHorizon = tombstones === 0 ? -1 : h.hasDeleteHorizon ? h.baseTimestamp : ctx.now + ctx.deleteRetentionMs;
  if (removed === 0 && !stamp) return { batch, kept: keep.length, removed: 0, deleteHorizon, firstTimestamp };
  const out = encodeRecordBatch({
    records: keep.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: h.compression,
    logAppendTime: h.logAppendTime,
    isTransactional: h.isTransactional,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    // A stamped batch's baseTimestamp is its horizon, not a record time.
    baseTimestamp: h.hasDeleteHorizon ? firstTimestamp : h.baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    lastOffsetDelta: h.lastOffsetDelta,
    // Kafka drops the horizon when the batch no longer holds tombstones.
    deleteHorizonMs: tombstones > 0 ? deleteHorizon : undefined,
  });
  return { batch: out, kept: keep.length, removed, deleteHorizon, firstTimestamp };
}

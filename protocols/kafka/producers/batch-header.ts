/**
 * The producer fields of a RecordBatch v2 header (layout in mapping/produce-batch.ts): what
 * idempotence and transactions read from every produced and every stored batch.
 */
export interface ProducerBatchHeader {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** lastOffsetDelta + 1. */
  recordCount: number;
  transactional: boolean;
  control: boolean;
}

const TRANSACTIONAL_BIT = 0x10;
const CONTROL_BIT = 0x20;

export function readProducerHeader(batch: Buffer): ProducerBatchHeader {
  const attributes = batch.readInt16BE(21);
  return {
    producerId: Number(batch.readBigInt64BE(43)),
    producerEpoch: batch.readInt16BE(51),
    baseSequence: batch.readInt32BE(53),
    recordCount: batch.readInt32BE(23) + 1,
    transactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    control: (attributes & CONTROL_BIT) !== 0,
  };
}

const MAX_SEQUENCE = 0x7fffffff;

/** The sequence of a batch's last record; sequences wrap from 2^31-1 to 0 (DefaultRecordBatch.incrementSequence). */
export function lastSequence(baseSequence: number, recordCount: number): number {
  const increment = recordCount - 1;
  return baseSequence > MAX_SEQUENCE - increment ? increment - (MAX_SEQUENCE - baseSequence) - 1 : baseSequence + increment;
}

/** True when `next` directly follows `last`. */
export function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === MAX_SEQUENCE);
}

/**
 * The seam where idempotent and transactional produce (issue 9) plugs into the Produce path:
 * called for every checked batch before it is appended, in request order. A guard can answer a
 * duplicate (one of the last five batches of the producer id on that partition) with its original
 * base offset without appending it again, refuse a batch with OUT_OF_ORDER_SEQUENCE_NUMBER /
 * INVALID_PRODUCER_EPOCH / UNKNOWN_PRODUCER_ID, and learn the base offset assigned to an append
 * (to remember sequences and open transactions for the last stable offset).
 *
 * Batches with producerId -1 (plain producers) never reach a guard.
 */
export type GuardVerdict =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'reject'; errorCode: number; errorMessage: string };

export interface ProduceGuard {
  /** Decides before the append; `batch` is the RecordBatch v2 as produced. */
  check(topic: string, partition: number, batch: Buffer, transactionalId: string | null): GuardVerdict;
  /** Told after the append which base offset the batch got. */
  appended(topic: string, partition: number, batch: Buffer, baseOffset: number): void;
  /** Null when the guard can decide; else a promise to wait for first (state rebuilt after a restart). */
  whenReady(): Promise<void> | null;
}

/** The producer id of a RecordBatch v2 (bytes 43..50); -1 for non-idempotent producers. */
export function batchProducerId(batch: Buffer): number {
  return Number(batch.readBigInt64BE(43));
}

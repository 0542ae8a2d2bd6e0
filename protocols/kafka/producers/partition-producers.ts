/**
 * The producers of one partition, as Kafka's ProducerStateManager keeps them: for each producer
 * id its epoch, the sequence ranges and offsets of its last five batches (a retried batch is
 * recognised among them and answered with its original offset), and the first offset of its
 * open transaction. Decisions follow ProducerAppendInfo: duplicate first, then epoch, then
 * sequence.
 */
import { ErrorCode } from '../mapping/errors.js';
import type { GuardVerdict } from '../mapping/produce-guard.js';
import { inSequence, lastSequence, type ProducerBatchHeader } from './batch-header.js';

/** Kafka keeps the metadata of this many batches per producer and partition (max.in.flight 5). */
export const RETAINED_BATCHES = 5;

interface BatchRange {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

export interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most RETAINED_BATCHES. */
  batches: BatchRange[];
  /** First offset of the producer's open transaction on this partition, or -1. */
  txnFirstOffset: number;
  /** Time of its last batch (the batch's max timestamp, as Kafka keeps it), ms. */
  lastTimestamp: number;
}

export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
  /** Offset of the abort marker. */
  lastOffset: number;
}

export class PartitionProducers {
  readonly producers = new Map<number, ProducerEntry>();
  /** Aborted transactions in offset order (what read_committed fetches are told to skip). */
  readonly aborted: AbortedTransaction[] = [];
  /** The last committed transaction of each producer here: [first offset, marker offset]. */
  readonly lastCommitted = new Map<number, [first: number, marker: number]>();
  private openTransactions = 0;

  check(h: ProducerBatchHeader): GuardVerdict {
    const entry = this.producers.get(h.producerId);
    if (!entry) return { kind: 'append' }; // no state (new producer, or its records are gone): any sequence is accepted, as Kafka 2.5+
    const last = lastSequence(h.baseSequence, h.recordCount);
    if (h.producerEpoch === entry.epoch) {
      const dup = entry.batches.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === last);
      if (dup) return { kind: 'duplicate', baseOffset: dup.baseOffset };
    }
    if (h.producerEpoch < entry.epoch) {
      return reject(ErrorCode.INVALID_PRODUCER_EPOCH, `Epoch of producer ${h.producerId} is ${h.producerEpoch}, which is smaller than the last seen epoch ${entry.epoch}`);
    }
    if (h.producerEpoch > entry.epoch) {
      if (h.baseSequence !== 0) {
        return reject(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `Invalid sequence number for new epoch of producer ${h.producerId}: ${h.producerEpoch} (request epoch), ${h.baseSequence} (seq. number), ${entry.epoch} (current producer epoch)`,
        );
      }
    } else {
      const lastSeq = entry.batches.length > 0 ? entry.batches[entry.batches.length - 1]!.lastSeq : -1;
      if (entry.batches.length > 0 && !inSequence(lastSeq, h.baseSequence)) {
        return reject(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `Out of order sequence number for producer ${h.producerId}: ${h.baseSequence} (incoming seq. number), ${lastSeq} (current end sequence number)`,
        );
      }
    }
    if (!h.transactional && entry.txnFirstOffset >= 0) {
      return reject(ErrorCode.INVALID_TXN_STATE, `Expected transactional write from producer ${h.producerId} at offset ${entry.txnFirstOffset}`);
    }
    return { kind: 'append' };
  }

  /** Puts back a producer's state from a snapshot. */
  restore(producerId: number, entry: ProducerEntry): void {
    const old = this.producers.get(producerId);
    if (old !== undefined && old.txnFirstOffset >= 0) this.openTransactions--;
    this.producers.set(producerId, entry);
    if (entry.txnFirstOffset >= 0) this.openTransactions++;
  }

  /** Records a data batch appended at `baseOffset` (after `check` said append). */
  appended(h: ProducerBatchHeader, baseOffset: number, timestamp: number): void {
    let entry = this.producers.get(h.producerId);
    if (!entry) {
      entry = { epoch: h.producerEpoch, batches: [], txnFirstOffset: -1, lastTimestamp: timestamp };
      this.producers.set(h.producerId, entry);
    }
    entry.lastTimestamp = Math.max(entry.lastTimestamp, timestamp);
    if (h.producerEpoch !== entry.epoch) {
      entry.epoch = h.producerEpoch;
      entry.batches = [];
    }
    entry.batches.push({ firstSeq: h.baseSequence, lastSeq: lastSequence(h.baseSequence, h.recordCount), baseOffset });
    if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
    if (h.transactional && entry.txnFirstOffset < 0) {
      entry.txnFirstOffset = baseOffset;
      this.openTransactions++;
    }
  }

  /**
   * A transaction marker (control batch) for `producerId` at epoch `epoch` ends its open
   * transaction here. Returns the transaction's first offset (-1 when none was open).
   */
  ended(producerId: number, epoch: number, commit: boolean, markerOffset: number): number {
    let entry = this.producers.get(producerId);
    if (!entry) {
      entry = { epoch, batches: [], txnFirstOffset: -1, lastTimestamp: 0 };
      this.producers.set(producerId, entry);
    }
    if (epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    const first = entry.txnFirstOffset;
    entry.txnFirstOffset = -1;
    if (first >= 0) {
      this.openTransactions--;
      if (!commit) this.aborted.push({ producerId, firstOffset: first, lastOffset: markerOffset });
      else this.lastCommitted.set(producerId, [first, markerOffset]);
    }
    return first;
  }

  /**
   * producer.id.expiration.ms: forgets producers whose last batch is older than `before` and that
   * have no open transaction (a later batch of theirs is accepted at any sequence, as Kafka does).
   */
  expire(before: number): number {
    let n = 0;
    for (const [id, e] of this.producers) {
      if (e.txnFirstOffset < 0 && e.lastTimestamp < before) {
        this.producers.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Aborted transactions with records in [from, to]. */
  abortedIn(from: number, to: number): AbortedTransaction[] {
    return this.aborted.filter((a) => a.lastOffset >= from && a.firstOffset <= to);
  }

  /** Producers with a transaction open here: producer id -> epoch. */
  openProducers(): Map<number, number> {
    const out = new Map<number, number>();
    if (this.openTransactions > 0) for (const [id, e] of this.producers) if (e.txnFirstOffset >= 0) out.set(id, e.epoch);
    return out;
  }

  /** Smallest first offset of an open transaction, or -1 (the last stable offset). */
  firstOpenOffset(): number {
    if (this.openTransactions === 0) return -1;
    let min = -1;
    for (const e of this.producers.values()) if (e.txnFirstOffset >= 0 && (min < 0 || e.txnFirstOffset < min)) min = e.txnFirstOffset;
    return min;
  }
}

function reject(errorCode: number, errorMessage: string): GuardVerdict {
  return { kind: 'reject', errorCode, errorMessage };
}

/**
 * Durable transaction state: every change of a transactional id's state is appended, as JSON,
 * to the internal one-partition stream `__transaction_state` (Kafka's internal topic of the
 * same name) and read back in order on start; the last record of an id wins.
 */
import type { Vhost } from '../../../src/core/index.js';

export const TRANSACTION_LOG = '__transaction_state';

export type TxnStatus = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort' | 'Dead';

export interface PendingOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
}

export interface TxnRecord {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  status: TxnStatus;
  /** `topic\u0000partition` of every partition in the transaction. */
  partitions: string[];
  /** Group -> offsets committed in the transaction (written on commit). */
  offsets: Record<string, PendingOffset[]>;
  startedAt: number;
  /** Time of this state change, ms (transactional.id.expiration.ms counts from the last one). */
  updatedAt?: number;
}

export class TransactionLog {
  constructor(private readonly vhost: () => Vhost) {}

  private async ensure(): Promise<void> {
    // Compacted, as Kafka's: only the latest state of each transactional id (the record key) matters.
    if (!this.vhost().stream(TRANSACTION_LOG)) await this.vhost().declareStream(TRANSACTION_LOG, { partitions: 1, config: { 'cleanup.policy': 'compact' } });
  }

  /** Appends a state and resolves when it is durable. */
  async write(r: TxnRecord): Promise<void> {
    await this.ensure();
    await this.append(r);
  }

  /** Appends a state (creating the log first if need be); resolves once appended, with its durability promise. */
  async queue(r: TxnRecord): Promise<{ durable: Promise<void> }> {
    await this.ensure();
    return { durable: this.append(r) };
  }

  /** Appends a state now (the log exists: an earlier write made it); returns its durability promise. */
  append(r: TxnRecord): Promise<void> {
    return this.vhost().produceRecords(TRANSACTION_LOG, 0, [{ key: Buffer.from(r.transactionalId), value: Buffer.from(JSON.stringify(r)) }], { durability: 'sync' }).durable;
  }

  /** The last state of every transactional id. */
  async readAll(): Promise<Map<string, TxnRecord>> {
    const out = new Map<string, TxnRecord>();
    const vhost = this.vhost();
    if (!vhost.stream(TRANSACTION_LOG)) return out;
    let offset = vhost.partitionOffsets(TRANSACTION_LOG, 0).startOffset;
    for (;;) {
      const msgs = await vhost.readMessages(TRANSACTION_LOG, 0, offset, 1000);
      if (msgs.length === 0) return out;
      for (const m of msgs) {
        const r = JSON.parse(m.message.body.toString()) as TxnRecord;
        out.set(r.transactionalId, r);
        offset = m.offset + 1;
      }
    }
  }
}

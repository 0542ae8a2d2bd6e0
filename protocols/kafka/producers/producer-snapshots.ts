/**
 * Producer-state snapshots (Kafka's `<offset>.snapshot` files of ProducerStateManager): the
 * state of every partition's producers (epochs, last five batches, open transaction, aborted and
 * last committed transactions), each with the partition's offset it is valid up to, written as
 * one record of the internal stream `__producer_snapshots`. On start the latest snapshot is loaded
 * and only the log after each partition's snapshot offset is replayed. Older snapshot records are
 * deleted (DeleteRecords) once a newer one is durable.
 *
 * A snapshot is consistent: it is built in one synchronous step, and producer state changes only
 * synchronously with the appends it describes (the produce path and the transaction markers), so
 * state = log up to each partition's high watermark at that moment.
 */
import type { Vhost } from '../../../src/core/index.js';
import type { AbortedTransaction, PartitionProducers, ProducerEntry } from './partition-producers.js';

export const PRODUCER_SNAPSHOTS = '__producer_snapshots';

type EntryRow = [producerId: number, epoch: number, batches: [number, number, number][], txnFirstOffset: number, lastTimestamp: number];

export interface PartitionSnapshot {
  topic: string;
  partition: number;
  /** The state covers the partition's log below this offset. */
  offset: number;
  producers: EntryRow[];
  aborted: [producerId: number, firstOffset: number, lastOffset: number][];
  committed: [producerId: number, first: number, marker: number][];
}

export interface ProducerSnapshot {
  version: 1;
  maxProducerId: number;
  partitions: PartitionSnapshot[];
}

export function snapshotPartition(topic: string, partition: number, offset: number, logStart: number, p: PartitionProducers): PartitionSnapshot {
  const producers: EntryRow[] = [];
  for (const [id, e] of p.producers) producers.push([id, e.epoch, e.batches.map((b) => [b.firstSeq, b.lastSeq, b.baseOffset]), e.txnFirstOffset, e.lastTimestamp]);
  return {
    topic,
    partition,
    offset,
    producers,
    // Aborted ranges wholly below the log start are never fetched again.
    aborted: p.aborted.filter((a) => a.lastOffset >= logStart).map((a) => [a.producerId, a.firstOffset, a.lastOffset]),
    committed: [...p.lastCommitted].map(([id, [first, marker]]) => [id, first, marker]),
  };
}

export function restorePartition(s: PartitionSnapshot, p: PartitionProducers): void {
  for (const [id, epoch, batches, txnFirstOffset, lastTimestamp] of s.producers) {
    const entry: ProducerEntry = { epoch, batches: batches.map(([firstSeq, lastSeq, baseOffset]) => ({ firstSeq, lastSeq, baseOffset })), txnFirstOffset, lastTimestamp };
    p.restore(id, entry);
  }
  for (const [producerId, firstOffset, lastOffset] of s.aborted) p.aborted.push({ producerId, firstOffset, lastOffset } satisfies AbortedTransaction);
  for (const [id, first, marker] of s.committed) p.lastCommitted.set(id, [first, marker]);
}

export class ProducerSnapshotLog {
  constructor(private readonly vhost: () => Vhost) {}

  /** Appends a snapshot, waits until durable, then deletes the older ones. */
  async write(snapshot: ProducerSnapshot): Promise<void> {
    const vhost = this.vhost();
    if (!vhost.stream(PRODUCER_SNAPSHOTS)) await vhost.declareStream(PRODUCER_SNAPSHOTS, { partitions: 1, bindToTopicExchange: false });
    const res = vhost.produceRecords(PRODUCER_SNAPSHOTS, 0, [{ key: null, value: Buffer.from(JSON.stringify(snapshot)) }], { durability: 'sync', route: false });
    await res.durable;
    vhost.deleteRecordsBefore(PRODUCER_SNAPSHOTS, 0, res.baseOffset);
  }

  /** The most recent snapshot, or null. */
  async latest(): Promise<ProducerSnapshot | null> {
    const vhost = this.vhost();
    if (!vhost.stream(PRODUCER_SNAPSHOTS)) return null;
    const { startOffset, highWatermark } = vhost.partitionOffsets(PRODUCER_SNAPSHOTS, 0);
    let last: ProducerSnapshot | null = null;
    for (let offset = startOffset; offset < highWatermark; ) {
      const msgs = await vhost.readMessages(PRODUCER_SNAPSHOTS, 0, offset, 16);
      if (msgs.length === 0) break;
      for (const m of msgs) {
        const parsed = JSON.parse(m.message.body.toString()) as ProducerSnapshot;
        if (parsed.version === 1) last = parsed;
        offset = m.offset + 1;
      }
    }
    return last;
  }
}

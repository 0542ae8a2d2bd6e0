/**
 * The ProduceGuard of idempotent and transactional producers: one PartitionProducers per topic
 * partition. Every stored RecordBatch carries its producer id, epoch and base sequence, so on
 * start the state is rebuilt from the latest snapshot (producer-snapshots.ts, taken periodically)
 * plus the partitions' batches after it, as Kafka does past its last .snapshot file. Produce
 * requests from producers wait until that rebuild is done.
 */
import type { Vhost } from '../../../src/core/index.js';
import type { GuardVerdict, ProduceGuard } from '../mapping/produce-guard.js';
import { readProducerHeader } from './batch-header.js';
import { PartitionProducers } from './partition-producers.js';
import { markerIsCommit } from './control-batch.js';
import { ProducerSnapshotLog, PRODUCER_SNAPSHOTS, restorePartition, snapshotPartition, type ProducerSnapshot } from './producer-snapshots.js';

const RECOVERY_READ_BYTES = 4 * 1024 * 1024;

export class ProducerGuard implements ProduceGuard {
  private readonly partitions = new Map<string, PartitionProducers>();
  /** The last stable offset of a partition: the first offset of its oldest open transaction, else the high watermark. */
  lastStableOffset(topic: string, partition: number, highWatermark: number): number {
    const open = this.partitions.get(`${topic}\u0000${partition}`)?.firstOpenOffset() ?? -1;
    return open < 0 ? highWatermark : open;
  }

  /** Highest producer id seen in the log (ids handed out later are above it). */
  maxProducerId = -1;
  private recovering: Promise<void> | null = null;
  /** State changes since the last snapshot. */
  private changes = 0;
  private snapshotting: Promise<void> | null = null;
  /** What the last rebuild read: whether it started from a snapshot, and how many batches after it. */
  lastRecovery: { fromSnapshot: boolean; batchesRead: number } = { fromSnapshot: false, batchesRead: 0 };

  /**
   * Rebuilds the state of every partition of the vhost's streams from their stored batches. A
   * failure is reported to `onError` and leaves the state as far as it was read.
   */
  recover(vhost: Vhost, onError: (err: unknown) => void, then: () => Promise<void> = async () => undefined): Promise<void> {
    const done = this.readAll(vhost)
      .then(then)
      .catch(onError)
      .finally(() => {
        if (this.recovering === done) this.recovering = null;
      });
    this.recovering = done;
    return done;
  }

  /** Null once producer state is complete; else a promise produce requests wait for. */
  whenReady(): Promise<void> | null {
    return this.recovering;
  }

  partition(topic: string, partition: number): PartitionProducers {
    // Callers get it to change it (markers, restores): count it as a change for the next snapshot.
    this.changes++;
    const key = `${topic}\u0000${partition}`;
    let p = this.partitions.get(key);
    if (!p) {
      p = new PartitionProducers();
      this.partitions.set(key, p);
    }
    return p;
  }

  /** Existing state of a partition, or undefined (no producer ever wrote to it). */
  existing(topic: string, partition: number): PartitionProducers | undefined {
    return this.partitions.get(`${topic}\u0000${partition}`);
  }

  /** Every open transaction on every partition. */
  openTransactions(): { topic: string; partition: number; producerId: number; epoch: number }[] {
    const out: { topic: string; partition: number; producerId: number; epoch: number }[] = [];
    for (const [key, p] of this.partitions) {
      const [topic, partition] = key.split('\u0000') as [string, string];
      for (const [producerId, epoch] of p.openProducers()) out.push({ topic, partition: Number(partition), producerId, epoch });
    }
    return out;
  }

  /** Forgets a deleted topic's partitions. */
  forgetTopic(topic: string): void {
    for (const key of this.partitions.keys()) if (key.startsWith(`${topic}\u0000`)) this.partitions.delete(key);
  }

  check(topic: string, partition: number, batch: Buffer): GuardVerdict {
    return this.partition(topic, partition).check(readProducerHeader(batch));
  }

  appended(topic: string, partition: number, batch: Buffer, baseOffset: number): void {
    this.changes++;
    const h = readProducerHeader(batch);
    if (h.producerId > this.maxProducerId) this.maxProducerId = h.producerId;
    this.partition(topic, partition).appended(h, baseOffset, Date.now());
  }

  /** Drops the state of producers idle since before `before` (ms) on every partition. */
  expire(before: number): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.expire(before);
    return n;
  }

  /**
   * Writes a snapshot of every partition's producer state when it changed since the last one
   * (not while the state is being rebuilt). Resolves when it is durable.
   */
  snapshot(vhost: Vhost): Promise<void> {
    if (this.recovering !== null || this.snapshotting !== null || this.changes === 0) return this.snapshotting ?? Promise.resolve();
    const partitions = [];
    for (const [key, p] of this.partitions) {
      const [topic, partition] = key.split('\u0000') as [string, string];
      if (!vhost.stream(topic)) continue;
      const offsets = vhost.partitionOffsets(topic, Number(partition));
      partitions.push(snapshotPartition(topic, Number(partition), offsets.highWatermark, offsets.startOffset, p));
    }
    const snap: ProducerSnapshot = { version: 1, maxProducerId: this.maxProducerId, partitions };
    const changes = this.changes;
    const done = new ProducerSnapshotLog(() => vhost)
      .write(snap)
      .then(() => {
        this.changes -= changes;
      })
      .finally(() => {
        this.snapshotting = null;
      });
    this.snapshotting = done;
    return done;
  }

  private async readAll(vhost: Vhost): Promise<void> {
    const snap = await new ProducerSnapshotLog(() => vhost).latest();
    const from = new Map<string, number>();
    if (snap !== null) {
      this.maxProducerId = Math.max(this.maxProducerId, snap.maxProducerId);
      for (const ps of snap.partitions) {
        const info = vhost.stream(ps.topic);
        // A topic deleted (and maybe re-created) since the snapshot: its entry does not apply.
        if (!info || ps.partition >= info.partitions || ps.offset > vhost.partitionOffsets(ps.topic, ps.partition).highWatermark) continue;
        restorePartition(ps, this.partition(ps.topic, ps.partition));
        from.set(`${ps.topic}\u0000${ps.partition}`, ps.offset);
      }
    }
    let batchesRead = 0;
    for (const s of vhost.streams()) {
      if (s.name === PRODUCER_SNAPSHOTS) continue;
      for (let p = 0; p < s.partitions; p++) batchesRead += await this.readPartition(vhost, s.name, p, from.get(`${s.name}\u0000${p}`));
    }
    this.lastRecovery = { fromSnapshot: snap !== null, batchesRead };
  }

  /** Replays the partition's batches from `from` (its snapshot offset) or its start; returns how many. */
  private async readPartition(vhost: Vhost, topic: string, partition: number, from?: number): Promise<number> {
    let offset = Math.max(from ?? 0, vhost.partitionOffsets(topic, partition).startOffset);
    let read = 0;
    for (;;) {
      if (offset >= vhost.partitionOffsets(topic, partition).highWatermark) return read;
      const batches = await vhost.fetch(topic, partition, offset, RECOVERY_READ_BYTES);
      if (batches.length === 0) return read;
      for (const b of batches) {
        const end = b.baseOffset + b.recordCount;
        if (end <= offset) continue;
        offset = end;
        read++;
        if (b.batch.length < 61 || b.batch.readInt8(16) !== 2) continue;
        const h = readProducerHeader(b.batch);
        if (h.producerId < 0) continue;
        if (h.control) {
          this.partition(topic, partition).ended(h.producerId, h.producerEpoch, markerIsCommit(b.batch), b.baseOffset);
          continue;
        }
        if (h.producerId > this.maxProducerId) this.maxProducerId = h.producerId;
        this.partition(topic, partition).appended(h, b.baseOffset, Number(b.batch.readBigInt64BE(35)));
      }
    }
  }
}

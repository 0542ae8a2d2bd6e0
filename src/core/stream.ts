/**
 * A stream: a named, partitioned log (Kafka topic, RabbitMQ stream). Each partition is one
 * store partition with stream retention; the stream only maps partition index -> store
 * partition id and wakes long-polling readers when data arrives.
 */
import type { DurabilityMode, StreamInfo } from './api.js';
import type { Binding, Routable } from './exchange.js';
import { kafkaPartition } from './murmur2.js';

interface Waiter {
  offset: number;
  resolve: (hasData: boolean) => void;
}

export class Stream implements Routable {
  readonly kind = 'stream' as const;
  routeMark = 0;
  boundBy: Binding[] | null = null;
  deleted = false;
  /** Round-robin position for unkeyed records produced without a partition. */
  private rr = 0;
  private waiters: (Set<Waiter> | undefined)[] = [];

  constructor(
    readonly name: string,
    readonly vhostName: string,
    /** Store partition id of each partition. */
    readonly partitionIds: number[],
    public retentionMs: number,
    public retentionBytes: number,
    readonly durability: DurabilityMode,
    public config: Record<string, string>,
    readonly bindToTopicExchange: boolean,
    /** Declared as a queue with x-queue-type stream (AMQP), with these arguments. */
    readonly queueArgs: Record<string, unknown> | null,
  ) {}

  get partitions(): number {
    return this.partitionIds.length;
  }

  describe(): string {
    return `stream '${this.name}' in vhost '${this.vhostName}'`;
  }

  info(): StreamInfo {
    return {
      name: this.name,
      partitions: this.partitionIds.length,
      retentionMs: this.retentionMs,
      retentionBytes: this.retentionBytes,
      durability: this.durability,
      config: { ...this.config },
    };
  }

  /** Partition for a routed message: by key, else by routing key (one MQTT topic keeps its order). */
  partitionForRouted(key: Buffer | null, routingKey: string): number {
    const n = this.partitionIds.length;
    if (n === 1) return 0;
    return kafkaPartition(key ?? Buffer.from(routingKey, 'utf8'), n);
  }

  /** Partition for a produce without one: by key, else round robin. */
  partitionForProduce(key: Buffer | null): number {
    const n = this.partitionIds.length;
    if (n === 1) return 0;
    if (key) return kafkaPartition(key, n);
    this.rr = (this.rr + 1) % n;
    return this.rr;
  }

  /** Resolves when the partition's end passes `offset` (true) or after `timeoutMs` (false). */
  wait(partition: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const set = (this.waiters[partition] ??= new Set());
      let timer: NodeJS.Timeout | null = null;
      const done = (v: boolean): void => {
        if (timer) clearTimeout(timer);
        set.delete(w);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = (): void => done(false);
      const w: Waiter = { offset, resolve: done };
      set.add(w);
      timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort);
    });
  }

  /** Wakes waiters of `partition` whose offset is below the new end. */
  appended(partition: number, endOffset: number): void {
    const set = this.waiters[partition];
    if (!set || set.size === 0) return;
    for (const w of [...set]) if (w.offset < endOffset) w.resolve(true);
  }

  /** Wakes every waiter with false (delete, close). */
  wakeAll(): void {
    for (const set of this.waiters) if (set) for (const w of [...set]) w.resolve(false);
  }
}

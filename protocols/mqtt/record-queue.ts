import { createMessage, headerValue, type Channel, type Connection, type Delivery, type Message } from '../../src/core/index.js';

/**
 * A durable "latest value per key" store built on one core queue, so MQTT's retained
 * messages and session records live in the core's log like every other message
 * (ARCHITECTURE.md: "MQTT sessions and retained messages are themselves records").
 *
 * Every value is a message in a durable queue that this store consumes and never acks while
 * the value is current; replacing or deleting a key acks (releases) the older message, so the
 * log reclaims it. After a restart the core redelivers every unacked message, which rebuilds
 * the map; when two values of one key survive (a crash between publish and ack), the one
 * with the higher sequence number wins.
 */
export class RecordQueue {
  private readonly values = new Map<string, Message>();
  /** Delivery tag and sequence of the stored message that currently backs each key. */
  private readonly stored = new Map<string, { tag: number; seq: number }>();
  /** Latest sequence written per key (a newer put may still be on its way to the consumer). */
  private readonly latestSeq = new Map<string, number>();
  private seq = 0;
  private channel!: Channel;

  private constructor(private readonly connection: Connection, readonly queue: string) {}

  /** Declares the queue, consumes it and resolves once every stored value is loaded. */
  static async open(connection: Connection, queue: string): Promise<RecordQueue> {
    const rq = new RecordQueue(connection, queue);
    const declared = await connection.vhost.declareQueue(queue, { durable: true });
    const expected = declared.messageCount;
    rq.channel = connection.openChannel();
    let loaded = 0;
    let done!: () => void;
    const ready = new Promise<void>((resolve) => { done = resolve; });
    rq.channel.consume(queue, {
      prefetch: 0,
      onDelivery: (d) => {
        rq.onDelivery(d);
        if (++loaded === expected) done();
      },
    });
    if (expected === 0) done();
    await ready;
    return rq;
  }

  get(key: string): Message | undefined {
    return this.values.get(key);
  }

  entries(): IterableIterator<[string, Message]> {
    return this.values.entries();
  }

  get size(): number {
    return this.values.size;
  }

  /** Stores `message` under `key`; resolves when durable (per the queue's durability). */
  put(key: string, message: Message): Promise<void> {
    const seq = ++this.seq;
    this.values.set(key, message);
    this.latestSeq.set(key, seq);
    const record = createMessage(message.body, {
      timestamp: message.timestamp,
      properties: { ...message.properties, persistent: true },
      headers: [{ name: 'x-record-key', value: key }, { name: 'x-record-seq', value: seq }, ...message.headers],
      native: message.native,
    });
    return this.channel.publish('', this.queue, record).durable;
  }

  delete(key: string): void {
    if (!this.values.delete(key)) return;
    this.latestSeq.set(key, ++this.seq);
    const s = this.stored.get(key);
    if (s) {
      this.stored.delete(key);
      this.channel.ack(s.tag);
    }
  }

  private onDelivery(d: Delivery): void {
    const m = d.message;
    const key = headerValue(m.headers, 'x-record-key');
    const seq = Number(headerValue(m.headers, 'x-record-seq') ?? 0);
    if (typeof key !== 'string') {
      this.channel.ack(d.deliveryTag);
      return;
    }
    if (seq > this.seq) this.seq = seq;
    const latest = this.latestSeq.get(key);
    if (latest !== undefined && seq < latest) {
      // Superseded (or deleted) while it was on its way.
      this.channel.ack(d.deliveryTag);
      return;
    }
    const prev = this.stored.get(key);
    if (prev) {
      if (prev.seq > seq) {
        this.channel.ack(d.deliveryTag);
        return;
      }
      this.channel.ack(prev.tag);
    }
    this.stored.set(key, { tag: d.deliveryTag, seq });
    this.latestSeq.set(key, seq);
    if (latest === undefined) {
      // Loaded from the log (restart): rebuild the value without our bookkeeping headers.
      this.values.set(key, createMessage(m.body, {
        timestamp: m.timestamp,
        properties: m.properties,
        headers: m.headers.slice(2),
        native: m.native,
        exchange: m.exchange,
        routingKey: m.routingKey,
        origin: m.origin,
      }));
    }
  }

  close(): void {
    this.channel.close();
  }
}

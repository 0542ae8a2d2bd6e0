/**
 * A push consumer on a stream queue (a one-partition stream declared with
 * `x-queue-type: stream`, read by AMQP consumers with `x-stream-offset`). It reads decoded
 * messages from its offset while it has credit and waits for appends at the end. Acks only
 * return credit: a stream keeps its messages.
 */
import type { Arguments, ConsumeOptions, Delivery, StreamMessage } from './api.js';
import type { DeliveryChannel, PendingDelivery, QueueLike } from './consumer.js';
import type { MessageFilter } from './message-filter.js';
import type { Stream } from './stream.js';

export interface StreamReader {
  readMessages(stream: string, partition: number, offset: number, maxMessages: number): Promise<StreamMessage[]>;
  readFilteredMessages(stream: string, partition: number, offset: number, maxMessages: number, filter: MessageFilter): Promise<{ messages: StreamMessage[]; nextOffset: number }>;
  waitForData(stream: string, partition: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  warn(fields: Record<string, unknown>, msg: string): void;
}

const WAIT_MS = 30_000;
const READ_MAX = 256;

export class StreamConsumer implements QueueLike {
  unacked = 0;
  readonly active = true;
  cancelled = false;
  private reading = false;
  private readonly abort = new AbortController();
  readonly noAck: boolean;
  readonly exclusive = false;
  readonly priority = 0;
  /** As the client gave them (management shows them). */
  readonly arguments: Arguments;
  readonly onDelivery: (d: Delivery) => void;
  readonly onCancel: ((reason: string) => void) | undefined;

  constructor(
    readonly tag: string,
    readonly channel: DeliveryChannel,
    readonly stream: Stream,
    private offset: number,
    readonly prefetch: number,
    options: ConsumeOptions,
    private readonly reader: StreamReader,
    /** Server-side filter: non-matching messages are skipped for this consumer only. */
    private readonly filter: MessageFilter | null = null,
  ) {
    this.noAck = options.noAck === true;
    this.arguments = options.arguments ?? {};
    this.onDelivery = options.onDelivery;
    this.onCancel = options.onCancel;
  }

  get name(): string {
    return this.stream.name;
  }
  get deleted(): boolean {
    return this.stream.deleted;
  }

  private credit(): number {
    if (this.cancelled || !this.channel.canTake(this.noAck)) return 0;
    if (this.noAck || this.prefetch === 0) return READ_MAX;
    return Math.max(0, Math.min(READ_MAX, this.prefetch - this.unacked));
  }

  /** Reads and delivers while there is credit; waits at the end of the stream. */
  kick(): void {
    if (this.reading || this.cancelled) return;
    const n = this.credit();
    if (n === 0) return;
    this.reading = true;
    const read = this.filter === null
      ? this.reader.readMessages(this.stream.name, 0, this.offset, n).then((messages) => ({ messages, nextOffset: -1 }))
      : this.reader.readFilteredMessages(this.stream.name, 0, this.offset, n, this.filter);
    void read
      .then(({ messages: msgs, nextOffset }) => {
        this.reading = false;
        if (this.cancelled) return;
        const before = this.offset;
        for (const m of msgs) {
          if (m.offset < this.offset) continue;
          this.offset = m.offset + 1;
          this.deliver(m);
        }
        if (nextOffset > this.offset) this.offset = nextOffset;
        if (this.offset > before) this.kick();
        else {
          this.reading = true;
          void this.reader.waitForData(this.stream.name, 0, this.offset, WAIT_MS, this.abort.signal).then(() => {
            this.reading = false;
            this.kick();
          });
        }
      })
      .catch((err: unknown) => {
        this.reading = false;
        this.reader.warn({ stream: this.stream.name, err: String(err) }, 'stream consumer read failed');
      });
  }

  private deliver(m: StreamMessage): void {
    let tag: number;
    if (this.noAck) tag = this.channel.nextTag();
    else {
      tag = this.channel.track({ queue: this, entry: { offset: m.offset }, consumer: null });
      this.unacked++;
    }
    this.onDelivery({
      deliveryTag: tag,
      consumerTag: this.tag,
      queue: this.stream.name,
      message: m.message,
      redelivered: false,
      deliveryCount: 0,
      expiresAt: null,
      offset: m.offset,
    });
  }

  settleDelivery(_p: PendingDelivery): void {
    this.unacked--;
    this.kick();
  }

  returnDeliveries(ps: PendingDelivery[]): void {
    this.unacked -= ps.length;
    this.kick();
  }

  cancel(): void {
    this.cancelled = true;
    this.abort.abort();
  }
}

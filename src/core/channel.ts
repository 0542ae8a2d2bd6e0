/**
 * A channel: the delivery context of one protocol session. It owns delivery tags, the
 * unacked deliveries in tag order (a Map iterates in insertion order, so `multiple` acks walk
 * from the oldest), the consumers started on it and its credit (per-consumer prefetch for new
 * consumers, and an optional shared "global" credit for all of them).
 */
import type { Channel, ChannelInfo, ConsumeOptions, ConsumerInfo, ConsumeResult, GetResult, Message, PublishOptions, PublishResult } from './api.js';
import type { ConnectionImpl } from './connection.js';
import type { Consumer, DeliveryChannel, PendingDelivery, QueueLike } from './consumer.js';
import { NotAllowed, NotFound, PreconditionFailed } from './errors.js';
import type { StreamConsumer } from './stream-consumer.js';

export class ChannelImpl implements Channel, DeliveryChannel {
  private readonly pending = new Map<number, PendingDelivery>();
  private tagSeq = 0;
  private consumerSeq = 0;
  readonly consumers = new Map<string, Consumer | StreamConsumer>();
  private prefetchDefault = 0;
  private globalPrefetch = 0;
  /** Unacked deliveries made to consumers (what global credit counts). */
  private consumerUnacked = 0;
  private flow = true;
  closed = false;

  constructor(
    readonly id: number,
    readonly connection: ConnectionImpl,
  ) {}

  private get vhost() {
    return this.connection.vhostImpl;
  }

  private checkOpen(): void {
    if (this.closed) throw new NotAllowed(`channel ${this.id} of connection ${this.connection.id} is closed`);
  }

  info(): ChannelInfo {
    const consumerDetails: ConsumerInfo[] = [];
    for (const c of this.consumers.values()) {
      const queue = 'queueName' in c ? c.queueName : c.name;
      consumerDetails.push({ tag: c.tag, queue, ackRequired: !c.noAck, exclusive: c.exclusive, prefetch: c.prefetch, priority: c.priority, active: c.active, arguments: c.arguments });
    }
    return { number: this.id, consumers: this.consumers.size, unacked: this.pending.size, prefetch: this.prefetchDefault, globalPrefetch: this.globalPrefetch, consumerDetails };
  }

  // DeliveryChannel --------------------------------------------------------------------------

  get paused(): boolean {
    return !this.flow && !this.closed;
  }

  canTake(noAck: boolean): boolean {
    if (this.closed || !this.flow) return false;
    return noAck || this.globalPrefetch === 0 || this.consumerUnacked < this.globalPrefetch;
  }
  track(p: PendingDelivery): number {
    const tag = ++this.tagSeq;
    this.pending.set(tag, p);
    if (p.consumer) this.consumerUnacked++;
    this.countDelivery();
    return tag;
  }
  nextTag(): number {
    this.countDelivery();
    return ++this.tagSeq;
  }
  /** Every delivery takes a tag (tracked or not): count it here, once. */
  private countDelivery(): void {
    this.connection.delivered++;
    this.vhost.ctx.counts.delivered[this.connection.origin.protocol]++;
  }

  // Channel ----------------------------------------------------------------------------------

  publish(exchange: string, routingKey: string, message: Message, options?: PublishOptions): PublishResult {
    this.checkOpen();
    this.connection.published++;
    this.vhost.ctx.counts.published[this.connection.origin.protocol]++;
    let origin = this.connection.origin;
    if (options?.onBehalfOf !== undefined) {
      // Only the broker may name another publisher: a client connection cannot choose its identity.
      if (!this.connection.internal) throw new NotAllowed('publishing on behalf of another client is for the broker\'s own connections');
      origin = options.onBehalfOf;
    }
    const flow = this.vhost.ctx.flow;
    flow.hit = null;
    const result = this.vhost.publish(exchange, routingKey, message, options?.mandatory === true, origin, options?.delayMs);
    if (flow.hit !== null) flow.throttle(this.connection, flow.hit);
    return result;
  }

  consume(queue: string, options: ConsumeOptions): ConsumeResult {
    this.checkOpen();
    let tag = options.consumerTag;
    if (tag === undefined || tag === '') {
      do tag = `ctag-${this.id}.${++this.consumerSeq}`;
      while (this.consumers.has(tag));
    } else if (this.consumers.has(tag)) {
      throw new PreconditionFailed(`consumer tag '${tag}' is already in use on channel ${this.id}`);
    }
    const prefetch = options.prefetch ?? this.prefetchDefault;
    const c = this.vhost.startConsumer(this, queue, tag, prefetch, options, this.connection.id);
    this.consumers.set(tag, c);
    return { consumerTag: tag, active: c.active };
  }

  cancel(consumerTag: string, options?: { requeueUnacked?: boolean }): void {
    const c = this.consumers.get(consumerTag);
    if (!c) throw new NotFound(`no consumer '${consumerTag}' on channel ${this.id}`);
    this.consumers.delete(consumerTag);
    this.vhost.stopConsumer(c);
    if (options?.requeueUnacked) {
      const mine: PendingDelivery[] = [];
      for (const [tag, p] of this.pending) {
        if (p.consumer !== c && p.queue !== c) continue;
        this.pending.delete(tag);
        if (p.consumer) this.consumerUnacked--;
        mine.push(p);
      }
      this.returnAll(mine, false);
    }
  }

  /** The core cancelled a consumer (queue deleted): forget it and tell the adapter. */
  consumerCancelled(c: Consumer | StreamConsumer, reason: string): void {
    if (this.consumers.get(c.tag) !== c) return;
    this.consumers.delete(c.tag);
    c.onCancel?.(reason);
  }

  get(queue: string, options?: { noAck?: boolean }): GetResult | null {
    this.checkOpen();
    return this.vhost.getMessage(this, queue, options?.noAck === true, this.connection.id);
  }

  /** Removes and returns the pending deliveries that `tag`/`multiple` select. */
  private take(deliveryTag: number, multiple: boolean): PendingDelivery[] {
    const out: PendingDelivery[] = [];
    if (multiple) {
      for (const [tag, p] of this.pending) {
        if (deliveryTag !== 0 && tag > deliveryTag) break;
        this.pending.delete(tag);
        out.push(p);
      }
      if (out.length === 0 && deliveryTag !== 0) throw new PreconditionFailed(`unknown delivery tag ${deliveryTag} on channel ${this.id}`);
    } else {
      const p = this.pending.get(deliveryTag);
      if (!p) throw new PreconditionFailed(`unknown delivery tag ${deliveryTag} on channel ${this.id}`);
      this.pending.delete(deliveryTag);
      out.push(p);
    }
    for (const p of out) if (p.consumer) this.consumerUnacked--;
    return out;
  }

  ack(deliveryTag: number, multiple = false): void {
    this.checkOpen();
    const ps = this.take(deliveryTag, multiple);
    for (const p of ps) p.queue.settleDelivery(p);
    this.creditFreed();
  }

  nack(deliveryTag: number, multiple = false, requeue = true): void {
    this.checkOpen();
    this.returnAll(this.take(deliveryTag, multiple), !requeue);
    this.creditFreed();
  }

  reject(deliveryTag: number, requeue = true): void {
    this.nack(deliveryTag, false, requeue);
  }

  recover(_requeue = true): void {
    this.checkOpen();
    const ps = [...this.pending.values()];
    this.pending.clear();
    this.consumerUnacked = 0;
    this.returnAll(ps, false);
    this.creditFreed();
  }

  /** Returns deliveries to their queues grouped by queue (each queue requeues in offset order). */
  private returnAll(ps: PendingDelivery[], deadLetter: boolean, disconnected = false): void {
    if (ps.length === 0) return;
    if (ps.length === 1) {
      ps[0]!.queue.returnDeliveries(ps, deadLetter, disconnected);
      return;
    }
    const byQueue = new Map<QueueLike, PendingDelivery[]>();
    for (const p of ps) {
      const list = byQueue.get(p.queue);
      if (list) list.push(p);
      else byQueue.set(p.queue, [p]);
    }
    for (const [q, list] of byQueue) q.returnDeliveries(list, deadLetter, disconnected);
  }

  /** With shared credit, any ack can unblock any consumer of the channel. */
  private creditFreed(): void {
    if (this.globalPrefetch > 0) for (const c of this.consumers.values()) this.vhost.kick(c);
  }

  qos(prefetchCount: number, global = false): void {
    this.checkOpen();
    if (global) {
      this.globalPrefetch = prefetchCount;
      for (const c of this.consumers.values()) this.vhost.kick(c);
    } else this.prefetchDefault = prefetchCount;
  }

  setFlow(active: boolean): void {
    if (this.flow === active) return;
    this.flow = active;
    if (active) for (const c of this.consumers.values()) this.vhost.kick(c);
  }

  get unackedCount(): number {
    return this.pending.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.consumers.values()) this.vhost.stopConsumer(c);
    this.consumers.clear();
    const ps = [...this.pending.values()];
    this.pending.clear();
    this.consumerUnacked = 0;
    this.returnAll(ps, false, true);
    this.connection.channelClosed(this);
  }
}

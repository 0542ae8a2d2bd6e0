import type { Arguments, ConsumeOptions, Delivery } from './api.js';
import type { MessageFilter } from './message-filter.js';

/** What a consumer needs from its channel: credit, flow and delivery tags. */
export interface DeliveryChannel {
  readonly closed: boolean;
  /** Deliveries are paused by flow (the adapter waits for the socket to drain). */
  readonly paused: boolean;
  /** Channel flow is on and (unless `noAck`) the channel's shared (global) credit is not used up. */
  canTake(noAck: boolean): boolean;
  /** Registers an unacked delivery and returns its tag. */
  track(pending: PendingDelivery): number;
  /** A tag for a delivery that needs no ack (noAck). */
  nextTag(): number;
}

/** A delivery awaiting ack, held by its channel under its delivery tag. */
export interface PendingDelivery {
  queue: QueueLike;
  entry: { offset: number };
  consumer: Consumer | null;
}

/** The queue side of a pending delivery (avoids a cycle between queue.ts and channel.ts). */
export interface QueueLike {
  readonly name: string;
  readonly deleted: boolean;
  settleDelivery(p: PendingDelivery): void;
  /** `disconnected`: the channel closed with them unacked (x-retry-on-disconnect). */
  returnDeliveries(ps: PendingDelivery[], deadLetterInstead: boolean, disconnected?: boolean): void;
}

/** A push consumer on a queue: credit (prefetch), priority, exclusivity, single-active state. */
export class Consumer {
  unacked = 0;
  /** Single-active-consumer: only the active one receives. */
  active = true;
  cancelled = false;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly priority: number;
  /** As the client gave them (management shows them). */
  readonly arguments: Arguments;
  readonly onDelivery: (d: Delivery) => void;
  readonly onCancel: ((reason: string) => void) | undefined;
  readonly onActiveChange: ((active: boolean) => void) | undefined;

  constructor(
    readonly tag: string,
    readonly channel: DeliveryChannel,
    readonly queueName: string,
    public prefetch: number,
    options: ConsumeOptions,
    /** Server-side filter (tag values, selector): the queue offers it matching messages only. */
    readonly filter: MessageFilter | null = null,
  ) {
    this.noAck = options.noAck === true;
    this.exclusive = options.exclusive === true;
    this.priority = options.priority ?? 0;
    this.arguments = options.arguments ?? {};
    this.onDelivery = options.onDelivery;
    this.onCancel = options.onCancel;
    this.onActiveChange = options.onActiveChange;
  }

  /** Has credit but its channel is paused: it waits on its socket (publisher-flow.ts). */
  waitsOnSocket(): boolean {
    return this.active && !this.cancelled && (this.noAck || this.prefetch === 0 || this.unacked < this.prefetch) && this.channel.paused;
  }

  /** Whether it can take one more delivery now. */
  canTake(): boolean {
    return this.active && !this.cancelled && (this.noAck || this.prefetch === 0 || this.unacked < this.prefetch) && this.channel.canTake(this.noAck);
  }
}

import type { Channel, ConnectOptions, Connection, ConnectionInfo, MessageOrigin, Vhost } from './api.js';
import { ChannelImpl } from './channel.js';
import { NotAllowed } from './errors.js';
import type { Queue } from './queue.js';
import type { VhostImpl } from './vhost.js';

const FLOWING: Promise<void> = Promise.resolve();

/** A protocol connection as the core sees it: an id (owner of exclusive queues), an origin, channels. */
export class ConnectionImpl implements Connection {
  /** Made on the first channel: a registered idle connection (MQTT, Kafka) has none. */
  private channels: Set<ChannelImpl> | null = null;
  private channelSeq = 0;
  closed = false;
  readonly origin: MessageOrigin;
  readonly connectedAt = Date.now();
  /** Messages published through and delivered to this connection (management). */
  published = 0;
  delivered = 0;
  /** The backlogged queue this connection waits for (publisher-flow.ts), or null. */
  throttledBy: Queue | null = null;
  private flowResumed: Promise<void> = FLOWING;
  private resumeFlow: (() => void) | null = null;

  constructor(
    readonly id: string,
    readonly vhostImpl: VhostImpl,
    origin: Omit<MessageOrigin, 'connectionId'>,
    private readonly options: Partial<ConnectOptions> = {},
  ) {
    // Spelled out, not spread: a spread copy got a hidden class of its own per connection (~190 B each).
    this.origin = { protocol: origin.protocol, clientId: origin.clientId, user: origin.user, connectionId: id };
  }

  get internal(): boolean {
    return this.options.internal === true;
  }

  get vhost(): Vhost {
    return this.vhostImpl;
  }

  get throttled(): boolean {
    return this.throttledBy !== null;
  }

  whenUnthrottled(): Promise<void> {
    return this.flowResumed;
  }

  throttle(q: Queue): void {
    this.throttledBy = q;
    this.flowResumed = new Promise((resolve) => (this.resumeFlow = resolve));
  }

  unthrottle(): void {
    this.throttledBy = null;
    this.resumeFlow?.();
    this.resumeFlow = null;
    this.flowResumed = FLOWING;
  }

  /** Whether any of its channels has a consumer (such a connection is never throttled: its acks must be read). */
  consumes(): boolean {
    if (this.channels) for (const ch of this.channels) if (ch.consumers.size > 0) return true;
    return false;
  }

  openChannel(): Channel {
    if (this.closed) throw new NotAllowed(`connection ${this.id} is closed`);
    const ch = new ChannelImpl(++this.channelSeq, this);
    (this.channels ??= new Set()).add(ch);
    return ch;
  }

  channelClosed(ch: ChannelImpl): void {
    this.channels?.delete(ch);
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      vhost: this.vhostImpl.name,
      protocol: this.origin.protocol,
      user: this.origin.user,
      clientId: this.origin.clientId,
      remote: this.options.remote ?? '',
      clientProperties: this.options.clientProperties ?? {},
      connectedAt: this.connectedAt,
      channels: this.channels?.size ?? 0,
      channelDetails: this.channels ? [...this.channels].map((c) => c.info()) : [],
      published: this.published,
      delivered: this.delivered,
      throttled: this.throttledBy !== null,
    };
  }

  /** An operator's close: the adapter ends the protocol connection, then the core one closes. */
  async requestClose(reason: string): Promise<void> {
    try {
      this.options.onCloseRequest?.(reason);
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.vhostImpl.ctx.flow.forget(this);
    if (this.channels) for (const ch of [...this.channels]) ch.close();
    await this.vhostImpl.connectionClosed(this);
  }
}

import type { Channel, Connection, MessageOrigin, Vhost } from './api.js';
import { ChannelImpl } from './channel.js';
import { NotAllowed } from './errors.js';
import type { VhostImpl } from './vhost.js';

/** A protocol connection as the core sees it: an id (owner of exclusive queues), an origin, channels. */
export class ConnectionImpl implements Connection {
  private readonly channels = new Set<ChannelImpl>();
  private channelSeq = 0;
  closed = false;
  readonly origin: MessageOrigin;

  constructor(
    readonly id: string,
    readonly vhostImpl: VhostImpl,
    origin: Omit<MessageOrigin, 'connectionId'>,
  ) {
    this.origin = { ...origin, connectionId: id };
  }

  get vhost(): Vhost {
    return this.vhostImpl;
  }

  openChannel(): Channel {
    if (this.closed) throw new NotAllowed(`connection ${this.id} is closed`);
    const ch = new ChannelImpl(++this.channelSeq, this);
    this.channels.add(ch);
    return ch;
  }

  channelClosed(ch: ChannelImpl): void {
    this.channels.delete(ch);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ch of [...this.channels]) ch.close();
    await this.vhostImpl.connectionClosed(this);
  }
}

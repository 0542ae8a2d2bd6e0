import type { Channel } from '../../src/core/index.js';
import type { MessageFrameHead } from './mapping/message-frame.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

/**
 * One SUBSCRIBE: a consumer on its own core channel, so delivery tags, credit and `client`
 * mode's cumulative ACK are per subscription, as STOMP defines them.
 */
export interface Subscription {
  readonly id: string;
  readonly destination: string;
  readonly ackMode: AckMode;
  readonly channel: Channel;
  readonly consumerTag: string;
  /** The queue consumed. */
  readonly queue: string;
  /** The queue belongs to this subscription (topic/exchange/durable): deleted by an UNSUBSCRIBE that says so. */
  readonly ownQueue: boolean;
  readonly durable: boolean;
  readonly head: MessageFrameHead;
}

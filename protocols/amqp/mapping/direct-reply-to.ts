import { randomBytes } from 'node:crypto';

/**
 * Direct reply-to (RabbitMQ's `amq.rabbitmq.reply-to`): a requester consumes the pseudo-queue
 * in no-ack mode; its requests carry a reply-to naming a token; a reply published to the
 * default exchange with that name goes straight to the requester's consumer, bypassing queues.
 * Tokens live as long as the consumer, across connections of this adapter.
 */
export const REPLY_TO_QUEUE = 'amq.rabbitmq.reply-to';
export const REPLY_TO_PREFIX = 'amq.rabbitmq.reply-to.';

export interface ReplyConsumer {
  /** the connection owning it (for cleanup) */
  owner: object;
  deliver(exchange: string, routingKey: string, propertyBytes: Buffer, body: Buffer): void;
}

export class DirectReplyRegistry {
  private readonly byToken = new Map<string, ReplyConsumer>();

  register(consumer: ReplyConsumer): string {
    const token = randomBytes(18).toString('base64url');
    this.byToken.set(token, consumer);
    return token;
  }

  unregister(token: string): void {
    this.byToken.delete(token);
  }

  /** The consumer behind `amq.rabbitmq.reply-to.<token>`, if it still exists. */
  lookup(routingKey: string): ReplyConsumer | undefined {
    return this.byToken.get(routingKey.slice(REPLY_TO_PREFIX.length));
  }

  dropConnection(owner: object): void {
    for (const [t, c] of this.byToken) if (c.owner === owner) this.byToken.delete(t);
  }
}

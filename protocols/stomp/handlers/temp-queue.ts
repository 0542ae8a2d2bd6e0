import type { StompSession } from '../session.js';
import { startSubscription } from './consume.js';

/**
 * `reply-to:/temp-queue/<name>` (RabbitMQ "Temp Queue Destinations"): the first use in a
 * session creates a private, exclusive, auto-delete, server-named queue and subscribes the
 * session to it in auto-ack mode with subscription id `/temp-queue/<name>`. The stored
 * reply-to becomes `/reply-queue/<queue>`, where repliers SEND.
 */
export async function ensureTempQueue(session: StompSession, replyTo: string): Promise<string> {
  const known = session.tempQueues.get(replyTo);
  if (known !== undefined) return known;
  const connection = session.connection!;
  const { name } = await connection.vhost.declareQueue('', { durable: false, exclusive: true, autoDelete: true }, connection.id);
  session.tempQueues.set(replyTo, name);
  startSubscription(session, {
    id: replyTo,
    destination: replyTo,
    ackMode: 'auto',
    queue: name,
    ownQueue: true,
    durable: false,
    prefetch: 0,
    exclusive: true,
  });
  return name;
}

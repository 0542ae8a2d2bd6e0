import { randomBytes } from 'node:crypto';
import { authorize } from '../mapping/authorize.js';
import type { StompSession } from '../session.js';
import { startSubscription } from './consume.js';

/**
 * `reply-to:/temp-queue/<name>` (RabbitMQ "Temp Queue Destinations"): the first use in a
 * session creates a private, exclusive, auto-delete queue named `stomp.gen-<random>` (as
 * RabbitMQ names it) and subscribes the session to it in auto-ack mode with subscription id
 * `/temp-queue/<name>`. The stored reply-to becomes `/reply-queue/<queue>`, where repliers
 * SEND. As RabbitMQ, the user needs configure (declare) and read (consume) on that name.
 */
export async function ensureTempQueue(session: StompSession, replyTo: string): Promise<string> {
  const known = session.tempQueues.get(replyTo);
  if (known !== undefined) return known;
  const connection = session.connection!;
  const queue = `stomp.gen-${randomBytes(16).toString('base64url')}`;
  authorize(session, 'queue', queue, 'configure');
  authorize(session, 'queue', queue, 'read');
  const { name } = await connection.vhost.declareQueue(queue, { durable: false, exclusive: true, autoDelete: true }, connection.id);
  session.tempQueues.set(replyTo, name);
  startSubscription(session, {
    id: replyTo,
    hasId: true,
    consumerTag: `T_${replyTo}`,
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

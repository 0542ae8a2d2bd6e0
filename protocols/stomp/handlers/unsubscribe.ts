import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import { authorize } from '../mapping/authorize.js';
import { booleanHeader } from '../mapping/boolean-header.js';
import type { StompSession } from '../session.js';
import { stopSubscription } from './consume.js';
import { requireIdIfDurable } from './subscribe.js';

/**
 * UNSUBSCRIBE by `id` (1.0: or by `destination`). A durable subscription's queue stays for the
 * next connection unless the frame repeats `durable:true` (RabbitMQ, alias `persistent`) or
 * names `activemq.subscriptionName` (ActiveMQ): then the queue is deleted (configure on it).
 */
export async function handleUnsubscribe(session: StompSession, frame: StompFrame): Promise<void> {
  const h = frame.headers;
  if (headerOf(h, 'id') === undefined) requireIdIfDurable(h);
  const id = headerOf(h, 'id') ?? headerOf(h, 'destination');
  if (id === undefined) throw new StompError("Missing 'id' header", 'UNSUBSCRIBE needs an id (or, in STOMP 1.0, a destination)');
  const sub = session.subscriptions.get(id);
  if (sub === undefined) throw new StompError('Subscription not found', `no subscription with id '${id}' on this connection`);
  const forget = (booleanHeader(h, 'durable') ?? booleanHeader(h, 'persistent')) === true || headerOf(h, 'activemq.subscriptionName') !== undefined;
  const deletes = sub.ownQueue && sub.durable && forget;
  // Deleting the queue needs configure on it (RabbitMQ's STOMP plugin); refused, nothing changes.
  if (deletes) authorize(session, 'queue', sub.queue, 'configure');
  stopSubscription(session, sub);
  if (deletes) {
    await session.connection!.vhost.deleteQueue(sub.queue, {}, session.connection!.id);
  }
  session.receipt(headerOf(h, 'receipt'));
}

import type { Arguments, ConsumeOptions, OffsetSpec } from '../../../src/core/index.js';
import { StompError } from '../errors.js';
import { createMessageFrameHead } from '../mapping/message-frame.js';
import type { StompSession } from '../session.js';
import type { AckMode, Subscription } from '../subscription.js';

export interface SubscriptionRequest {
  /** The SUBSCRIBE's `id`, or (1.0 without one) its destination. */
  id: string;
  /** Whether the SUBSCRIBE had an `id`: MESSAGE frames name it in `subscription` only then (as RabbitMQ). */
  hasId: boolean;
  consumerTag: string;
  destination: string;
  ackMode: AckMode;
  queue: string;
  ownQueue: boolean;
  durable: boolean;
  /** Credit (unacked deliveries) of this subscription; 0 = unlimited (RabbitMQ's STOMP default). */
  prefetch: number;
  exclusive: boolean;
  streamOffset?: OffsetSpec;
  /** Consumer arguments (server-side filter), passed to the core as given. */
  consumerArguments?: Arguments | undefined;
}

/** Starts a core consumer for a subscription on a channel of its own. */
export function startSubscription(session: StompSession, req: SubscriptionRequest): Subscription {
  const connection = session.connection!;
  const channel = connection.openChannel();
  const withAck = session.version === '1.2' && req.ackMode !== 'auto';
  const sub: Subscription = {
    id: req.id,
    destination: req.destination,
    ackMode: req.ackMode,
    channel,
    consumerTag: req.consumerTag,
    queue: req.queue,
    ownQueue: req.ownQueue,
    durable: req.durable,
    head: createMessageFrameHead(session.version, req.hasId ? req.id : undefined, channel.id, withAck, connection.vhost.queue(req.queue)?.type === 'stream'),
  };
  // Registered before consume: the core may deliver from inside consume().
  session.subscriptions.set(sub.id, sub);
  session.subscriptionsByChannel.set(channel.id, sub);
  session.applyFlow(sub);
  const options: ConsumeOptions = {
    consumerTag: sub.consumerTag,
    noAck: req.ackMode === 'auto',
    prefetch: req.prefetch,
    exclusive: req.exclusive,
    onDelivery: (delivery) => session.deliver(sub, delivery),
    onCancel: (reason) => {
      if (session.subscriptions.get(sub.id) !== sub) return;
      session.fail(new StompError('Subscription cancelled', `the server cancelled subscription '${sub.id}' on queue '${sub.queue}': ${reason}`));
    },
  };
  if (req.streamOffset !== undefined) options.streamOffset = req.streamOffset;
  if (req.consumerArguments !== undefined) options.arguments = req.consumerArguments;
  try {
    channel.consume(req.queue, options);
  } catch (e) {
    session.subscriptions.delete(sub.id);
    session.subscriptionsByChannel.delete(channel.id);
    channel.close();
    throw e;
  }
  return sub;
}

/** Stops a subscription; its unacked messages go back to the queue (the channel's close requeues them). */
export function stopSubscription(session: StompSession, sub: Subscription): void {
  session.subscriptions.delete(sub.id);
  session.subscriptionsByChannel.delete(sub.channel.id);
  sub.channel.close();
}

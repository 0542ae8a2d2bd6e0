import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import type { StompSession } from '../session.js';
import type { Subscription } from '../subscription.js';

/**
 * ACK and NACK. The id is `ack` of the MESSAGE in 1.2 (`id` header) and its `message-id` in 1.0
 * and 1.1; both are `<channel>-<delivery tag>` (mapping/message-frame.ts). In `client` mode they
 * are cumulative over the subscription, in `client-individual` mode they cover one message
 * (STOMP 1.2 "SUBSCRIBE ack Header").
 */
export function handleAck(session: StompSession, frame: StompFrame): void {
  const { sub, deliveryTag } = target(session, frame);
  const tx = headerOf(frame.headers, 'transaction');
  if (tx !== undefined) {
    transaction(session, tx).push({ kind: 'ack', subscription: sub, deliveryTag });
  } else {
    applyAck(sub, deliveryTag);
  }
  session.receipt(headerOf(frame.headers, 'receipt'));
}

/**
 * NACK: requeued, or dead-lettered / dropped. RabbitMQ's `requeue` header decides when given;
 * otherwise the queue's policy does: a queue with a dead-letter exchange dead-letters, any other
 * requeues (RabbitMQ's default).
 */
export function handleNack(session: StompSession, frame: StompFrame): void {
  const { sub, deliveryTag } = target(session, frame);
  const requeueHeader = headerOf(frame.headers, 'requeue');
  const requeue = requeueHeader === undefined ? undefined : requeueHeader !== 'false';
  const tx = headerOf(frame.headers, 'transaction');
  if (tx !== undefined) {
    transaction(session, tx).push({ kind: 'nack', subscription: sub, deliveryTag, requeue });
  } else {
    applyNack(session, sub, deliveryTag, requeue);
  }
  session.receipt(headerOf(frame.headers, 'receipt'));
}

export function applyAck(sub: Subscription, deliveryTag: number): void {
  if (sub.ackMode === 'auto') throw autoMode(sub);
  sub.channel.ack(deliveryTag, sub.ackMode === 'client');
}

export function applyNack(session: StompSession, sub: Subscription, deliveryTag: number, requeue: boolean | undefined): void {
  if (sub.ackMode === 'auto') throw autoMode(sub);
  const deadLetters = session.connection!.vhost.queue(sub.queue)?.effectiveArguments['x-dead-letter-exchange'] !== undefined;
  sub.channel.nack(deliveryTag, sub.ackMode === 'client', requeue ?? !deadLetters);
}

function target(session: StompSession, frame: StompFrame): { sub: Subscription; deliveryTag: number } {
  const name = session.version === '1.2' ? 'id' : 'message-id';
  const ackId = headerOf(frame.headers, name)!;
  const m = /^([0-9]{1,9})-([0-9]{1,15})$/.exec(ackId);
  if (m === null) throw new StompError('Invalid header', `${frame.command} ${name} '${ackId}' is not an id this server gave a MESSAGE`);
  const sub = session.subscriptionsByChannel.get(Number(m[1]));
  if (sub === undefined) {
    throw new StompError('Subscription not found', `${frame.command} ${name} '${ackId}' belongs to no active subscription of this connection`);
  }
  return { sub, deliveryTag: Number(m[2]) };
}

function transaction(session: StompSession, tx: string) {
  const ops = session.transactions.get(tx);
  if (ops === undefined) throw new StompError('Bad transaction', `transaction '${tx}' is not active (BEGIN it first)`);
  return ops;
}

function autoMode(sub: Subscription): StompError {
  return new StompError('Invalid ACK', `subscription '${sub.id}' uses ack:auto; its messages need no ACK or NACK`);
}

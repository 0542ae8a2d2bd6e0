import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import { booleanHeader } from '../mapping/boolean-header.js';
import type { StompSession } from '../session.js';
import type { Subscription } from '../subscription.js';
import { holdInTransaction } from './transaction.js';

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
    holdInTransaction(session, tx, { kind: 'ack', subscription: sub, deliveryTag });
  } else {
    applyAck(sub, deliveryTag);
  }
  ackReceipt(session, frame);
}

/**
 * NACK: requeued, or dead-lettered / dropped. RabbitMQ's `requeue` header decides when given;
 * otherwise the queue's policy does: a queue with a dead-letter exchange dead-letters, any other
 * requeues (RabbitMQ's default).
 */
export function handleNack(session: StompSession, frame: StompFrame): void {
  const { sub, deliveryTag } = target(session, frame);
  const requeue = booleanHeader(frame.headers, 'requeue');
  const tx = headerOf(frame.headers, 'transaction');
  if (tx !== undefined) {
    holdInTransaction(session, tx, { kind: 'nack', subscription: sub, deliveryTag, requeue });
  } else {
    applyNack(session, sub, deliveryTag, requeue);
  }
  ackReceipt(session, frame);
}

/**
 * The core writes acks without fsync; a RECEIPT promises the ACK/NACK took effect durably, so
 * one asked for waits for the core's flush (only then: unreceipted acks stay cheap).
 */
function ackReceipt(session: StompSession, frame: StompFrame): void {
  const receipt = headerOf(frame.headers, 'receipt');
  if (receipt !== undefined) session.receipt(receipt, session.core.flush());
}

export function applyAck(sub: Subscription, deliveryTag: number): void {
  if (sub.ackMode === 'auto') throw autoMode(sub);
  sub.channel.ack(deliveryTag, sub.ackMode === 'client');
}

export function applyNack(session: StompSession, sub: Subscription, deliveryTag: number, requeue: boolean | undefined): void {
  if (sub.ackMode === 'auto') throw autoMode(sub);
  const args = session.connection!.vhost.queue(sub.queue)?.effectiveArguments;
  // With a dead-letter exchange or retry delays (x-retry-delays) a NACK is a failed attempt.
  const deadLetters = args !== undefined && (args['x-dead-letter-exchange'] !== undefined || args['x-retry-delays'] !== undefined);
  sub.channel.nack(deliveryTag, sub.ackMode === 'client', requeue ?? !deadLetters);
}

function target(session: StompSession, frame: StompFrame): { sub: Subscription; deliveryTag: number } {
  const name = session.version === '1.2' ? 'id' : 'message-id';
  const ackId = headerOf(frame.headers, name)!;
  const [channel, deliveryTag] = parseAckId(ackId);
  if (channel < 0) throw new StompError('Invalid header', `${frame.command} ${name} '${ackId}' is not an id this server gave a MESSAGE`);
  const sub = session.subscriptionsByChannel.get(channel);
  if (sub === undefined) {
    throw new StompError('Subscription not found', `${frame.command} ${name} '${ackId}' belongs to no active subscription of this connection`);
  }
  return { sub, deliveryTag };
}

/** `<channel>-<delivery tag>` → the two numbers, or [-1, -1]; by hand, as it runs once per ACK. */
function parseAckId(id: string): [number, number] {
  let channel = 0;
  let tag = 0;
  let i = 0;
  for (; i < id.length && i < 10; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    channel = channel * 10 + c;
  }
  if (i === 0 || id.charCodeAt(i) !== 45 /* - */ || i + 1 >= id.length || id.length - i > 16) return [-1, -1];
  for (i++; i < id.length; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return [-1, -1];
    tag = tag * 10 + c;
  }
  return [channel, tag];
}


function autoMode(sub: Subscription): StompError {
  return new StompError('Invalid ACK', `subscription '${sub.id}' uses ack:auto; its messages need no ACK or NACK`);
}

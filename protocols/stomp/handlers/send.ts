import type { Message } from '../../../src/core/index.js';
import { authorize, authorizeDeclare, authorizeTopic } from '../mapping/authorize.js';
import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import { queueArgumentsOf } from '../mapping/queue-arguments.js';
import { messageFromSend } from '../mapping/send-message.js';
import { sendTargetOf, type SendTarget } from '../mapping/send-target.js';
import type { StompSession } from '../session.js';
import { ensureTempQueue } from './temp-queue.js';
import { publish } from './publish.js';
import { holdInTransaction } from './transaction.js';

const MAX_CACHED_TARGETS = 1024;

/**
 * SEND: publish to the destination's exchange and routing key (mapping/destination.ts), or
 * hold it in a transaction. RECEIPT follows once the publish is durable (persistent:true to a
 * durable queue: fsynced in `sync` mode).
 */
export function handleSend(session: StompSession, frame: StompFrame): void | Promise<void> {
  const h = frame.headers;
  const destination = headerOf(h, 'destination')!;
  let target = session.sendTargets.get(destination);
  if (target === undefined) {
    target = sendTargetOf(destination);
    if (session.sendTargets.size >= MAX_CACHED_TARGETS) session.sendTargets.clear();
    session.sendTargets.set(destination, target);
  }
  const replyTo = headerOf(h, 'reply-to');
  if (replyTo !== undefined && replyTo.startsWith('/temp-queue/')) {
    return ensureTempQueue(session, replyTo).then((queue) => send(session, frame, target, `/reply-queue/${queue}`));
  }
  return send(session, frame, target, undefined);
}

function send(session: StompSession, frame: StompFrame, target: SendTarget, replyTo: string | undefined): void | Promise<void> {
  const h = frame.headers;
  authorize(session, 'exchange', target.exchange, 'write');
  authorizeTopic(session, target.exchange, target.routingKey, 'write');
  const message = messageFromSend(frame, session.version, replyTo, Date.now());
  // As AMQP's user-id: other protocols' consumers may rely on it naming the sender (RabbitMQ
  // validates it for STOMP too), so a SEND may claim only its own login.
  const userId = message.properties.userId;
  if (userId !== undefined && userId !== session.user) {
    throw new StompError('Bad user-id', `user-id header set to '${userId}' but the authenticated user is '${session.user}'`);
  }
  const receipt = headerOf(h, 'receipt');
  const tx = headerOf(h, 'transaction');
  if (target.declareQueue !== null) {
    return declareOnce(session, target, h).then(() => publishOrHold(session, target, message, receipt, tx));
  }
  publishOrHold(session, target, message, receipt, tx);
}

function publishOrHold(session: StompSession, target: SendTarget, message: Message, receipt: string | undefined, tx: string | undefined): void {
  if (tx !== undefined) {
    // Its RECEIPT waits for COMMIT and the message's durability (RabbitMQ's rule): a receipt
    // before COMMIT would acknowledge a message a disconnect still discards.
    holdInTransaction(session, tx, { kind: 'send', target, message, receipt });
    return;
  }
  session.receipt(receipt, publish(session, target, message, receipt !== undefined));
}

/**
 * `/queue/<name>` is declared (durable, with the frame's `x-` arguments) on the first SEND of a
 * session when it does not exist: RabbitMQ's rule. The session's cached target then forgets it.
 */
async function declareOnce(session: StompSession, target: SendTarget, headers: readonly string[]): Promise<void> {
  const name = target.declareQueue;
  if (name === null) return;
  const vhost = session.connection!.vhost;
  if (vhost.queue(name) === null) {
    const args = queueArgumentsOf(headers);
    authorizeDeclare(session, name, args);
    await vhost.declareQueue(name, { durable: true, arguments: args }, session.connection!.id);
  }
  target.declareQueue = null;
}

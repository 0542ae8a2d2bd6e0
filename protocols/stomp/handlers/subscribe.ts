import { createHash, randomBytes } from 'node:crypto';
import { authorize, authorizeDeclare, authorizeTopic } from '../mapping/authorize.js';
import type { OffsetSpec } from '../../../src/core/index.js';
import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import { booleanHeader } from '../mapping/boolean-header.js';
import { parseDestination } from '../mapping/destination.js';
import { coreStyleError } from '../mapping/errors.js';
import { consumerArgumentsOf, queueArgumentsOf } from '../mapping/queue-arguments.js';
import type { StompSession } from '../session.js';
import type { AckMode } from '../subscription.js';
import { startSubscription } from './consume.js';

const ACK_MODES: ReadonlySet<string> = new Set(['auto', 'client', 'client-individual']);

/**
 * SUBSCRIBE (rabbitmq.com/docs/stomp "Destinations"):
 * - `/queue/<q>`: declare q (durable unless `durable:false`), consume it;
 * - `/amq/queue/<q>`: consume the existing q (ERROR when absent);
 * - `/topic/<rk>`, `/exchange/<ex>[/<rk>]`: a queue of the subscription's own, bound with rk:
 *   exclusive, auto-delete and transient, or durable when `durable:true` (alias `persistent`,
 *   RabbitMQ) or `activemq.subscriptionName` (ActiveMQ) is given; durable ones are named from
 *   the subscription (`x-queue-name` overrides), so a reconnect finds its queue again.
 * Headers `ack`, `prefetch-count`, `exclusive`, `x-` queue arguments, `x-stream-offset` and the
 * filter headers (`selector`, `x-stream-filter`, `x-stream-match-unfiltered`) apply.
 */
export async function handleSubscribe(session: StompSession, frame: StompFrame): Promise<void> {
  const h = frame.headers;
  const destination = headerOf(h, 'destination')!;
  const idHeader = headerOf(h, 'id');
  if (idHeader === undefined) requireIdIfDurable(h);
  // 1.0 subscriptions may lack an id: the destination identifies them (UNSUBSCRIBE by destination).
  const id = idHeader ?? destination;
  // RabbitMQ's consumer tags: `T_<id>`, or `Q_<destination>` without an id.
  const consumerTag = idHeader === undefined ? `Q_${destination}` : `T_${idHeader}`;
  if (session.subscriptions.has(id)) {
    throw new StompError('Duplicated subscription identifier', `A subscription identified by '${consumerTag}' already exists.`);
  }
  const ackMode = (headerOf(h, 'ack') ?? 'auto') as AckMode;
  if (!ACK_MODES.has(ackMode)) {
    throw new StompError('Invalid ack mode', `ack must be auto, client or client-individual, got '${ackMode}'`);
  }
  const prefetch = integerHeader(h, 'prefetch-count') ?? 0;
  const connection = session.connection!;
  const vhost = connection.vhost;
  const dest = parseDestination(destination);
  const args = queueArgumentsOf(h);
  const durableHeader = booleanHeader(h, 'durable') ?? booleanHeader(h, 'persistent');
  const autoDeleteHeader = booleanHeader(h, 'auto-delete');
  const exclusiveHeader = booleanHeader(h, 'exclusive');
  let queue: string;
  let ownQueue = false;
  let durable = false;
  switch (dest.kind) {
    case 'queue': {
      queue = dest.name;
      authorize(session, 'queue', queue, 'read');
      if (vhost.queue(queue) === null) {
        authorizeDeclare(session, queue, args);
        await vhost.declareQueue(
          queue,
          {
            durable: durableHeader !== false,
            autoDelete: autoDeleteHeader === true,
            exclusive: exclusiveHeader === true,
            arguments: args,
          },
          connection.id,
        );
      }
      break;
    }
    case 'amq-queue':
    case 'reply-queue': {
      queue = dest.name;
      authorize(session, 'queue', queue, 'read');
      if (vhost.queue(queue) === null) {
        throw coreStyleError('NOT_FOUND', `no queue '${queue}' in vhost '${vhost.name}'`);
      }
      break;
    }
    case 'topic':
    case 'exchange': {
      const exchange = dest.kind === 'topic' ? 'amq.topic' : dest.exchange;
      const routingKey = dest.kind === 'topic' ? dest.routingKey : (dest.routingKey ?? '');
      if (vhost.exchange(exchange) === null) {
        throw coreStyleError('NOT_FOUND', `no exchange '${exchange}' in vhost '${vhost.name}'`);
      }
      const activemqName = headerOf(h, 'activemq.subscriptionName');
      durable = durableHeader === true || activemqName !== undefined;
      queue = headerOf(h, 'x-queue-name') ?? subscriptionQueueName(durable, destination, activemqName === undefined ? id : `${connection.origin.clientId}\n${activemqName}`);
      ownQueue = true;
      const declares = vhost.queue(queue) === null;
      // The broker declares, binds and consumes this queue for the client: RabbitMQ's STOMP plugin
      // checks configure (declare), write on it with read on the exchange and topic read (queue.bind),
      // then read on it (consume). All before anything is declared.
      authorize(session, 'exchange', exchange, 'read');
      authorizeTopic(session, exchange, routingKey, 'read');
      if (declares) authorizeDeclare(session, queue, args);
      authorize(session, 'queue', queue, 'write');
      authorize(session, 'queue', queue, 'read');
      if (declares) {
        await vhost.declareQueue(
          queue,
          durable
            ? { durable: true, autoDelete: autoDeleteHeader === true, exclusive: false, arguments: args }
            : { durable: false, autoDelete: autoDeleteHeader !== false, exclusive: true, arguments: args },
          connection.id,
        );
      }
      await vhost.bindQueue(queue, exchange, routingKey, {}, connection.id);
      break;
    }
    case 'temp-queue':
      throw new StompError('Unknown destination', `'${destination}': /temp-queue/ destinations are valid in reply-to only; their subscription is automatic`);
  }
  const streamOffset = streamOffsetOf(headerOf(h, 'x-stream-offset'));
  startSubscription(session, {
    id,
    hasId: idHeader !== undefined,
    consumerTag,
    destination,
    ackMode,
    queue,
    ownQueue,
    durable,
    prefetch,
    exclusive: exclusiveHeader === true && dest.kind !== 'topic' && dest.kind !== 'exchange',
    ...(streamOffset === undefined ? {} : { streamOffset }),
    consumerArguments: consumerArgumentsOf(h),
  });
  session.receipt(headerOf(h, 'receipt'));
}

/**
 * A durable subscription (`durable:true` or `persistent:true`, on SUBSCRIBE or UNSUBSCRIBE)
 * needs an id: it names the subscription across connections. RabbitMQ checks this before
 * anything else, with these words.
 */
export function requireIdIfDurable(h: readonly string[]): void {
  if (booleanHeader(h, 'durable') === true || booleanHeader(h, 'persistent') === true) {
    throw new StompError('Missing Header', "Header 'id' is required for durable subscriptions");
  }
}

/**
 * Queues of topic/exchange subscriptions are named `stomp-subscription-…` (so a policy can
 * match them all, as RabbitMQ's are): from the subscription's identity when durable, random
 * otherwise.
 */
function subscriptionQueueName(durable: boolean, destination: string, identity: string): string {
  const tail = durable
    ? createHash('sha256').update(`${destination}\n${identity}`).digest('base64url').slice(0, 22)
    : randomBytes(16).toString('base64url');
  return `stomp-subscription-${tail}`;
}

function integerHeader(h: readonly string[], name: string): number | undefined {
  const value = headerOf(h, name);
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) throw new StompError('Invalid header', `${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

/** RabbitMQ's `x-stream-offset`: first, last, next, offset=<n>, timestamp=<unix seconds>. */
function streamOffsetOf(value: string | undefined): OffsetSpec | undefined {
  if (value === undefined) return undefined;
  if (value === 'first' || value === 'last' || value === 'next') return value;
  const m = /^(offset|timestamp)=([0-9]{1,15})$/.exec(value);
  if (m === null) throw new StompError('Invalid header', `x-stream-offset must be first, last, next, offset=<n> or timestamp=<s>, got '${value}'`);
  return m[1] === 'offset' ? { offset: Number(m[2]) } : { timestamp: Number(m[2]) * 1000 };
}

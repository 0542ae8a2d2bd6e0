/**
 * The broker-wide permission model (src/core/auth) for STOMP destinations, as RabbitMQ's STOMP
 * plugin applies it: SEND needs write on the exchange (`amq.default` for `/queue`, `amq.topic`
 * for `/topic`) and its topic permission for the routing key; a `/queue/q` declared on first
 * use needs configure on q; SUBSCRIBE needs read on the queue consumed, and for `/topic` and
 * `/exchange` what RabbitMQ's STOMP plugin checks on the `stomp-subscription-…` queue the broker
 * declares, binds and consumes for it: configure when declared, queue.bind's rules (write on
 * the queue, read on the exchange, topic read on the binding key), read to consume. A queue
 * declared with `x-dead-letter-exchange` also needs read on it and write on that exchange.
 * A refusal is an ERROR frame `access_refused` naming the resource.
 */
import type { Arguments, Permission } from '../../../src/core/index.js';
import { coreStyleError } from './errors.js';
import type { StompSession } from '../session.js';

export function authorize(session: StompSession, kind: 'queue' | 'exchange', name: string, perm: Permission): void {
  const user = session.principal;
  const vhost = session.connection?.vhost.name;
  if (!user || vhost === undefined || user.allows(vhost, kind, name, perm)) return;
  const resource = kind === 'exchange' && name === '' ? 'amq.default' : name;
  throw coreStyleError('ACCESS_REFUSED', `access to ${kind} '${resource}' in vhost '${vhost}' refused for user '${user.name}'`);
}

/**
 * Declaring a queue for the client: configure on it and, with a dead-letter exchange among its
 * arguments, read on the queue and write on that exchange (RabbitMQ's queue.declare rule, which
 * its STOMP plugin applies too): else a client could publish, by dead-lettering, where it may not.
 */
export function authorizeDeclare(session: StompSession, queue: string, args: Arguments | undefined): void {
  authorize(session, 'queue', queue, 'configure');
  const dlx = args?.['x-dead-letter-exchange'];
  if (typeof dlx !== 'string') return;
  authorize(session, 'queue', queue, 'read');
  authorize(session, 'exchange', dlx, 'write');
}

/** Topic permission on a routing key of a topic exchange: ERROR access_refused naming it. */
export function authorizeTopic(session: StompSession, exchange: string, routingKey: string, perm: 'write' | 'read'): void {
  const user = session.principal;
  const vhost = session.connection?.vhost.name;
  if (!user || vhost === undefined || user.allowsTopic(vhost, exchange, routingKey, perm, session.clientId)) return;
  // As in RabbitMQ, topic permissions apply to topic exchanges only.
  const type = session.connection?.vhost.exchange(exchange)?.type;
  if (type !== undefined && type !== 'topic') return;
  throw coreStyleError('ACCESS_REFUSED', `access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${user.name}'`);
}

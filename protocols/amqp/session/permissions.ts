import type { AuthenticatedUser, Permission } from '../../../src/core/index.js';
import { AmqpChannelError } from '../codec/errors.js';
import { ReplyCode } from '../spec/reply-codes.js';

/**
 * The broker-wide permission model (src/core/auth/permissions.ts) in AMQP terms: a refusal is
 * ACCESS_REFUSED (403) on the channel, naming the resource as RabbitMQ does.
 */
export function authorizeResource(user: AuthenticatedUser, vhost: string, kind: 'queue' | 'exchange', name: string, perm: Permission, classId: number, methodId: number): void {
  if (user.allows(vhost, kind, name, perm)) return;
  const resource = kind === 'exchange' && name === '' ? 'amq.default' : name;
  throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, `access to ${kind} '${resource}' in vhost '${vhost}' refused for user '${user.name}'`, classId, methodId);
}

/** Topic permissions (RabbitMQ 3.7+): write on publish, read on queue.bind, to an exchange the user has topic permissions for. */
export function authorizeTopic(user: AuthenticatedUser, vhost: string, exchange: string, routingKey: string, perm: 'write' | 'read', classId: number, methodId: number, clientId?: string): void {
  if (user.allowsTopic(vhost, exchange, routingKey, perm, clientId)) return;
  throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, `access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${user.name}'`, classId, methodId);
}

/**
 * The broker-wide permission model (src/core/auth) for MQTT, as RabbitMQ's MQTT plugin applies
 * it: MQTT topics live in `amq.topic`, so PUBLISH needs write on the exchange `amq.topic` and the
 * topic permission (write) for its routing key (`a/b` -> `a.b`); SUBSCRIBE needs read on
 * `amq.topic` and the topic permission (read) for the filter's binding key (`a/+/#` -> `a.*.#`),
 * plus RabbitMQ's rules for the queue the broker declares, binds and consumes for it (configure,
 * write, read: `subscribeRefusal`); a resumed session needs read on its queues. A will is
 * published only when its user may publish to its topic when it goes out (RabbitMQ checks then too).
 * `{client_id}` in a topic permission is the MQTT client id.
 */
import { AccessRefused, type AuthenticatedUser } from '../../../src/core/index.js';
import type { MqttConnection } from '../connection.js';
import { topicToRoutingKey } from './topic-mapping.js';

const EXCHANGE = 'amq.topic';

/**
 * Publish decisions of one connection by topic, valid while the user and its definition
 * (`revision`) stay the same: a repeated topic costs one map lookup, no routing-key string and
 * no topic-pattern expansion. Bounded, as a client may publish to ever new topics.
 */
export class PublishDecisions {
  private readonly byTopic = new Map<string, boolean>();
  private user: AuthenticatedUser | null = null;
  private revision: unknown = undefined;

  get(user: AuthenticatedUser, topic: string): boolean | undefined {
    const revision = user.revision;
    if (user !== this.user || revision !== this.revision) {
      this.byTopic.clear();
      this.user = user;
      this.revision = revision;
      return undefined;
    }
    return this.byTopic.get(topic);
  }

  set(topic: string, allowed: boolean): void {
    if (this.byTopic.size >= MAX_CACHED_TOPICS) this.byTopic.clear();
    this.byTopic.set(topic, allowed);
  }
}

const MAX_CACHED_TOPICS = 1024;

/** Throws AccessRefused naming the topic (becomes 0x87 Not Authorized, or a disconnect before 5.0). */
export function authorizePublish(conn: MqttConnection, topic: string): void {
  const user = conn.user;
  if (!user) return;
  const decisions = (conn.publishDecisions ??= new PublishDecisions());
  let allowed = decisions.get(user, topic);
  if (allowed === undefined) {
    allowed = mayPublish(user, conn.broker.options.vhost, topic, conn.clientId);
    decisions.set(topic, allowed);
  }
  if (!allowed) throw new AccessRefused(publishRefusal(user, conn.broker.options.vhost, topic));
}

/** Write on `amq.topic` and the topic permission (write) for the topic's routing key. */
export function mayPublish(user: AuthenticatedUser, vhost: string, topic: string, clientId: string): boolean {
  return user.allows(vhost, 'exchange', EXCHANGE, 'write') && user.allowsTopic(vhost, EXCHANGE, topicToRoutingKey(topic), 'write', clientId);
}

export function publishRefusal(user: AuthenticatedUser, vhost: string, topic: string): string {
  return `access to topic '${topic}' (exchange '${EXCHANGE}', routing key '${topicToRoutingKey(topic)}') in vhost '${vhost}' refused for user '${user.name}'`;
}

/**
 * What a SUBSCRIBE of `bindingKey` into `queue` needs, in the order RabbitMQ's MQTT plugin checks
 * it (rabbit_mqtt_processor: create_queue, binding_action_with_checks, consume): configure on the
 * queue when the broker declares it now (`declares`), the queue.bind rules (write on the queue,
 * read on `amq.topic`, topic read on the binding key), then read on the queue to consume it.
 * Null when allowed, else the refusal naming the resource. All are checked before anything is
 * declared or bound (RabbitMQ leaves the binding when only the consume is refused).
 */
export function subscribeRefusal(conn: MqttConnection, bindingKey: string, queue: string, declares: boolean): string | null {
  if (!conn.user) return null;
  return (declares ? queueRefusal(conn, queue, 'configure') : null) ?? bindRefusal(conn, bindingKey, queue) ?? queueRefusal(conn, queue, 'read');
}

/** queue.bind / queue.unbind rules for a subscription (UNSUBSCRIBE needs them too, as in RabbitMQ). */
export function bindRefusal(conn: MqttConnection, bindingKey: string, queue: string): string | null {
  const user = conn.user;
  if (!user) return null;
  const vhost = conn.broker.options.vhost;
  const refusal = queueRefusal(conn, queue, 'write');
  if (refusal !== null) return refusal;
  if (!user.allows(vhost, 'exchange', EXCHANGE, 'read')) return `access to exchange '${EXCHANGE}' in vhost '${vhost}' refused for user '${user.name}'`;
  if (!user.allowsTopic(vhost, EXCHANGE, bindingKey, 'read', conn.clientId)) {
    return `access to topic '${bindingKey}' in exchange '${EXCHANGE}' in vhost '${vhost}' refused for user '${user.name}'`;
  }
  return null;
}

/** A permission on a queue the broker declares, binds or consumes for the client; null when allowed. */
export function queueRefusal(conn: MqttConnection, queue: string, perm: 'configure' | 'write' | 'read'): string | null {
  const user = conn.user;
  if (!user) return null;
  const vhost = conn.broker.options.vhost;
  if (user.allows(vhost, 'queue', queue, perm)) return null;
  return `access to queue '${queue}' in vhost '${vhost}' refused for user '${user.name}'`;
}

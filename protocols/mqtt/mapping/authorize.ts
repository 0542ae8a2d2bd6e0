/**
 * The broker-wide permission model (src/core/auth) for MQTT, as RabbitMQ's MQTT plugin applies
 * it: MQTT topics live in `amq.topic`, so PUBLISH needs write on the exchange `amq.topic` and the
 * topic permission (write) for its routing key (`a/b` -> `a.b`); SUBSCRIBE needs read on
 * `amq.topic` and the topic permission (read) for the filter's binding key (`a/+/#` -> `a.*.#`).
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
    const vhost = conn.broker.options.vhost;
    allowed = user.allows(vhost, 'exchange', EXCHANGE, 'write') && user.allowsTopic(vhost, EXCHANGE, topicToRoutingKey(topic), 'write', conn.clientId);
    decisions.set(topic, allowed);
  }
  if (!allowed) {
    const vhost = conn.broker.options.vhost;
    throw new AccessRefused(`access to topic '${topic}' (exchange '${EXCHANGE}', routing key '${topicToRoutingKey(topic)}') in vhost '${vhost}' refused for user '${user.name}'`);
  }
}

export function maySubscribe(conn: MqttConnection, bindingKey: string): boolean {
  const user = conn.user;
  if (!user) return true;
  const vhost = conn.broker.options.vhost;
  return user.allows(vhost, 'exchange', EXCHANGE, 'read') && user.allowsTopic(vhost, EXCHANGE, bindingKey, 'read', conn.clientId);
}

/** Configure on the queue a SUBSCRIBE makes the broker declare; null when allowed, else the refusal text. */
export function subscriptionQueueRefusal(conn: MqttConnection, queue: string): string | null {
  const user = conn.user;
  if (!user) return null;
  const vhost = conn.broker.options.vhost;
  if (user.allows(vhost, 'queue', queue, 'configure')) return null;
  return `access to queue '${queue}' in vhost '${vhost}' refused for user '${user.name}'`;
}

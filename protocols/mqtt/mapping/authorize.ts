/**
 * The broker-wide permission model (src/core/auth) for MQTT, as RabbitMQ's MQTT plugin applies
 * it: MQTT topics live in `amq.topic`, so PUBLISH needs write on the exchange `amq.topic` and the
 * topic permission (write) for its routing key (`a/b` -> `a.b`); SUBSCRIBE needs read on
 * `amq.topic` and the topic permission (read) for the filter's binding key (`a/+/#` -> `a.*.#`).
 * `{client_id}` in a topic permission is the MQTT client id.
 */
import { AccessRefused } from '../../../src/core/index.js';
import type { MqttConnection } from '../connection.js';
import { topicToRoutingKey } from './topic-mapping.js';

const EXCHANGE = 'amq.topic';

/** Throws AccessRefused naming the topic (becomes 0x87 Not Authorized, or a disconnect before 5.0). */
export function authorizePublish(conn: MqttConnection, topic: string): void {
  const user = conn.user;
  if (!user) return;
  const vhost = conn.broker.options.vhost;
  if (!user.allows(vhost, 'exchange', EXCHANGE, 'write') || !user.allowsTopic(vhost, EXCHANGE, topicToRoutingKey(topic), 'write', conn.clientId)) {
    throw new AccessRefused(`access to topic '${topic}' (exchange '${EXCHANGE}', routing key '${topicToRoutingKey(topic)}') in vhost '${vhost}' refused for user '${user.name}'`);
  }
}

export function maySubscribe(conn: MqttConnection, bindingKey: string): boolean {
  const user = conn.user;
  if (!user) return true;
  const vhost = conn.broker.options.vhost;
  return user.allows(vhost, 'exchange', EXCHANGE, 'read') && user.allowsTopic(vhost, EXCHANGE, bindingKey, 'read', conn.clientId);
}

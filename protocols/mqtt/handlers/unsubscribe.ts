import { encodeUnsuback } from '../codec/encode.js';
import type { UnsubscribePacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { bindRefusal } from '../mapping/authorize.js';
import { consume, problemReason } from './subscribe.js';

/**
 * UNSUBSCRIBE (§3.10): removes bindings (or leaves a shared group), then UNSUBACK. Removing a
 * binding needs what adding it did (queue.unbind: write on the queue, read on `amq.topic`, topic
 * read), as RabbitMQ's MQTT plugin checks: refused, the subscription stays and 5.0 gets 0x87
 * (3.1.x's UNSUBACK has no reason codes: RabbitMQ's answer, an UNSUBACK, and the broker log).
 */
export async function handleUnsubscribe(conn: MqttConnection, p: UnsubscribePacket): Promise<void> {
  const adapter = conn.broker;
  const session = conn.session!;
  const codes: number[] = [];
  const refusals: string[] = [];
  for (const filter of p.filters) {
    const sub = session.subscriptions.get(filter);
    if (!sub) {
      codes.push(ReasonCode.NoSubscriptionExisted);
      continue;
    }
    const refusal = bindRefusal(conn, sub.bindingKey, sub.queue);
    if (refusal !== null) {
      conn.log.info({ filter, user: conn.user?.name, reason: refusal }, 'unsubscribe refused: not authorized');
      codes.push(ReasonCode.NotAuthorized);
      refusals.push(`${filter}: ${refusal}`);
      continue;
    }
    session.deleteSubscription(filter);
    if (sub.shared) {
      const stillUsed = [...session.subscriptions.values()].some((s) => s.queue === sub.queue);
      if (!stillUsed) {
        if (conn.consuming.delete(sub.queue)) conn.channel?.cancel(sub.queue);
        await adapter.removeSharedMember(sub, session.clientId);
      }
    } else {
      const sameKey = [...session.subscriptions.values()].some((s) => !s.shared && s.bindingKey === sub.bindingKey);
      if (!sameKey) await adapter.vhost.unbindQueue(session.queue, 'amq.topic', sub.bindingKey);
    }
    // What remains on the queue may be all QoS 0 now (consumed without acks).
    if (conn.consuming.has(sub.queue)) consume(conn, sub.queue);
    codes.push(ReasonCode.Success);
  }
  if (session.persistent) await adapter.sessionStore.put(session.toRecord(null));
  conn.write(encodeUnsuback(conn.level, p.packetId, codes, problemReason(conn, refusals, codes.length)));
}

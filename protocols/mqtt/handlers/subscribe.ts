import { isCoreError } from '../../../src/core/index.js';
import { encodeSuback } from '../codec/encode.js';
import { MqttProtocolError } from '../codec/errors.js';
import type { SubscribePacket } from '../codec/packets.js';
import { ReasonCode, SubackFailure311 } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { replayMessage } from '../mapping/message-mapping.js';
import { subscribeRefusal } from '../mapping/authorize.js';
import { activate, type ActiveSubscription } from '../session.js';
import { isValidTopicFilter, parseSharedFilter } from '../topic.js';

/** Declares the session queue (durable when the session is) once. */
async function ensureSessionQueue(conn: MqttConnection): Promise<void> {
  const session = conn.session!;
  if (session.sessionQueueDeclared) return;
  const vhost = conn.broker.vhost;
  try {
    await vhost.declareQueue(session.queue, { durable: session.persistent });
  } catch (e) {
    if (!isCoreError(e) || e.code !== 'PRECONDITION_FAILED') throw e;
    // Left from a session of the other persistence: replace it.
    await conn.broker.deleteQueueQuietly(session.queue);
    await vhost.declareQueue(session.queue, { durable: session.persistent });
  }
  session.sessionQueueDeclared = true;
}

/** Starts the core consumers of a session: its own queue and each shared group's queue. */
export async function startConsuming(conn: MqttConnection): Promise<void> {
  const session = conn.session!;
  if (session.sessionQueueDeclared || session.hasOwnQueueSubscriptions()) {
    await ensureSessionQueue(conn);
    consume(conn, session.queue);
  }
  for (const sub of session.subscriptions.values()) if (sub.shared) consume(conn, sub.queue);
}

/**
 * Consumes `queue` (again, when the subscriptions on it changed between all QoS 0 and not):
 * a queue whose subscriptions are all QoS 0 is consumed without acks, since every message on
 * it goes out at most once; otherwise each delivery is settled by the client's PUBACK/PUBCOMP.
 */
export function consume(conn: MqttConnection, queue: string): void {
  if (conn.state === 'closed') return;
  let maxQos = -1;
  for (const s of conn.session!.subscriptions.values()) if (s.queue === queue && s.qos > maxQos) maxQos = s.qos;
  // A session queue with no subscription left still holds messages queued for them: acked.
  const noAck = maxQos === 0;
  const current = conn.consuming.get(queue);
  if (current === noAck) return;
  const channel = conn.ensureChannel();
  // Deliveries in flight stay with the channel (PUBACK still settles them); the queue keeps the rest.
  if (current !== undefined) channel.cancel(queue);
  conn.consuming.set(queue, noAck);
  channel.consume(queue, { consumerTag: queue, noAck, onDelivery: conn.onDelivery });
}

/** SUBSCRIBE (§3.8): bindings on amq.topic, SUBACK, then retained messages per Retain Handling. */
export async function handleSubscribe(conn: MqttConnection, p: SubscribePacket): Promise<void> {
  const adapter = conn.broker;
  const session = conn.session!;
  const vhost = adapter.vhost;
  const granted: number[] = [];
  const replays: { sub: ActiveSubscription }[] = [];
  const refusals: string[] = [];
  const failure = conn.level === 5 ? ReasonCode.TopicFilterInvalid : SubackFailure311;
  for (const req of p.subscriptions) {
    let shared;
    try {
      shared = parseSharedFilter(req.filter);
    } catch {
      granted.push(failure);
      continue;
    }
    if (!shared && !isValidTopicFilter(req.filter)) {
      granted.push(failure);
      continue;
    }
    if (shared && req.noLocal) throw new MqttProtocolError(ReasonCode.ProtocolError, 'No Local on a shared subscription [MQTT-3.8.3-4]');
    const previous = session.subscriptions.get(req.filter);
    const sub = activate({
      filter: req.filter, qos: req.qos, noLocal: req.noLocal, retainAsPublished: req.retainAsPublished,
      retainHandling: req.retainHandling,
      ...(p.subscriptionIdentifier !== undefined ? { subscriptionId: p.subscriptionIdentifier } : {}),
    }, session.queue);
    const refusal = subscribeRefusal(conn, sub.bindingKey, sub.queue, vhost.queue(sub.queue) === null);
    if (refusal !== null) {
      conn.log.info({ filter: req.filter, user: conn.user?.name, reason: refusal }, 'subscribe refused: not authorized');
      granted.push(conn.level === 5 ? ReasonCode.NotAuthorized : SubackFailure311);
      refusals.push(`${req.filter}: ${refusal}`);
      continue;
    }
    try {
      if (sub.shared) {
        await vhost.declareQueue(sub.queue, { durable: true });
        await vhost.bindQueue(sub.queue, 'amq.topic', sub.bindingKey);
        adapter.addSharedMember(sub.queue, session.clientId);
      } else {
        await ensureSessionQueue(conn);
        await vhost.bindQueue(session.queue, 'amq.topic', sub.bindingKey);
      }
    } catch (e) {
      conn.log.warn({ err: (e as Error).message, filter: req.filter }, 'subscribe failed');
      granted.push(conn.level === 5 ? ReasonCode.UnspecifiedError : SubackFailure311);
      continue;
    }
    // A repeated filter replaces the subscription [MQTT-3.8.4-3].
    session.setSubscription(sub);
    consume(conn, sub.queue);
    granted.push(req.qos);
    // Retained messages: not for shared subscriptions [MQTT-3.8.4-?, 5.0 §4.8.2], per Retain Handling [MQTT-3.3.1-9..11].
    if (!sub.shared && (req.retainHandling === 0 || (req.retainHandling === 1 && !previous))) replays.push({ sub });
  }
  if (session.persistent) await adapter.sessionStore.put(session.toRecord(null));
  conn.write(encodeSuback(conn.level, p.packetId, granted, problemReason(conn, refusals, granted.length)));
  for (const { sub } of replays) {
    const filter = sub.shared ? sub.shared.filter : sub.filter;
    for (const { topic, message, remainingMs } of adapter.retained.matching(filter)) {
      const replay = replayMessage(message, topic);
      if (remainingMs !== null) replay.properties.expiration = remainingMs;
      else delete replay.properties.expiration;
      conn.ensureChannel().publish('', session.queue, replay);
    }
  }
}

/**
 * 5.0: the refusals as the SUBACK's (UNSUBACK's) Reason String, only when the client asked for
 * problem information [MQTT-3.1.2-29] and the packet stays within its Maximum Packet Size.
 */
export function problemReason(conn: MqttConnection, refusals: string[], codes: number): { reasonString: string } | undefined {
  if (conn.level !== 5 || refusals.length === 0 || !conn.requestProblemInformation) return undefined;
  const text = refusals.join('; ');
  const reasonString = text.length > 200 ? `${text.slice(0, 197)}...` : text;
  // Fixed header (at most 5), packet id, properties length and header (at most 7), one byte per reason code.
  return 14 + Buffer.byteLength(reasonString) + codes <= conn.clientMaxPacketSize ? { reasonString } : undefined;
}

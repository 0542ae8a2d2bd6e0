import { MqttProtocolError } from '../codec/errors.js';
import type { AckPacket, PublishPacket } from '../codec/packets.js';
import { ReasonCode, reasonCodesByPacket } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { coreErrorReason } from '../mapping/errors.js';
import { publishToMessage } from '../mapping/message-mapping.js';
import { authorizePublish } from '../mapping/authorize.js';
import { isValidTopicName } from '../topic.js';
import { MAX_DELAY_MS } from '../../../src/core/index.js';

/**
 * PUBLISH from a client (§3.3, §4.3): topic alias, topic checks, routing through amq.topic,
 * and the acknowledgement sent only once the core's durability promise holds.
 */
export function handlePublish(conn: MqttConnection, p: PublishPacket): void {
  const opts = conn.broker.options;
  const session = conn.session!;
  let topic = p.topic;
  const alias = p.properties?.topicAlias;
  if (alias !== undefined) {
    if (alias === 0 || alias > opts.topicAliasMaximum) throw new MqttProtocolError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} out of range [MQTT-3.3.2-9]`);
    if (topic === '') {
      const known = conn.inboundAliases?.get(alias);
      if (known === undefined) throw new MqttProtocolError(ReasonCode.ProtocolError, `unknown topic alias ${alias}`);
      topic = known;
    } else {
      (conn.inboundAliases ??= new Map()).set(alias, topic);
    }
  }
  if (topic === '') throw new MqttProtocolError(ReasonCode.ProtocolError, 'zero-length topic without a topic alias [MQTT-3.3.2-1]');
  if (!isValidTopicName(topic)) throw new MqttProtocolError(ReasonCode.TopicNameInvalid, 'wildcard in a PUBLISH topic [MQTT-3.3.2-2]');
  if (p.retain && !opts.retainAvailable) throw new MqttProtocolError(ReasonCode.RetainNotSupported, 'retain not supported');
  const qos = p.qos;
  if (qos > 0 && conn.level === 5 && conn.inboundUnacked >= opts.receiveMaximum) {
    throw new MqttProtocolError(ReasonCode.ReceiveMaximumExceeded, 'receive maximum exceeded [MQTT-3.3.4-9]');
  }
  if (qos === 2 && session.inboundQos2.has(p.packetId)) {
    // A resent QoS 2 PUBLISH: already stored once, only the PUBREC is repeated [MQTT-4.3.3-9].
    conn.sendAck('pubrec', p.packetId);
    return;
  }

  let status: 'routed' | 'unroutable' | 'rejected' = 'routed';
  let durable: Promise<unknown> = Promise.resolve();
  let errorCode = 0;
  let delayMs: number | undefined;
  if (topic.startsWith('$delayed/')) {
    // EMQX's delayed publish: $delayed/{seconds}/{topic} (docs/business.md).
    const d = delayedTopic(topic);
    if (d === null) throw new MqttProtocolError(ReasonCode.TopicNameInvalid, `delayed publish topic must be $delayed/{seconds}/{topic} with 0..${MAX_DELAY_MS / 1000} seconds`);
    topic = d.topic;
    if (d.seconds > 0) delayMs = d.seconds * 1000;
  }
  if (topic.startsWith('$SYS/')) {
    // $SYS belongs to the broker: client publishes there are dropped, as Mosquitto does.
  } else {
    try {
      authorizePublish(conn, topic);
      const r = conn.broker.publish(conn.ensureChannel(), topic, publishToMessage(p, topic, Date.now()), p.retain, delayMs);
      status = r.status;
      durable = r.durable;
      conn.afterPublish();
    } catch (e) {
      errorCode = coreErrorReason(e);
      if (qos === 0 || conn.level < 5) throw new MqttProtocolError(errorCode, (e as Error).message);
      // PUBACK/PUBREC allow fewer codes than DISCONNECT (§3.4.2.1): 0x95 there makes mqtt.js fail
      // the connection with "Invalid puback reason code".
      if (!reasonCodesByPacket.puback!.has(errorCode)) errorCode = ReasonCode.ImplementationSpecificError;
    }
  }
  if (qos === 0) return;
  const reason = errorCode || (conn.level < 5 ? 0 : status === 'unroutable' ? ReasonCode.NoMatchingSubscribers : status === 'rejected' ? ReasonCode.QuotaExceeded : 0);
  const packetId = p.packetId;
  conn.inboundUnacked++;
  if (qos === 2 && reason < 0x80) {
    // The id is remembered durably with the message, so a resend after a restart is not stored twice.
    session.inboundQos2.add(packetId);
    if (session.persistent) durable = Promise.all([durable, conn.broker.saveInflight(session)]);
  }
  durable.then(
    () => {
      if (qos === 1 || reason >= 0x80) conn.inboundUnacked--;
      conn.sendAck(qos === 1 ? 'puback' : 'pubrec', packetId, reason);
    },
    (e: unknown) => conn.protocolFailure(e),
  );
}

/** PUBREL (§3.6): releases an inbound QoS 2 packet id and completes with PUBCOMP. */
export function handlePubrel(conn: MqttConnection, p: AckPacket): void {
  const session = conn.session!;
  if (session.inboundQos2.delete(p.packetId)) {
    conn.inboundUnacked = Math.max(0, conn.inboundUnacked - 1);
    // PUBCOMP frees the id for a new message, so its release must be durable first.
    if (!session.persistent) return conn.sendAck('pubcomp', p.packetId);
    conn.broker.saveInflight(session).then(() => conn.sendAck('pubcomp', p.packetId), (e: unknown) => conn.protocolFailure(e));
  } else {
    // Released before (e.g. PUBCOMP lost across a reconnect): complete it again.
    conn.sendAck('pubcomp', p.packetId, conn.level === 5 ? ReasonCode.PacketIdentifierNotFound : 0);
  }
}

/** `$delayed/{seconds}/{topic}` split, or null when malformed. */
export function delayedTopic(topic: string): { seconds: number; topic: string } | null {
  const m = /^\$delayed\/(\d{1,10})\/(.+)$/.exec(topic);
  if (!m || !isValidTopicName(m[2]!) || m[2]!.startsWith('$')) return null;
  const seconds = Number(m[1]);
  return seconds * 1000 <= MAX_DELAY_MS ? { seconds, topic: m[2]! } : null;
}

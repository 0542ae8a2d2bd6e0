import type { AckPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';

/** PUBACK, PUBREC and PUBCOMP from the client for PUBLISHes we sent (§4.3.2, §4.3.3). */
export function handleAck(conn: MqttConnection, p: AckPacket): void {
  const session = conn.session!;
  const channel = conn.channel;
  if (p.cmd === 'pubcomp') {
    if (session.awaitingPubcomp.delete(p.packetId)) void conn.broker.saveInflight(session).catch((e: unknown) => conn.protocolFailure(e));
    return;
  }
  const inflight = session.inflight.get(p.packetId);
  if (!inflight || !channel) {
    // A PUBREC repeated for a flow already released gets its PUBREL again.
    if (p.cmd === 'pubrec') {
      const known = session.awaitingPubcomp.has(p.packetId);
      conn.sendAck('pubrel', p.packetId, known || conn.level < 5 ? 0 : ReasonCode.PacketIdentifierNotFound);
    }
    return;
  }
  session.inflight.delete(p.packetId);
  if (p.cmd === 'pubrec' && inflight.qos === 2 && p.reasonCode < 0x80) {
    // The client holds the message now. That it awaits PUBREL is stored before the core may
    // forget the message, so after a restart the flow continues with PUBREL, not a resend.
    session.awaitingPubcomp.add(p.packetId);
    conn.sendAck('pubrel', p.packetId);
    conn.broker.saveInflight(session).then(() => {
      if (conn.channel !== channel || conn.state === 'closed') return; // redelivered later, then skipped
      session.releasePacketId(inflight.messageKey);
      channel.ack(inflight.deliveryTag);
    }, (e: unknown) => conn.protocolFailure(e));
    return;
  }
  session.releasePacketId(inflight.messageKey);
  // MQTT 5 reason >= 0x80: the client refused it, a failed attempt (retry with backoff or
  // dead-lettering, docs/business.md). Otherwise the message is the client's now.
  if (p.reasonCode >= 0x80 && conn.level === 5) channel.nack(inflight.deliveryTag, false, false);
  else channel.ack(inflight.deliveryTag);
}

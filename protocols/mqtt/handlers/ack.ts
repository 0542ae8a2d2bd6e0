import type { AckPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';

/** PUBACK, PUBREC and PUBCOMP from the client for PUBLISHes we sent (§4.3.2, §4.3.3). */
export function handleAck(conn: MqttConnection, p: AckPacket): void {
  const session = conn.session!;
  const channel = conn.channel;
  if (p.cmd === 'pubcomp') {
    session.awaitingPubcomp.delete(p.packetId);
    return;
  }
  const inflight = session.inflight.get(p.packetId);
  if (!inflight || !channel) {
    if (p.cmd === 'pubrec') conn.sendAck('pubrel', p.packetId, conn.level === 5 ? ReasonCode.PacketIdentifierNotFound : 0);
    return;
  }
  session.inflight.delete(p.packetId);
  session.packetIdByMessage.delete(inflight.messageKey);
  // The message is the client's now: the core may release it.
  channel.ack(inflight.deliveryTag);
  if (p.cmd === 'pubrec' && inflight.qos === 2 && p.reasonCode < 0x80) {
    session.awaitingPubcomp.add(p.packetId);
    conn.sendAck('pubrel', p.packetId);
  }
}

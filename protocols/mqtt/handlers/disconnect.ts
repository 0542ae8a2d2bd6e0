import { MqttProtocolError } from '../codec/errors.js';
import type { DisconnectPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';

/**
 * DISCONNECT from the client (§3.14): the will is discarded [MQTT-3.14.4-3] unless 5.0
 * reason 0x04 asks for it; 5.0 may change the session expiry, but not from 0 [MQTT-3.14.2-2].
 */
export function handleDisconnect(conn: MqttConnection, p: DisconnectPacket): Promise<void> {
  conn.normalDisconnect = p.reasonCode !== ReasonCode.DisconnectWithWillMessage;
  const expiry = p.properties.sessionExpiryInterval;
  const session = conn.session;
  if (expiry !== undefined && session) {
    if (session.expiryInterval === 0 && expiry !== 0) {
      throw new MqttProtocolError(ReasonCode.ProtocolError, 'session expiry set on DISCONNECT after 0 in CONNECT [MQTT-3.14.2-2]');
    }
    session.expiryInterval = Math.min(expiry, conn.broker.options.sessionExpiryMax);
  }
  return conn.close();
}

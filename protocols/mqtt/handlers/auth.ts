import { MqttProtocolError } from '../codec/errors.js';
import type { AuthPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';

/**
 * AUTH (5.0 §3.15). No enhanced authentication method is offered (a CONNECT naming one gets
 * CONNACK 0x8C), so an AUTH packet is never expected: Protocol Error [MQTT-4.12.0-6].
 */
export function handleAuth(_conn: MqttConnection, p: AuthPacket): void {
  throw new MqttProtocolError(ReasonCode.ProtocolError, `AUTH (reason 0x${p.reasonCode.toString(16)}) without an authentication method`);
}

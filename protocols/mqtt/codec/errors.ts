import { ReasonCode } from './reason-codes.js';

/**
 * A protocol violation detected while decoding or handling a packet. It carries the 5.0
 * reason code that goes into the DISCONNECT (or CONNACK, before the session exists); on
 * 3.1/3.1.1 the connection is simply closed ([MQTT-4.8.0-1]).
 */
export class MqttProtocolError extends Error {
  constructor(readonly reasonCode: number, message: string) {
    super(message);
    this.name = 'MqttProtocolError';
  }
}

export const malformed = (why: string): MqttProtocolError => new MqttProtocolError(ReasonCode.MalformedPacket, why);
export const protocolError = (why: string): MqttProtocolError => new MqttProtocolError(ReasonCode.ProtocolError, why);

import type { MqttProperties } from './properties.js';

/** Protocol levels (CONNECT byte 7): 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0. */
export type ProtocolLevel = 3 | 4 | 5;
export type QoS = 0 | 1 | 2;

export const PacketType = {
  CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBREL: 6, PUBCOMP: 7,
  SUBSCRIBE: 8, SUBACK: 9, UNSUBSCRIBE: 10, UNSUBACK: 11, PINGREQ: 12, PINGRESP: 13,
  DISCONNECT: 14, AUTH: 15,
} as const;

export interface WillMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: MqttProperties;
  /** Will properties as received, minus Will Delay Interval (not a message property). */
  propertiesRaw: Buffer | null;
}

export interface ConnectPacket {
  cmd: 'connect';
  protocolName: string;
  protocolLevel: ProtocolLevel;
  clean: boolean;
  keepalive: number;
  clientId: string;
  username?: string;
  password?: Buffer;
  will?: WillMessage;
  properties: MqttProperties;
}

export interface PublishPacket {
  cmd: 'publish';
  qos: QoS;
  dup: boolean;
  retain: boolean;
  /** May be empty on 5.0 when a Topic Alias stands in for it. */
  topic: string;
  packetId: number;
  properties: MqttProperties | null;
  /** The properties' bytes as received (5.0), kept as the message's native blob. */
  propertiesRaw: Buffer | null;
  payload: Buffer;
}

export interface AckPacket {
  cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
  packetId: number;
  reasonCode: number;
  properties: MqttProperties | null;
}

export interface SubscriptionRequest {
  filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
}

export interface SubscribePacket {
  cmd: 'subscribe';
  packetId: number;
  subscriptions: SubscriptionRequest[];
  subscriptionIdentifier?: number;
  userProperties?: [string, string][];
}

export interface UnsubscribePacket {
  cmd: 'unsubscribe';
  packetId: number;
  filters: string[];
}

export interface DisconnectPacket {
  cmd: 'disconnect';
  reasonCode: number;
  properties: MqttProperties;
}

export interface AuthPacket {
  cmd: 'auth';
  reasonCode: number;
  properties: MqttProperties;
}

export interface PingreqPacket {
  cmd: 'pingreq';
}

export type InboundPacket =
  | ConnectPacket | PublishPacket | AckPacket | SubscribePacket | UnsubscribePacket
  | DisconnectPacket | AuthPacket | PingreqPacket;

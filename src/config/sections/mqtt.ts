import type { ConfigSection } from '../section.js';

/** The `mqtt:` section (owned by the MQTT adapter, protocols/mqtt; documented in docs/mqtt.md). */
export interface MqttConfig {
  vhost: string;
  allowAnonymous: boolean;
  users: { username: string; password: string }[];
  maxPacketSize: number;
  receiveMaximum: number;
  topicAliasMaximum: number;
  maxKeepAlive: number;
  sessionExpiryMax: number;
  sysIntervalMs: number;
  retainAvailable: boolean;
  connectTimeoutMs: number;
}

export const mqttSection: ConfigSection = {
  key: 'mqtt',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'MQTT 3.1/3.1.1/5.0 adapter (docs/mqtt.md).',
    additionalProperties: false,
    properties: {
      vhost: { type: 'string', default: '/', description: 'Virtual host MQTT clients use (their topics are in its amq.topic).' },
      allowAnonymous: {
        type: 'boolean',
        default: true,
        description: 'Accept CONNECTs without a user name, as Mosquitto does in local mode. The built-in guest/guest user is accepted from loopback only.',
      },
      users: {
        type: 'array',
        default: [],
        description: 'MQTT users (deprecated: use the broker-wide users: section; still migrated at start).',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: { username: { type: 'string' }, password: { type: 'string' } },
        },
      },
      maxPacketSize: { type: 'integer', minimum: 64, maximum: 268435460, default: 268435460, description: 'Largest packet accepted, bytes (announced as Maximum Packet Size to 5.0 clients).' },
      receiveMaximum: { type: 'integer', minimum: 1, maximum: 65535, default: 1024, description: 'Unacknowledged QoS 1/2 PUBLISHes a client may have in flight towards the broker.' },
      topicAliasMaximum: { type: 'integer', minimum: 0, maximum: 65535, default: 1024, description: 'Topic aliases a 5.0 client may use towards the broker.' },
      maxKeepAlive: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Largest keep alive (s) accepted; a longer or zero one is replaced by this (Server Keep Alive). 0 = any.' },
      sessionExpiryMax: { type: 'integer', minimum: 0, maximum: 4294967295, default: 4294967295, description: 'Cap on a session expiry interval, s (4294967295 = never expires).' },
      sysIntervalMs: { type: 'integer', minimum: 0, default: 10000, description: 'How often $SYS/broker/... topics are published, ms; 0 = never.' },
      retainAvailable: { type: 'boolean', default: true, description: 'Whether retained messages are supported.' },
      connectTimeoutMs: {
        type: 'integer',
        minimum: 100,
        default: 30000,
        description: 'Time a new connection has to complete CONNECT (authentication included) before it is closed, ms (RabbitMQ: 10 s, Mosquitto: about 90 s).',
      },
    },
  },
};

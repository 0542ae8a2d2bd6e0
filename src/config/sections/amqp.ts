import type { ConfigSection } from '../section.js';

/** The `amqp:` section (owned by the AMQP adapter, protocols/amqp; documented in docs/amqp.md). */
export interface AmqpUserPermissions {
  configure: string;
  write: string;
  read: string;
}

export interface AmqpConfig {
  heartbeat: number;
  frameMax: number;
  channelMax: number;
  handshakeTimeoutMs: number;
  users: { username: string; password: string; permissions: Record<string, AmqpUserPermissions> }[];
}

const permissions = {
  type: 'object',
  additionalProperties: false,
  required: ['configure', 'write', 'read'],
  properties: {
    configure: { type: 'string', description: 'Regex of queue/exchange names the user may declare and delete.' },
    write: { type: 'string', description: 'Regex of exchanges the user may publish to and queues it may bind.' },
    read: { type: 'string', description: 'Regex of queues the user may consume/get/purge and exchanges it may bind from.' },
  },
};

export const amqpSection: ConfigSection = {
  key: 'amqp',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'AMQP 0-9-1 adapter (docs/amqp.md).',
    additionalProperties: false,
    properties: {
      heartbeat: { type: 'integer', minimum: 0, maximum: 65535, default: 60, description: 'Heartbeat interval (s) proposed in connection.tune; 0 = none.' },
      frameMax: { type: 'integer', minimum: 4096, maximum: 4294967295, default: 131072, description: 'Largest frame (bytes) proposed in connection.tune.' },
      channelMax: { type: 'integer', minimum: 1, maximum: 65535, default: 2047, description: 'Most channels per connection proposed in connection.tune.' },
      handshakeTimeoutMs: { type: 'integer', minimum: 100, default: 10000, description: 'Time a client has to complete the handshake.' },
      users: {
        type: 'array',
        default: [],
        description: 'AMQP users with RabbitMQ-style permissions per vhost (deprecated: use the broker-wide users: section; still migrated at start).',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: {
            username: { type: 'string' },
            password: { type: 'string' },
            permissions: { type: 'object', default: { '/': { configure: '.*', write: '.*', read: '.*' } }, additionalProperties: permissions, description: 'vhost -> configure/write/read regexes.' },
          },
        },
      },
    },
  },
};

import type { ConfigSection } from '../section.js';

/** The `stomp:` section, read by the STOMP adapter (protocols/stomp, docs/stomp.md). */
export interface StompConfig {
  defaultVhost: string;
  defaultUser: string | null;
  users: { username: string; password: string }[];
  heartBeatMinMs: number;
  heartBeatGrace: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  maxBodyBytes: number;
  connectTimeoutMs: number;
  maxTransactions: number;
  maxTransactionBytes: number;
}

export const stompSection: ConfigSection = {
  key: 'stomp',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'STOMP 1.0/1.1/1.2 adapter, TCP and WebSocket /ws (docs/stomp.md).',
    additionalProperties: false,
    properties: {
      defaultVhost: {
        type: 'string',
        default: '/',
        description: 'Vhost of a CONNECT without `host`, or whose `host` names no vhost (stomp.py sends the server host name).',
      },
      defaultUser: {
        type: ['string', 'null'],
        default: 'guest',
        description: "User of a CONNECT without `login` (RabbitMQ's stomp.default_user); null = login required.",
      },
      users: {
        type: 'array',
        default: [],
        description: 'STOMP users (deprecated: use the broker-wide users: section; still migrated at start). The built-in guest/guest user is accepted from loopback only.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: { username: { type: 'string', minLength: 1 }, password: { type: 'string' } },
        },
      },
      heartBeatMinMs: { type: 'integer', minimum: 1, default: 50, description: 'Shortest heart-beat interval the server sends or expects, ms.' },
      heartBeatGrace: { type: 'number', minimum: 1, default: 2, description: 'A client silent for its heart-beat interval times this is disconnected.' },
      maxHeaderBytes: { type: 'integer', minimum: 256, default: 65536, description: 'Largest command line plus headers of one frame, bytes.' },
      maxHeaders: { type: 'integer', minimum: 1, default: 1000, description: 'Most header lines in one frame.' },
      maxBodyBytes: { type: 'integer', minimum: 0, default: 16777216, description: 'Largest frame body, bytes (checked before it is buffered).' },
      connectTimeoutMs: { type: 'integer', minimum: 100, default: 10000, description: 'Time a new connection has to complete CONNECT before it is closed, ms.' },
      maxTransactions: { type: 'integer', minimum: 1, default: 64, description: 'Most transactions (BEGIN without COMMIT/ABORT) one connection may have open; one more is an ERROR frame.' },
      maxTransactionBytes: {
        type: 'integer',
        minimum: 1024,
        default: 67108864,
        description: "Bytes one connection's open transactions may hold until COMMIT (SEND bodies plus 64 per SEND/ACK/NACK); one more is an ERROR frame.",
      },
    },
  },
};

import type { UserConfig } from '../../core/index.js';
import type { ConfigSection } from '../section.js';

export type UsersConfig = UserConfig[];

const regex = { type: 'string', description: 'Regular expression (searched, not anchored; empty matches nothing).' };

/**
 * `users:` — broker-wide users for every protocol (docs/security.md). Applied at start: the
 * file wins for the users it names; users added at runtime are kept in the users meta log.
 */
export const usersSection: ConfigSection = {
  key: 'users',
  defaultToEmpty: false,
  schema: {
    type: 'array',
    description: 'Users of every protocol, with tags and per-vhost permissions (docs/security.md).',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1 },
        password: { type: 'string', description: 'Clear password; only salted SCRAM-SHA-256/512 credentials derived from it are stored.' },
        passwordHash: {
          description: 'Stored credential(s) instead of a password: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (`polybroker hash-password`), or RABBIT-SHA-256$<password_hash>.',
          anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
        },
        tags: { type: 'array', items: { type: 'string' }, description: 'administrator, management, monitoring, policymaker.' },
        permissions: {
          type: 'object',
          description: 'Per vhost: configure / write / read expressions.',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['configure', 'write', 'read'],
            properties: { configure: regex, write: regex, read: regex },
          },
        },
        topicPermissions: {
          type: 'object',
          description: 'Per vhost: a list of { exchange, write, read } routing-key expressions ({username}, {vhost}, {client_id} expand).',
          additionalProperties: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['exchange', 'write', 'read'],
              properties: { exchange: { type: 'string' }, write: regex, read: regex },
            },
          },
        },
      },
    },
  },
};

import type { ConfigSection } from '../section.js';

export interface AuthConfig {
  /** Users who may log in from loopback addresses only (RabbitMQ's `loopback_users`). */
  loopbackUsers: string[];
  /** Delay before a failed login is answered, ms. */
  failedLoginDelayMs: number;
  /** Created on the very first start only (empty users log), tag administrator, full permissions on `/`; null = none. */
  defaultUser: { name: string; password: string } | null;
}

/** `auth:` — how logins are checked (docs/security.md). */
export const authSection: ConfigSection = {
  key: 'auth',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Authentication settings (docs/security.md).',
    additionalProperties: false,
    properties: {
      loopbackUsers: { type: 'array', items: { type: 'string' }, default: ['guest'], description: 'Users accepted from loopback addresses only (RabbitMQ loopback_users).' },
      failedLoginDelayMs: { type: 'integer', minimum: 0, maximum: 60000, default: 1000, description: 'Delay before a failed login is answered, ms (slows password guessing).' },
      defaultUser: {
        anyOf: [
          { type: 'null' },
          { type: 'object', additionalProperties: false, required: ['name', 'password'], properties: { name: { type: 'string', minLength: 1 }, password: { type: 'string' } } },
        ],
        default: { name: 'guest', password: 'guest' },
        description: 'User created on the very first start (empty users log), tag administrator, full permissions on vhost `/`; null = none.',
      },
    },
  },
};

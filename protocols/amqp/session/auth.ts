import type { ConnectionOrigin } from '../../../src/listeners/adapter.js';
import { readTable, tableString } from '../codec/field-table.js';
import { Reader } from '../codec/reader.js';
import { UserPermissions } from './permissions.js';

/** SASL mechanisms offered in connection.start, in RabbitMQ's order. */
export const MECHANISMS = ['AMQPLAIN', 'PLAIN'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

export interface Credentials {
  mechanism: Mechanism;
  username: string;
  password: string;
}

export type AuthResult = { ok: true; user: string; permissions?: UserPermissions } | { ok: false; reason: string };

/** Checks credentials. Pluggable: the broker passes one built from its configured users. */
export type Authenticate = (credentials: Credentials, origin: ConnectionOrigin) => AuthResult | Promise<AuthResult>;

/**
 * Decodes a start-ok/secure-ok response. PLAIN (RFC 4616): authzid NUL authcid NUL passwd.
 * AMQPLAIN: a field table without its length prefix holding LOGIN and PASSWORD.
 * Returns null when the response does not parse.
 */
export function parseSaslResponse(mechanism: Mechanism, response: Buffer): Credentials | null {
  if (mechanism === 'PLAIN') {
    const first = response.indexOf(0);
    const second = first < 0 ? -1 : response.indexOf(0, first + 1);
    if (second < 0) return null;
    return { mechanism, username: response.toString('utf8', first + 1, second), password: response.toString('utf8', second + 1) };
  }
  try {
    const prefixed = Buffer.allocUnsafe(4 + response.length);
    prefixed.writeUInt32BE(response.length, 0);
    response.copy(prefixed, 4);
    const t = readTable(new Reader(prefixed));
    const username = tableString(t, 'LOGIN');
    const password = tableString(t, 'PASSWORD');
    if (username === undefined || password === undefined) return null;
    return { mechanism, username, password };
  } catch {
    return null;
  }
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.') || address === 'localhost';
}

/** The embedded default (ARCHITECTURE.md): user guest, password guest, from loopback only. */
export const guestOnLoopback: Authenticate = (c, origin) => {
  if (c.username !== 'guest' || c.password !== 'guest') return { ok: false, reason: `invalid credentials for user '${c.username}'` };
  if (!isLoopback(origin.remoteAddress)) return { ok: false, reason: "user 'guest' can only connect via localhost" };
  return { ok: true, user: 'guest', permissions: UserPermissions.all() };
};

/** Configured users (amqp.users) first, then the built-in guest on loopback. */
export function configuredUsers(users: readonly { username: string; password: string; permissions?: Record<string, { configure: string; write: string; read: string }> }[]): Authenticate {
  const byName = new Map(users.map((u) => [u.username, { password: u.password, permissions: UserPermissions.fromConfig(u.permissions ?? { '/': { configure: '.*', write: '.*', read: '.*' } }) }]));
  return (c, origin) => {
    const u = byName.get(c.username);
    if (u) return u.password === c.password ? { ok: true, user: c.username, permissions: u.permissions } : { ok: false, reason: `invalid credentials for user '${c.username}'` };
    return guestOnLoopback(c, origin);
  };
}

import type { AuthResult, Core } from '../../../src/core/index.js';
import type { ConnectionOrigin } from '../../../src/listeners/adapter.js';
import { readTable, tableString } from '../codec/field-table.js';
import { Reader } from '../codec/reader.js';

/** SASL mechanisms offered in connection.start, in RabbitMQ's order; EXTERNAL only to a client that presented a trusted certificate. */
export const MECHANISMS = ['AMQPLAIN', 'PLAIN', 'EXTERNAL'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

export function offeredMechanisms(origin: ConnectionOrigin): Mechanism[] {
  return origin.certificateUser !== undefined ? ['AMQPLAIN', 'PLAIN', 'EXTERNAL'] : ['AMQPLAIN', 'PLAIN'];
}

export interface Credentials {
  mechanism: Mechanism;
  username: string;
  /** Absent for EXTERNAL (the TLS client certificate is the credential). */
  password?: string;
}

export type { AuthResult };

/** Checks credentials. Default: the core's user store (`coreAuthenticator`); tests may plug their own. */
export type Authenticate = (credentials: Credentials, origin: ConnectionOrigin) => AuthResult | Promise<AuthResult>;

/**
 * Decodes a start-ok/secure-ok response. PLAIN (RFC 4616): authzid NUL authcid NUL passwd.
 * AMQPLAIN: a field table without its length prefix holding LOGIN and PASSWORD. EXTERNAL
 * (RFC 4422 appendix A): the user is the certificate's; the response (an authzid) is ignored,
 * as RabbitMQ's rabbitmq_auth_mechanism_ssl does.
 * Returns null when the response does not parse.
 */
export function parseSaslResponse(mechanism: Mechanism, response: Buffer, origin: ConnectionOrigin): Credentials | null {
  if (mechanism === 'EXTERNAL') return origin.certificateUser === undefined ? null : { mechanism, username: origin.certificateUser };
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

/** The broker-wide users (src/core/auth): password mechanisms check the password, EXTERNAL that the certificate's user exists. */
export function coreAuthenticator(core: Core): Authenticate {
  return (c, origin) => {
    const ctx = { remoteAddress: origin.remoteAddress, mechanism: c.mechanism };
    return c.password === undefined ? core.users.authenticateExternal(c.username, ctx) : core.users.authenticate(c.username, c.password, ctx);
  };
}

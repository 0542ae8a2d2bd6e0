/**
 * Pluggable SASL authentication for the Kafka listener: PLAIN (RFC 4616) and SCRAM-SHA-256/512
 * against configured users. One `step` per SaslAuthenticate (or raw v0 token): it returns the
 * server's reply bytes and, when done, the authenticated user.
 */
import { timingSafeEqual } from 'node:crypto';
import type { KafkaSaslOptions } from '../options.js';
import { ScramExchange, makeScramCredential, scramAlgorithm, type ScramCredential } from './scram.js';

export class SaslAuthenticationError extends Error {}

export interface SaslStep {
  reply: Buffer;
  /** Set when the exchange completed successfully. */
  user: string | null;
  /** Exchange state to keep for the next step (SCRAM), null when done. */
  state: unknown;
}

export class SaslAuthenticator {
  private readonly passwords = new Map<string, string>();
  private readonly scram = new Map<string, ScramCredential>();

  constructor(readonly options: KafkaSaslOptions) {
    for (const u of options.users) {
      this.passwords.set(u.name, u.password);
      for (const mech of options.mechanisms) {
        const alg = scramAlgorithm(mech);
        if (alg) this.scram.set(`${mech}\0${u.name}`, makeScramCredential(u.password, alg));
      }
    }
  }

  get mechanisms(): string[] {
    return this.options.mechanisms;
  }

  supports(mechanism: string): boolean {
    return this.options.mechanisms.includes(mechanism);
  }

  step(mechanism: string, token: Buffer, state: unknown): SaslStep {
    if (mechanism === 'PLAIN') return this.plain(token);
    const alg = scramAlgorithm(mechanism);
    if (!alg) throw new SaslAuthenticationError(`unsupported SASL mechanism ${mechanism}`);
    try {
      if (state instanceof ScramExchange) {
        const reply = state.final(token.toString('utf8'));
        return { reply: Buffer.from(reply), user: state.user, state: null };
      }
      const exchange = new ScramExchange(alg, (user) => this.scram.get(`${mechanism}\0${user}`) ?? null);
      const reply = exchange.first(token.toString('utf8'));
      return { reply: Buffer.from(reply), user: null, state: exchange };
    } catch (e) {
      throw new SaslAuthenticationError((e as Error).message);
    }
  }

  private plain(token: Buffer): SaslStep {
    // [authzid] NUL authcid NUL passwd
    const parts = token.toString('utf8').split('\0');
    if (parts.length !== 3) throw new SaslAuthenticationError('malformed PLAIN message');
    const [authzid, user, password] = parts as [string, string, string];
    const expected = this.passwords.get(user);
    const ok =
      expected !== undefined &&
      Buffer.byteLength(expected) === Buffer.byteLength(password) &&
      timingSafeEqual(Buffer.from(expected), Buffer.from(password)) &&
      (authzid === '' || authzid === user);
    if (!ok) throw new SaslAuthenticationError(`Authentication failed: Invalid username or password`);
    return { reply: Buffer.alloc(0), user, state: null };
  }
}

/**
 * SASL for the Kafka listener: PLAIN (RFC 4616) and SCRAM-SHA-256/512 (KIP-84) against the
 * broker-wide user store (src/core/auth). One `step` per SaslAuthenticate (or raw v0 token):
 * it returns the server's reply bytes and, when done, the authenticated user. An unknown user
 * gets a decoy SCRAM salt and fails at the proof, like a wrong password.
 */
import { ScramExchange, scramAlgorithm, type AuthenticatedUser, type UserStore } from '../../../src/core/index.js';

export class SaslAuthenticationError extends Error {}

export interface SaslStep {
  reply: Buffer;
  /** Set when the exchange completed successfully. */
  user: AuthenticatedUser | null;
  /** Exchange state to keep for the next step (SCRAM), null when done. */
  state: unknown;
}

export class SaslAuthenticator {
  constructor(
    private readonly users: UserStore,
    readonly mechanisms: string[],
  ) {}

  supports(mechanism: string): boolean {
    return this.mechanisms.includes(mechanism);
  }

  async step(mechanism: string, token: Buffer, state: unknown, remoteAddress: string): Promise<SaslStep> {
    const ctx = { remoteAddress, mechanism };
    if (mechanism === 'PLAIN') return this.plain(token, ctx);
    const alg = scramAlgorithm(mechanism);
    if (!alg) throw new SaslAuthenticationError(`unsupported SASL mechanism ${mechanism}`);
    if (state instanceof ScramExchange) {
      let reply: string;
      try {
        reply = state.final(token.toString('utf8'));
      } catch (e) {
        await this.users.loginFinished(state.user, false, ctx);
        throw new SaslAuthenticationError((e as Error).message);
      }
      const r = await this.users.loginFinished(state.user, true, ctx);
      if (!r.ok) throw new SaslAuthenticationError(r.reason);
      return { reply: Buffer.from(reply), user: r.user, state: null };
    }
    const exchange = new ScramExchange(alg, (user) => this.users.scramCredential(user, alg));
    try {
      return { reply: Buffer.from(exchange.first(token.toString('utf8'))), user: null, state: exchange };
    } catch (e) {
      throw new SaslAuthenticationError((e as Error).message);
    }
  }

  private async plain(token: Buffer, ctx: { remoteAddress: string; mechanism: string }): Promise<SaslStep> {
    // [authzid] NUL authcid NUL passwd
    const parts = token.toString('utf8').split('\0');
    if (parts.length !== 3) throw new SaslAuthenticationError('malformed PLAIN message');
    const [authzid, user, password] = parts as [string, string, string];
    const r = await this.users.authenticate(user, password, ctx);
    if (!r.ok || (authzid !== '' && authzid !== user)) throw new SaslAuthenticationError('Authentication failed: Invalid username or password');
    return { reply: Buffer.alloc(0), user: r.user, state: null };
  }
}

import { ScramExchange, scramAlgorithm, type AuthenticatedUser, type ScramAlgorithm } from '../../../src/core/index.js';
import { encodeAuth, encodeDisconnect } from '../codec/encode.js';
import { MqttProtocolError } from '../codec/errors.js';
import type { AuthPacket } from '../codec/packets.js';
import { ReasonCode } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { acceptConnect, refuse, type PendingConnect } from './connect.js';

/**
 * MQTT 5 enhanced authentication (§4.12) with SCRAM (RFC 5802, RFC 7677) against the
 * broker-wide users' SCRAM credentials (src/core/auth): the client-first message comes as the
 * CONNECT's Authentication Data (or, as mqtt.js's `authPacket` sends it, in an AUTH right
 * after), the server-first goes out in AUTH 0x18, the client-final comes back in AUTH 0x18,
 * and the server-final goes in the CONNACK. Re-authentication (AUTH 0x19) runs the same
 * exchange on a connected session and ends with AUTH 0x00.
 */
export const ENHANCED_AUTH_METHODS: readonly string[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** A connection's enhanced authentication: its method, and the exchange under way. */
export interface EnhancedAuth {
  method: string;
  alg: ScramAlgorithm;
  exchange: ScramExchange | null;
  /** The CONNECT being authenticated; null once connected. */
  pending: PendingConnect | null;
}

function newExchange(conn: MqttConnection, alg: ScramAlgorithm): ScramExchange {
  return new ScramExchange(alg, (user) => conn.broker.core.users.scramCredential(user, alg));
}

/** Sends the server-first message for a client-first message, or throws when it is malformed. */
function sendServerFirst(conn: MqttConnection, auth: EnhancedAuth, clientFirst: Buffer): void {
  const exchange = newExchange(conn, auth.alg);
  const serverFirst = exchange.first(clientFirst.toString('utf8'));
  auth.exchange = exchange;
  conn.write(encodeAuth(ReasonCode.ContinueAuthentication, { authenticationMethod: auth.method, authenticationData: Buffer.from(serverFirst) }));
}

/**
 * Verifies the client-final message; resolves with the user and the server-final message, or
 * with null after the failed-login delay (a wrong proof, an unknown user, a malformed message).
 */
async function verify(conn: MqttConnection, auth: EnhancedAuth, clientFinal: Buffer | undefined): Promise<{ user: string; serverFinal: string } | null> {
  const exchange = auth.exchange!;
  auth.exchange = null;
  const ctx = { remoteAddress: conn.origin.remoteAddress, mechanism: auth.method };
  let serverFinal: string;
  try {
    serverFinal = exchange.final((clientFinal ?? Buffer.alloc(0)).toString('utf8'));
  } catch (e) {
    conn.log.info({ user: exchange.user, method: auth.method, reason: (e as Error).message }, 'enhanced authentication failed');
    await conn.broker.core.users.loginFinished(exchange.user, false, ctx);
    return null;
  }
  return { user: exchange.user, serverFinal };
}

/** CONNECT with a supported Authentication Method: starts the exchange (§4.12). */
export function beginEnhancedAuth(conn: MqttConnection, pending: PendingConnect): Promise<void> {
  const method = pending.connect.properties.authenticationMethod!;
  const auth: EnhancedAuth = { method, alg: scramAlgorithm(method)!, exchange: null, pending };
  conn.enhancedAuth = auth;
  conn.state = 'authenticating';
  const data = pending.connect.properties.authenticationData;
  if (data !== undefined && data.length > 0) {
    try {
      sendServerFirst(conn, auth, data);
    } catch (e) {
      refuse(conn, ReasonCode.NotAuthorized, (e as Error).message);
    }
  }
  // Without data the client-first message is expected in an AUTH packet.
  return Promise.resolve();
}

/** The SCRAM user logged in: checks as the password login does (loopback-only users, vhost access). */
async function login(conn: MqttConnection, auth: EnhancedAuth, user: string): Promise<{ ok: true; user: AuthenticatedUser } | { ok: false; reason: string }> {
  const r = await conn.broker.core.users.loginFinished(user, true, { remoteAddress: conn.origin.remoteAddress, mechanism: auth.method });
  if (!r.ok) return r;
  const vhost = conn.broker.options.vhost;
  if (!r.user.mayAccessVhost(vhost)) return { ok: false, reason: `access to vhost '${vhost}' refused for user '${user}'` };
  return r;
}

/** AUTH (5.0 §3.15): continues the exchange of a CONNECT, or a re-authentication [MQTT-4.12.1-1]. */
export async function handleAuth(conn: MqttConnection, p: AuthPacket): Promise<void> {
  const auth = conn.enhancedAuth;
  if (!auth) {
    throw new MqttProtocolError(ReasonCode.ProtocolError, `AUTH (reason 0x${p.reasonCode.toString(16)}) without an authentication method in CONNECT [MQTT-4.12.0-6]`);
  }
  if (p.properties.authenticationMethod !== auth.method) {
    throw new MqttProtocolError(ReasonCode.ProtocolError, `AUTH names authentication method ${p.properties.authenticationMethod ?? '(none)'}, CONNECT named ${auth.method} [MQTT-4.12.0-5]`);
  }
  const data = p.properties.authenticationData;

  if (conn.state === 'authenticating') {
    const pending = auth.pending!;
    if (!auth.exchange) {
      // mqtt.js's `authPacket`: the client-first message follows the CONNECT in an AUTH.
      if (p.reasonCode !== ReasonCode.ContinueAuthentication && p.reasonCode !== ReasonCode.Success) {
        throw new MqttProtocolError(ReasonCode.ProtocolError, `AUTH reason 0x${p.reasonCode.toString(16)} while authenticating`);
      }
      try {
        sendServerFirst(conn, auth, data ?? Buffer.alloc(0));
      } catch (e) {
        refuse(conn, ReasonCode.NotAuthorized, (e as Error).message);
      }
      return;
    }
    if (p.reasonCode !== ReasonCode.ContinueAuthentication) {
      throw new MqttProtocolError(ReasonCode.ProtocolError, `AUTH reason 0x${p.reasonCode.toString(16)} while authenticating [MQTT-3.15.2-1]`);
    }
    const verified = await verify(conn, auth, data);
    if ((conn.state as string) === 'closed') return;
    if (!verified) return refuse(conn, ReasonCode.BadUserNameOrPassword);
    const name = pending.connect.username;
    if (name !== undefined && name !== verified.user) return refuse(conn, ReasonCode.NotAuthorized, `user name ${name} is not the SCRAM user ${verified.user}`);
    const r = await login(conn, auth, verified.user);
    if ((conn.state as string) === 'closed') return;
    if (!r.ok) return refuse(conn, ReasonCode.NotAuthorized, r.reason);
    auth.pending = null;
    conn.state = 'connecting';
    return acceptConnect(conn, pending, r.user, { authenticationMethod: auth.method, authenticationData: Buffer.from(verified.serverFinal) });
  }

  // Connected: re-authentication [MQTT-4.12.1-1]; the session keeps working meanwhile.
  if (p.reasonCode === ReasonCode.ReAuthenticate && !auth.exchange) {
    try {
      sendServerFirst(conn, auth, data ?? Buffer.alloc(0));
    } catch (e) {
      return failReauth(conn, (e as Error).message);
    }
    return;
  }
  if (p.reasonCode !== ReasonCode.ContinueAuthentication || !auth.exchange) {
    throw new MqttProtocolError(ReasonCode.ProtocolError, `AUTH reason 0x${p.reasonCode.toString(16)} out of sequence`);
  }
  const verified = await verify(conn, auth, data);
  if (conn.state !== 'connected') return;
  if (!verified) return failReauth(conn, 'authentication failed');
  // The identity of a connection does not change: the same user must re-authenticate.
  if (verified.user !== conn.username) return failReauth(conn, `re-authentication as ${verified.user}, connected as ${conn.username}`);
  const r = await login(conn, auth, verified.user);
  if (conn.state !== 'connected') return;
  if (!r.ok) return failReauth(conn, r.reason);
  conn.user = r.user;
  conn.write(encodeAuth(ReasonCode.Success, { authenticationMethod: auth.method, authenticationData: Buffer.from(verified.serverFinal) }));
}

/** A failed re-authentication ends the connection with DISCONNECT 0x87 [MQTT-4.12.1-2]. */
function failReauth(conn: MqttConnection, why: string): void {
  conn.log.info({ user: conn.username, why }, 're-authentication failed');
  conn.write(encodeDisconnect(ReasonCode.NotAuthorized, conn.requestProblemInformation ? { reasonString: why.slice(0, 200) } : undefined));
  void conn.close();
}

import { randomBytes } from 'node:crypto';
import { authenticate } from '../authenticate.js';
import { encodeConnack } from '../codec/encode.js';
import type { ConnectPacket } from '../codec/packets.js';
import type { MqttProperties } from '../codec/properties.js';
import { connackReturnCodeFor, ReasonCode } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { queueRefusal } from '../mapping/authorize.js';
import { coreErrorReason } from '../mapping/errors.js';
import { MqttSession, NEVER_EXPIRES, sessionQueueName } from '../session.js';
import type { AuthenticatedUser } from '../../../src/core/index.js';
import { ENHANCED_AUTH_METHODS, beginEnhancedAuth } from './auth.js';
import { startConsuming } from './subscribe.js';

/** Refuses a CONNECT with a CONNACK carrying the reason (or the 3.1.1 return code), then closes [MQTT-3.2.2-7]. */
export function refuse(conn: MqttConnection, reasonCode: number, reasonString?: string): void {
  if (conn.level === 5) {
    conn.write(encodeConnack(5, false, reasonCode, reasonString ? { reasonString } : undefined));
  } else {
    const rc = connackReturnCodeFor(reasonCode);
    if (rc !== null) conn.write(encodeConnack(conn.level, false, rc));
  }
  void conn.close();
}

/** CONNECT (§3.1): authentication, client id rules, takeover, session resume or clean start, CONNACK. */
export async function handleConnect(conn: MqttConnection, p: ConnectPacket): Promise<void> {
  const adapter = conn.broker;
  const opts = adapter.options;
  conn.level = p.protocolLevel;
  try {
    await adapter.ready;
  } catch {
    // The adapter could not open its stores on the core.
    return refuse(conn, ReasonCode.ServerUnavailable);
  }

  const method = p.properties.authenticationMethod;
  if (method !== undefined && !ENHANCED_AUTH_METHODS.includes(method)) {
    // Enhanced authentication (§4.12) is offered with SCRAM only [MQTT-4.12.0-1].
    return refuse(conn, ReasonCode.BadAuthenticationMethod, `authentication method ${method} is not supported; offered: ${ENHANCED_AUTH_METHODS.join(', ')}`);
  }
  let clientId = p.clientId;
  let assigned = false;
  if (clientId === '') {
    // 3.1.1: an empty id needs clean session [MQTT-3.1.3-7]/[MQTT-3.1.3-8]; 3.1 never allows it;
    // 5.0: the server assigns one and says so [MQTT-3.2.2-16].
    if (p.protocolLevel === 3 || (p.protocolLevel === 4 && !p.clean)) return refuse(conn, ReasonCode.ClientIdentifierNotValid);
    clientId = `auto-${randomBytes(12).toString('hex')}`;
    assigned = true;
  }
  if (method !== undefined) return beginEnhancedAuth(conn, { connect: p, clientId, assigned });
  const auth = await authenticate(adapter.core, opts, p.username, p.password, conn.origin);
  if (auth.reasonCode !== 0) {
    conn.log.info({ user: p.username, reason: auth.reason }, 'login refused');
    return refuse(conn, auth.reasonCode);
  }
  // The login awaited (PBKDF2): the client may have gone meanwhile.
  if ((conn.state as string) === 'closed') return;
  return acceptConnect(conn, { connect: p, clientId, assigned }, auth.user);
}

/** A CONNECT whose client id is settled, on its way through authentication. */
export interface PendingConnect {
  connect: ConnectPacket;
  clientId: string;
  /** The server assigned the client id [MQTT-3.2.2-16]. */
  assigned: boolean;
}

/**
 * The authenticated CONNECT: takeover, session resume or clean start, CONNACK (with the
 * enhanced authentication's last data when there was one).
 */
export async function acceptConnect(conn: MqttConnection, pending: PendingConnect, user: AuthenticatedUser | null, connackAuth?: MqttProperties): Promise<void> {
  const adapter = conn.broker;
  const opts = adapter.options;
  const { connect: p, clientId, assigned } = pending;
  conn.user = user;
  conn.clientId = clientId;
  conn.username = user?.name ?? p.username;
  conn.will = p.will ?? null;
  const props = p.properties;
  if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) return refuse(conn, ReasonCode.ProtocolError);
  conn.clientReceiveMaximum = props.receiveMaximum ?? 65535;
  conn.clientMaxPacketSize = props.maximumPacketSize ?? 268435460;
  conn.clientTopicAliasMaximum = props.topicAliasMaximum ?? 0;
  conn.requestProblemInformation = props.requestProblemInformation !== 0;

  let keepAlive = p.keepalive;
  let serverKeepAlive: number | undefined;
  if (opts.maxKeepAlive > 0 && (keepAlive === 0 || keepAlive > opts.maxKeepAlive)) {
    keepAlive = opts.maxKeepAlive;
    serverKeepAlive = keepAlive;
  }
  conn.keepAliveMs = keepAlive * 1000;

  // Session Expiry: 3.1.x clean session 0 = never expires, 1 = ends with the connection.
  let expiry = p.protocolLevel === 5 ? (props.sessionExpiryInterval ?? 0) : p.clean ? 0 : NEVER_EXPIRES;
  let expiryCapped = false;
  if (expiry > opts.sessionExpiryMax) {
    expiry = opts.sessionExpiryMax;
    expiryCapped = true;
  }

  // A resumed session's queues are consumed now: read on them; a clean start deletes the old
  // session's queue: configure on it (RabbitMQ's MQTT plugin does both at CONNECT). Checked
  // before the takeover, so a refusal leaves the session as it was.
  const existing = adapter.sessions.get(clientId);
  const refusal = existing?.persistent ? (p.clean ? discardRefusal(conn, existing) : resumeRefusal(conn, existing)) : null;
  if (refusal !== null) {
    conn.log.info({ clientId, user: user?.name, clean: p.clean, reason: refusal }, 'session refused: not authorized');
    return refuse(conn, ReasonCode.NotAuthorized, refusal);
  }

  // Takeover [MQTT-3.1.4-3]: the existing connection is told (5.0: 0x8E) and closed first.
  const previous = adapter.live.get(clientId);
  adapter.live.set(clientId, conn);
  if (previous && previous !== conn) await previous.kick(ReasonCode.SessionTakenOver);
  if (conn.state === 'closed') return;
  // The core connection opens now, before any session state changes: management lists the
  // client from its CONNECT, and a refusal (vhost or per-user connection limit) goes into the
  // CONNACK and leaves no session behind.
  try {
    conn.ensureCore();
  } catch (e) {
    adapter.live.delete(clientId);
    return refuse(conn, coreErrorReason(e, ReasonCode.ServerUnavailable));
  }

  let session = adapter.sessions.get(clientId) ?? null;
  let sessionPresent = false;
  if (session && !session.persistent) {
    // A session without expiry ended with its connection (a takeover of a clean session).
    await adapter.endSession(session);
    session = null;
  } else if (p.clean && session) {
    // Clean Start: the old session ends (its delayed will goes out) [MQTT-3.1.2-4].
    await adapter.endSession(session);
    session = null;
  } else if (!p.clean) {
    // Resuming: a delayed will is not sent [MQTT-3.1.3-9].
    adapter.cancelPendingWill(clientId);
  }
  if (!session && adapter.vhost.queue(sessionQueueName(clientId))) {
    // A leftover queue without a session (e.g. a record lost to a crash): start afresh.
    await adapter.deleteQueueQuietly(sessionQueueName(clientId));
  }
  if (session) {
    sessionPresent = true;
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    if (session.persistent && expiry === 0) {
      // Resumed with expiry 0: the session now ends with this connection. Its queued messages
      // are part of the session state and are delivered now [MQTT-3.1.2-5], so its (durable)
      // queue stays; only the records go, so a crash cannot bring the session back. A leftover
      // queue without a record is deleted at the next CONNECT.
      adapter.sessionStore.delete(clientId);
      adapter.inflightStore.delete(clientId);
    }
    session.expiryInterval = expiry;
  } else {
    session = new MqttSession(clientId, expiry);
  }
  adapter.sessions.set(clientId, session);
  conn.session = session;

  conn.outboundWindow = conn.level === 5 ? conn.clientReceiveMaximum : opts.outboundInflight311;
  if (session.subscriptions.size > 0 || session.sessionQueueDeclared) {
    // A resumed session has messages to deliver: its channel opens now.
    try {
      conn.ensureChannel();
    } catch (e) {
      adapter.live.delete(clientId);
      return refuse(conn, coreErrorReason(e, ReasonCode.ServerUnavailable));
    }
  }
  if (session.persistent) await adapter.sessionStore.put(session.toRecord(null));

  const connackProps: MqttProperties = {};
  if (conn.level === 5) {
    if (assigned) connackProps.assignedClientIdentifier = clientId;
    if (expiryCapped) connackProps.sessionExpiryInterval = expiry;
    if (serverKeepAlive !== undefined) connackProps.serverKeepAlive = serverKeepAlive;
    connackProps.receiveMaximum = opts.receiveMaximum;
    connackProps.topicAliasMaximum = opts.topicAliasMaximum;
    if (opts.maxPacketSize < 268435460) connackProps.maximumPacketSize = opts.maxPacketSize;
    if (!opts.retainAvailable) connackProps.retainAvailable = 0;
    if (props.requestResponseInformation === 1) connackProps.responseInformation = `reply/${clientId}/`;
    if (connackAuth) Object.assign(connackProps, connackAuth);
    conn.reader.maxPacketSize = opts.maxPacketSize;
  }
  conn.state = 'connected';
  conn.lastPacketAt = Date.now();
  conn.write(encodeConnack(conn.level, sessionPresent, 0, conn.level === 5 ? connackProps : undefined));
  conn.debug({ clientId, level: conn.level, clean: p.clean, sessionPresent, expiry }, 'connected');
  // After the CONNACK: PUBRELs of interrupted QoS 2 flows, then queued messages (DUP when resent).
  conn.resendPubrels();
  await startConsuming(conn);
}

/** Configure on the session queue a clean start deletes; null when allowed. */
function discardRefusal(conn: MqttConnection, session: MqttSession): string | null {
  return session.sessionQueueDeclared ? queueRefusal(conn, session.queue, 'configure') : null;
}

/** Read on each queue a resumed session consumes (its own, its shared groups'); null when allowed. */
function resumeRefusal(conn: MqttConnection, session: MqttSession): string | null {
  if (session.sessionQueueDeclared || session.hasOwnQueueSubscriptions()) {
    const refusal = queueRefusal(conn, session.queue, 'read');
    if (refusal !== null) return refusal;
  }
  for (const sub of session.subscriptions.values()) {
    const refusal = sub.shared ? queueRefusal(conn, sub.queue, 'read') : null;
    if (refusal !== null) return refusal;
  }
  return null;
}

import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import { negotiateHeartBeat } from '../heart-beat.js';
import type { StompSession } from '../session.js';
import { negotiateVersion, SUPPORTED_VERSIONS } from '../spec/versions.js';

/**
 * CONNECT / STOMP (STOMP 1.2 "Connecting"): negotiate the version (absent accept-version =
 * 1.0, or the version a WebSocket subprotocol pinned), pick the vhost from `host`,
 * authenticate, negotiate heart-beats, answer CONNECTED with `version`, `session`, `server`
 * and `heart-beat`.
 */
export async function handleConnect(session: StompSession, frame: StompFrame): Promise<void> {
  if (session.isOpen) throw new StompError('Bad CONNECT', 'already connected: CONNECT may be sent only once');
  const h = frame.headers;
  const accept = headerOf(h, 'accept-version');
  const version = accept === undefined ? (session.websocketVersion ?? '1.0') : negotiateVersion(accept);
  if (version === undefined) {
    // RabbitMQ's words; every ERROR carries `version` (session.ts).
    throw new StompError('Version mismatch', `Supported versions are ${SUPPORTED_VERSIONS.join(',')}\n`);
  }
  // Before any await: frames pipelined behind CONNECT are decoded with this version's escaping.
  session.setVersion(version);
  const heartBeat = version === '1.0' ? { sendMs: 0, receiveMs: 0 } : negotiateHeartBeat(headerOf(h, 'heart-beat'), session.options.heartBeat);

  // `host` is the vhost (RabbitMQ). Clients that send their server's host name (stomp.py
  // does by default) get the default vhost, as ActiveMQ, which ignores `host`, gives them. A
  // `host` that cannot be a host name (`/prod`) names a vhost that does not exist: refused as
  // RabbitMQ does, rather than publishing into the default vhost by mistake.
  const host = headerOf(h, 'host');
  let vhost = session.options.defaultVhost;
  if (host !== undefined && session.core.hasVhost(host)) vhost = host;
  else if (host !== undefined && !couldBeHostName(host)) throw new StompError('Bad CONNECT', `Virtual host '${host}' access denied`);

  const auth = await session.options.authenticate({
    login: headerOf(h, 'login'),
    passcode: headerOf(h, 'passcode'),
    vhost,
    remoteAddress: session.origin.remoteAddress,
    ...(session.origin.certificateUser !== undefined ? { certificateUser: session.origin.certificateUser } : {}),
  });
  if (!auth.ok) throw new StompError('Bad CONNECT', auth.reason);

  const connection = session.core.connect({
    vhost,
    protocol: 'stomp',
    clientId: headerOf(h, 'client-id') ?? '',
    user: auth.user,
    remote: `${session.origin.remoteAddress}:${session.origin.remotePort}`,
    clientProperties: { version, host: vhost, ...(headerOf(h, 'client-id') !== undefined ? { clientId: headerOf(h, 'client-id') } : {}) },
    onCloseRequest: (reason) => session.fail(new StompError('Connection closed by the broker', reason)),
  });
  session.principal = auth.principal ?? null;
  session.clientId = headerOf(h, 'client-id');
  session.open(connection, auth.user, version, heartBeat);
  const headers = ['version', version, 'session', session.sessionId, 'server', session.options.serverName];
  if (version !== '1.0') headers.push('heart-beat', `${heartBeat.sendMs},${heartBeat.receiveMs}`);
  session.writeFrame('CONNECTED', headers);
  session.log.debug({ version, vhost, user: auth.user, heartBeat }, 'connected');
}

/** A DNS name, an IPv4 address or a (bracketed) IPv6 address, optionally with a port. */
const HOST_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[?[0-9A-Fa-f:.]+(?:%[A-Za-z0-9]+)?\]?)(?::[0-9]{1,5})?$/;

function couldBeHostName(host: string): boolean {
  return host.length <= 255 && HOST_NAME.test(host);
}

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
    throw new StompError(
      'Bad CONNECT',
      `Supported protocol versions are ${SUPPORTED_VERSIONS.join(' ')}`,
      undefined,
      ['version', SUPPORTED_VERSIONS.join(',')],
    );
  }
  // Before any await: frames pipelined behind CONNECT are decoded with this version's escaping.
  session.setVersion(version);
  const heartBeat = version === '1.0' ? { sendMs: 0, receiveMs: 0 } : negotiateHeartBeat(headerOf(h, 'heart-beat'), session.options.heartBeat);

  // `host` is the vhost (RabbitMQ). Clients that send their server's host name (stomp.py
  // does by default) get the default vhost, as ActiveMQ, which ignores `host`, gives them.
  const host = headerOf(h, 'host');
  const vhost = host !== undefined && session.core.hasVhost(host) ? host : session.options.defaultVhost;

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

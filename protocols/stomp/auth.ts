import type { AuthenticatedUser, Core } from '../../src/core/index.js';

/**
 * Who may connect: the broker-wide users (src/core/auth), RabbitMQ's STOMP rules. A CONNECT
 * without `login` is the TLS client certificate's user when there is one (RabbitMQ's
 * `stomp.ssl_cert_login`), else the default user (`stomp.defaultUser`, rabbitmq.com/docs/stomp
 * "Default User"), which is subject to the loopback rule like any login. Refusals use RabbitMQ's
 * wording ("Access refused for user 'x'", "Virtual host 'v' access denied").
 */
export interface AuthRequest {
  login: string | undefined;
  passcode: string | undefined;
  vhost: string;
  remoteAddress: string;
  certificateUser?: string;
}

export type AuthResult = { ok: true; user: string; principal?: AuthenticatedUser } | { ok: false; reason: string };

export type StompAuthenticator = (request: AuthRequest) => AuthResult | Promise<AuthResult>;

export function coreAuthenticator(core: Core, defaultUser: string | null): StompAuthenticator {
  return async ({ login, passcode, vhost, remoteAddress, certificateUser }) => {
    const ctx = { remoteAddress, mechanism: 'stomp-login' };
    let r;
    if (login !== undefined) r = await core.users.authenticate(login, passcode ?? '', ctx);
    else if (certificateUser !== undefined) r = await core.users.authenticateExternal(certificateUser, { ...ctx, mechanism: 'stomp-certificate' });
    else if (defaultUser !== null) r = await core.users.authenticateExternal(defaultUser, { ...ctx, mechanism: 'stomp-default-user' });
    else return { ok: false, reason: 'login is required' };
    if (!r.ok) return { ok: false, reason: r.reason.startsWith('invalid credentials') ? `Access refused for user '${login ?? certificateUser ?? defaultUser}'` : r.reason };
    if (!r.user.mayAccessVhost(vhost)) return { ok: false, reason: `Virtual host '${vhost}' access denied` };
    return { ok: true, user: r.user.name, principal: r.user };
  };
}

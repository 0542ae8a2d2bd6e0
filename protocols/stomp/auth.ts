/**
 * Who may connect. Pluggable: the broker's user store plugs in here when it exists; until
 * then the default is RabbitMQ's: user guest/guest, from loopback only, and a CONNECT without
 * `login` is the default user (rabbitmq.com/docs/stomp "Default User").
 */
export interface AuthRequest {
  login: string | undefined;
  passcode: string | undefined;
  vhost: string;
  remoteAddress: string;
}

export type AuthResult = { ok: true; user: string } | { ok: false; reason: string };

export type StompAuthenticator = (request: AuthRequest) => AuthResult | Promise<AuthResult>;

export interface StaticUser {
  name: string;
  password: string;
  /** Only from 127.0.0.0/8 and ::1 (RabbitMQ's `loopback_users`). */
  loopbackOnly?: boolean;
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function staticAuthenticator(users: readonly StaticUser[], defaultUser: string | null): StompAuthenticator {
  return ({ login, passcode, remoteAddress }) => {
    const name = login ?? defaultUser;
    if (name === null) return { ok: false, reason: 'login is required' };
    const user = users.find((u) => u.name === name);
    const password = login === undefined ? user?.password : passcode;
    if (user === undefined || user.password !== password) {
      return { ok: false, reason: `access refused for user '${name}'` };
    }
    if (user.loopbackOnly === true && !isLoopback(remoteAddress)) {
      return { ok: false, reason: `user '${name}' can only connect via localhost` };
    }
    return { ok: true, user: name };
  };
}

export const defaultAuthenticator: StompAuthenticator = staticAuthenticator(
  [{ name: 'guest', password: 'guest', loopbackOnly: true }],
  'guest',
);

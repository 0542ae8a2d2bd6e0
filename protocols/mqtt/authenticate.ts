import type { AuthenticatedUser, Core } from '../../src/core/index.js';
import type { ConnectionOrigin } from '../../src/listeners/adapter.js';
import { ReasonCode } from './codec/reason-codes.js';
import type { MqttOptions } from './options.js';

/** The user an anonymous CONNECT acts as (RabbitMQ's `mqtt.default_user`); loopback-only like any guest. */
export const ANONYMOUS_USER = 'guest';

export interface MqttLogin {
  /** 0 or the CONNACK reason code. */
  reasonCode: number;
  user: AuthenticatedUser | null;
  reason?: string;
}

/**
 * User name / password check (MQTT 5.0 §3.1.3.5) against the broker-wide users (src/core/auth).
 * No user name: the TLS client certificate's user when there is one (RabbitMQ's
 * `ssl_cert_login`), else anonymous when allowed, acting as `guest`. A wrong password or unknown
 * user is 0x86 Bad User Name or Password; a user refused from this address or without access to
 * the vhost is 0x87 Not Authorized.
 */
export async function authenticate(core: Core, options: MqttOptions, username: string | undefined, password: Buffer | undefined, origin: ConnectionOrigin): Promise<MqttLogin> {
  const ctx = { remoteAddress: origin.remoteAddress, mechanism: 'mqtt-password' };
  let result;
  if (username === undefined) {
    if (origin.certificateUser !== undefined) result = await core.users.authenticateExternal(origin.certificateUser, { ...ctx, mechanism: 'mqtt-certificate' });
    else if (!options.allowAnonymous) return { reasonCode: ReasonCode.NotAuthorized, user: null, reason: 'anonymous connections are not allowed' };
    else result = await core.users.authenticateExternal(ANONYMOUS_USER, { ...ctx, mechanism: 'mqtt-anonymous' });
  } else {
    result = await core.users.authenticate(username, (password ?? Buffer.alloc(0)).toString('utf8'), ctx);
  }
  if (!result.ok) {
    const code = username !== undefined && !result.reason.includes('localhost') ? ReasonCode.BadUserNameOrPassword : ReasonCode.NotAuthorized;
    return { reasonCode: code, user: null, reason: result.reason };
  }
  if (!result.user.mayAccessVhost(options.vhost)) {
    return { reasonCode: ReasonCode.NotAuthorized, user: null, reason: `access to vhost '${options.vhost}' refused for user '${result.user.name}'` };
  }
  return { reasonCode: 0, user: result.user };
}

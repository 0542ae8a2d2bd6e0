import { timingSafeEqual } from 'node:crypto';
import { ReasonCode } from './codec/reason-codes.js';
import type { MqttOptions } from './options.js';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * User name / password check (MQTT 5.0 §3.1.3.5). Configured users first; the built-in
 * guest/guest only from loopback (as RabbitMQ); no user name at all is anonymous, allowed by
 * default as Mosquitto's local mode. Returns 0 or the CONNACK reason code. The address is read
 * only for guest (an idle connection never reads it).
 */
export function authenticate(options: MqttOptions, username: string | undefined, password: Buffer | undefined, origin: { readonly remoteAddress: string }): number {
  if (username === undefined) return options.allowAnonymous ? ReasonCode.Success : ReasonCode.NotAuthorized;
  const pw = password ?? Buffer.alloc(0);
  for (const u of options.users) {
    if (u.username === username) return same(Buffer.from(u.password), pw) ? ReasonCode.Success : ReasonCode.BadUserNameOrPassword;
  }
  if (username === 'guest' && same(Buffer.from('guest'), pw)) {
    return LOOPBACK.test(origin.remoteAddress) ? ReasonCode.Success : ReasonCode.NotAuthorized;
  }
  // An unknown user with anonymous access allowed is still refused: a wrong name is an error, not anonymity.
  return ReasonCode.BadUserNameOrPassword;
}

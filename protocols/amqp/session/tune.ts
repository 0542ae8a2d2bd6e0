import { AmqpConnectionError } from '../codec/errors.js';
import type { MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';

/** Frames before tune-ok may be at most FRAME-MIN-SIZE (spec §4.2.1, as RabbitMQ enforces). */
export const FRAME_MIN_SIZE = 4096;

export interface Tuned {
  frameMax: number;
  channelMax: number;
  heartbeatSec: number;
}

/**
 * Checks a client's tune-ok against what connection.tune offered, with RabbitMQ's rules and
 * texts (NOT_ALLOWED): frame-max at least 4096 and at most the server's (0 = unlimited is too
 * much when the server has a limit), channel-max at most the server's (0 = take the server's).
 */
export function negotiateTune(offered: { frameMax: number; channelMax: number }, ok: MethodArgs['connection.tune-ok']): Tuned {
  if (ok.frameMax !== 0 && ok.frameMax < FRAME_MIN_SIZE) {
    throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, `frame_max=${ok.frameMax} < ${FRAME_MIN_SIZE} min size`, 10, 31);
  }
  if (offered.frameMax !== 0 && (ok.frameMax === 0 || ok.frameMax > offered.frameMax)) {
    throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, `frame_max=${ok.frameMax} > ${offered.frameMax} max size`, 10, 31);
  }
  if (offered.channelMax !== 0 && ok.channelMax > offered.channelMax) {
    throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, `negotiated channel_max = ${ok.channelMax} is higher than the maximum allowed value (${offered.channelMax})`, 10, 31);
  }
  return {
    frameMax: ok.frameMax,
    channelMax: ok.channelMax === 0 ? offered.channelMax || 65535 : ok.channelMax,
    heartbeatSec: ok.heartbeat,
  };
}

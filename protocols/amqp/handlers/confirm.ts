import { AmqpChannelError } from '../codec/errors.js';
import type { MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel } from '../session/channel.js';

/** confirm.select: publisher confirms from now on (not combinable with tx, as in RabbitMQ). */
export function confirmSelect(ch: AmqpChannel, a: MethodArgs['confirm.select']): void {
  if (ch.tx) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, 'cannot switch from tx to confirm mode', 85, 10);
  ch.enableConfirms();
  if (!a.nowait) ch.send('confirm.select-ok', {});
}

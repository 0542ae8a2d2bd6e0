import { AmqpChannelError } from '../codec/errors.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel } from '../session/channel.js';

/**
 * tx class: publishes and acks/nacks/rejects are held until tx.commit, then applied in order;
 * commit-ok follows once the publishes are durable. tx.rollback drops them.
 */
export function txSelect(ch: AmqpChannel): void {
  if (ch.confirms) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, 'cannot switch from confirm to tx mode', 90, 10);
  ch.tx ??= [];
  ch.send('tx.select-ok', {});
}

export async function txCommit(ch: AmqpChannel): Promise<void> {
  if (!ch.tx) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, 'channel is not transactional', 90, 20);
  const ops = ch.tx;
  ch.tx = [];
  const waits: Promise<void>[] = [];
  for (const op of ops) {
    const r = op();
    if (r) waits.push(r);
  }
  await Promise.all(waits);
  ch.send('tx.commit-ok', {});
}

export function txRollback(ch: AmqpChannel): void {
  if (!ch.tx) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, 'channel is not transactional', 90, 30);
  ch.tx = [];
  ch.send('tx.rollback-ok', {});
}

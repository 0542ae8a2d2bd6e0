import { randomBytes } from 'node:crypto';
import { NotFound, ResourceError } from '../../../src/core/index.js';
import { AmqpChannelError } from '../codec/errors.js';
import { plainTable } from '../codec/field-table.js';
import { REPLY_TO_PREFIX, REPLY_TO_QUEUE } from '../mapping/direct-reply-to.js';
import { queueArguments } from '../mapping/queue-arguments.js';
import type { MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel } from '../session/channel.js';

const where = (ch: AmqpChannel) => `in vhost '${ch.conn.vhostName}'`;

/** '' means the queue last declared on this channel (§1.8.3.1 queue name shortcut). */
export function queueName(ch: AmqpChannel, name: string, classId: number, methodId: number): string {
  if (name !== '') return name;
  if (ch.lastQueue === '') throw new AmqpChannelError(ReplyCode.NOT_FOUND, 'no previously declared queue', classId, methodId);
  return ch.lastQueue;
}

export function checkQueueExists(ch: AmqpChannel, name: string, classId: number, methodId: number): void {
  const vhost = ch.conn.core!.vhost;
  if (!vhost.queue(name) && !vhost.stream(name)) throw new AmqpChannelError(ReplyCode.NOT_FOUND, `no queue '${name}' ${where(ch)}`, classId, methodId);
}

export async function queueDeclare(ch: AmqpChannel, a: MethodArgs['queue.declare']): Promise<void> {
  const conn = ch.conn;
  const vhost = conn.core!.vhost;
  if (a.queue.startsWith(REPLY_TO_QUEUE)) {
    // RabbitMQ treats every declare of a direct reply-to name as passive: the pseudo-queue and
    // the reply name of a live requester exist with one consumer (an RPC server checks its
    // requester is still there this way), any other such name is 404.
    const live = a.queue === REPLY_TO_QUEUE || (a.queue.startsWith(REPLY_TO_PREFIX) && conn.deps.directReply.lookup(a.queue) !== undefined);
    if (!live) throw new AmqpChannelError(ReplyCode.NOT_FOUND, `no queue '${a.queue}' ${where(ch)}`, 50, 10);
    ch.lastQueue = a.queue;
    if (!a.nowait) ch.send('queue.declare-ok', { queue: a.queue, messageCount: 0, consumerCount: 1 });
    return;
  }
  let result;
  if (a.passive) {
    const name = queueName(ch, a.queue, 50, 10);
    checkQueueExists(ch, name, 50, 10);
    result = await vhost.declareQueue(name, { passive: true }, conn.core!.id);
  } else {
    if (a.queue.startsWith('amq.')) {
      throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, `queue name '${a.queue}' contains reserved prefix 'amq.*'`, 50, 10);
    }
    // A server-named queue is named here, so that configure is checked on the name it gets (RabbitMQ).
    const name = a.queue === '' ? `amq.gen-${randomBytes(16).toString('base64url')}` : a.queue;
    conn.authorize('queue', name, 'configure', 50, 10);
    const args = queueArguments(a.arguments, name, conn.vhostName);
    const dlx = args['x-dead-letter-exchange'];
    if (typeof dlx === 'string') {
      // Dead-lettering publishes into that exchange on the declarer's behalf (RabbitMQ's check_dlx).
      conn.authorize('queue', name, 'read', 50, 10);
      conn.authorize('exchange', dlx, 'write', 50, 10);
    }
    const type = args['x-queue-type'];
    if ((type === 'quorum' || type === 'stream') && !a.durable) {
      throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `invalid property 'non-durable' for queue '${a.queue}' ${where(ch)}`, 50, 10);
    }
    if ((type === 'quorum' || type === 'stream') && a.exclusive) {
      throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `invalid property 'exclusive-owner' for queue '${a.queue}' ${where(ch)}`, 50, 10);
    }
    try {
      result = await vhost.declareQueue(name, { durable: a.durable, exclusive: a.exclusive, autoDelete: a.autoDelete, arguments: args }, conn.core!.id);
    } catch (e) {
      // RabbitMQ refuses a queue past the vhost's limit on the channel (406), not the connection.
      const limit = e instanceof ResourceError ? /^queue limit \((\d+)\)/.exec(e.message) : null;
      if (limit) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `cannot declare queue '${name}': queue limit in vhost '${conn.vhostName}' (${limit[1]}) is reached`, 50, 10);
      throw e;
    }
  }
  ch.lastQueue = result.name;
  if (!a.nowait) ch.send('queue.declare-ok', { queue: result.name, messageCount: result.messageCount, consumerCount: result.consumerCount });
}

export async function queueBind(ch: AmqpChannel, a: MethodArgs['queue.bind']): Promise<void> {
  const queue = queueName(ch, a.queue, 50, 20);
  if (a.exchange === '') throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, 'operation not permitted on the default exchange', 50, 20);
  const vhost = ch.conn.core!.vhost;
  if (!vhost.exchange(a.exchange)) throw new AmqpChannelError(ReplyCode.NOT_FOUND, `no exchange '${a.exchange}' ${where(ch)}`, 50, 20);
  checkQueueExists(ch, queue, 50, 20);
  ch.conn.authorize('queue', queue, 'write', 50, 20);
  ch.conn.authorize('exchange', a.exchange, 'read', 50, 20);
  ch.conn.authorizeTopic(a.exchange, a.routingKey, 'read', 50, 20);
  await vhost.bindQueue(queue, a.exchange, a.routingKey, plainTable(a.arguments), ch.conn.core!.id);
  if (!a.nowait) ch.send('queue.bind-ok', {});
}

export async function queueUnbind(ch: AmqpChannel, a: MethodArgs['queue.unbind']): Promise<void> {
  const queue = queueName(ch, a.queue, 50, 50);
  if (a.exchange === '') throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, 'operation not permitted on the default exchange', 50, 50);
  ch.conn.authorize('queue', queue, 'write', 50, 50);
  ch.conn.authorize('exchange', a.exchange, 'read', 50, 50);
  try {
    await ch.conn.core!.vhost.unbindQueue(queue, a.exchange, a.routingKey, plainTable(a.arguments), ch.conn.core!.id);
  } catch (e) {
    // Unbinding what is not bound succeeds (RabbitMQ 3.x).
    if (!(e instanceof NotFound)) throw e;
  }
  ch.send('queue.unbind-ok', {});
}

export async function queuePurge(ch: AmqpChannel, a: MethodArgs['queue.purge']): Promise<void> {
  const queue = queueName(ch, a.queue, 50, 30);
  checkQueueExists(ch, queue, 50, 30);
  ch.conn.authorize('queue', queue, 'read', 50, 30);
  const messageCount = await ch.conn.core!.vhost.purgeQueue(queue, ch.conn.core!.id);
  if (!a.nowait) ch.send('queue.purge-ok', { messageCount });
}

export async function queueDelete(ch: AmqpChannel, a: MethodArgs['queue.delete']): Promise<void> {
  const queue = queueName(ch, a.queue, 50, 40);
  ch.conn.authorize('queue', queue, 'configure', 50, 40);
  let messageCount = 0;
  try {
    messageCount = await ch.conn.core!.vhost.deleteQueue(queue, { ifUnused: a.ifUnused, ifEmpty: a.ifEmpty }, ch.conn.core!.id);
  } catch (e) {
    // Deleting a queue that does not exist succeeds with 0 (RabbitMQ 3.x).
    if (!(e instanceof NotFound)) throw e;
  }
  if (!a.nowait) ch.send('queue.delete-ok', { messageCount });
}

import { writeBodyFrames, writeHeaderFrame } from '../codec/content-header.js';
import { AmqpConnectionError } from '../codec/errors.js';
import { writeMethodFrame } from '../codec/method-codec.js';
import { deliveryCountHeader } from '../mapping/delivery-headers.js';
import { deliveryPropertyBytes } from '../mapping/message.js';
import type { MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel } from '../session/channel.js';
import { checkQueueExists, queueName } from './queue.js';

/** Acks, nacks and rejects; in tx mode they wait for tx.commit. */
export function basicAck(ch: AmqpChannel, a: MethodArgs['basic.ack']): void {
  if (ch.tx) ch.tx.push(() => ch.core.ack(a.deliveryTag, a.multiple));
  else ch.core.ack(a.deliveryTag, a.multiple);
}

export function basicNack(ch: AmqpChannel, a: MethodArgs['basic.nack']): void {
  if (ch.tx) ch.tx.push(() => ch.core.nack(a.deliveryTag, a.multiple, a.requeue));
  else ch.core.nack(a.deliveryTag, a.multiple, a.requeue);
}

export function basicReject(ch: AmqpChannel, a: MethodArgs['basic.reject']): void {
  if (ch.tx) ch.tx.push(() => ch.core.reject(a.deliveryTag, a.requeue));
  else ch.core.reject(a.deliveryTag, a.requeue);
}

export function basicRecover(ch: AmqpChannel, a: MethodArgs['basic.recover']): void {
  ch.core.recover(a.requeue);
  ch.send('basic.recover-ok', {});
}

export function basicRecoverAsync(ch: AmqpChannel, a: MethodArgs['basic.recover-async']): void {
  ch.core.recover(a.requeue);
}

/** basic.qos: prefetch-size is not supported, as in RabbitMQ (NOT_IMPLEMENTED). */
export function basicQos(ch: AmqpChannel, a: MethodArgs['basic.qos']): void {
  if (a.prefetchSize !== 0) throw new AmqpConnectionError(ReplyCode.NOT_IMPLEMENTED, `prefetch_size!=0 (${a.prefetchSize})`, 60, 10);
  ch.core.qos(a.prefetchCount, a.global);
  if (!a.global) ch.prefetchCount = a.prefetchCount;
  ch.send('basic.qos-ok', {});
}

export function basicGet(ch: AmqpChannel, a: MethodArgs['basic.get']): void {
  const queue = queueName(ch, a.queue, 60, 70);
  checkQueueExists(ch, queue, 60, 70);
  ch.conn.authorize('queue', queue, 'read', 60, 70);
  const r = ch.core.get(queue, { noAck: a.noAck });
  if (!r) {
    ch.send('basic.get-empty', { clusterId: '' });
    return;
  }
  const w = ch.conn.writer;
  const m = r.message;
  writeMethodFrame(w, ch.id, 'basic.get-ok', { deliveryTag: r.deliveryTag, redelivered: r.redelivered, exchange: m.exchange, routingKey: m.routingKey, messageCount: r.messageCount });
  let props = deliveryPropertyBytes(m);
  if (ch.conn.core!.vhost.queue(queue)?.type === 'quorum') props = deliveryCountHeader(props, r.deliveryCount);
  writeHeaderFrame(w, ch.id, 60, m.body.length, props);
  writeBodyFrames(w, ch.id, m.body, ch.conn.frameMax);
  ch.conn.scheduleFlush();
}

import { randomBytes } from 'node:crypto';
import type { Delivery, OffsetSpec } from '../../../src/core/index.js';
import { AmqpChannelError, AmqpConnectionError } from '../codec/errors.js';
import { plainTable, tableInt, type FieldTable } from '../codec/field-table.js';
import { REPLY_TO_QUEUE } from '../mapping/direct-reply-to.js';
import { deliveryCountHeader, withDeliveryHeader } from '../mapping/delivery-headers.js';
import { deliveryPropertyBytes } from '../mapping/message.js';
import type { MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel, ConsumerState } from '../session/channel.js';
import { checkQueueExists, queueName } from './queue.js';

/** Server-generated consumer tags look like RabbitMQ's (`amq.ctag-<base64>`). */
export function generatedTag(): string {
  return `amq.ctag-${randomBytes(16).toString('base64url')}`;
}

export function basicConsume(ch: AmqpChannel, a: MethodArgs['basic.consume']): void {
  const tag = a.consumerTag || generatedTag();
  if (ch.consumers.has(tag)) throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`, 60, 20);
  if (a.queue === REPLY_TO_QUEUE) return consumeDirectReply(ch, a, tag);

  const queue = queueName(ch, a.queue, 60, 20);
  checkQueueExists(ch, queue, 60, 20);
  ch.conn.authorize('queue', queue, 'read', 60, 20);
  const vhost = ch.conn.core!.vhost;
  const info = vhost.queue(queue);
  const isStream = info ? info.type === 'stream' : vhost.stream(queue) !== null;
  const where = `queue '${queue}' in vhost '${ch.conn.vhostName}'`;
  let streamOffset: OffsetSpec | undefined;
  if (isStream) {
    if (a.noAck) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `consumer '${tag}' in '${where}' must be manual ack`, 60, 20);
    if (ch.prefetchCount === 0) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `consumer prefetch count is not set for '${where}'`, 60, 20);
    streamOffset = parseStreamOffset(a.arguments, 60, 20);
  }
  const state: ConsumerState = { tag, queue, noAck: a.noAck, stream: isStream };
  // Deliveries the core makes during consume() wait until consume-ok is written.
  let early: Delivery[] | null = [];
  const deliver = (d: Delivery) => {
    if (early) {
      early.push(d);
      return;
    }
    writeConsumerDelivery(ch, state, d);
  };
  ch.core.consume(queue, {
    consumerTag: tag,
    noAck: a.noAck,
    exclusive: a.exclusive,
    priority: tableInt(a.arguments, 'x-priority'),
    streamOffset,
    arguments: plainTable(a.arguments),
    onDelivery: deliver,
    onCancel: () => {
      ch.consumers.delete(tag);
      if (ch.state === 'open' && ch.conn.capabilities.get('consumer_cancel_notify')?.value === true) {
        ch.send('basic.cancel', { consumerTag: tag, nowait: true });
      }
    },
  });
  ch.consumers.set(tag, state);
  if (!a.nowait) ch.send('basic.consume-ok', { consumerTag: tag });
  const held = early;
  early = null;
  for (const d of held) writeConsumerDelivery(ch, state, d);
}

function writeConsumerDelivery(ch: AmqpChannel, c: ConsumerState, d: Delivery): void {
  if (ch.state !== 'open') return;
  const m = d.message;
  let props = deliveryPropertyBytes(m);
  // RabbitMQ stamps each stream delivery with its offset (x-stream-offset, long).
  if (c.stream) props = withDeliveryHeader(props, 'x-stream-offset', { type: 'l', value: BigInt(d.offset) });
  else if (d.deliveryCount > 0 && ch.conn.core!.vhost.queue(c.queue)?.type === 'quorum') props = deliveryCountHeader(props, d.deliveryCount);
  ch.writeDelivery(c.tag, d.deliveryTag, d.redelivered, m.exchange, m.routingKey, props, m.body);
}

function consumeDirectReply(ch: AmqpChannel, a: MethodArgs['basic.consume'], tag: string): void {
  if (!a.noAck) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, 'reply consumer cannot acknowledge', 60, 20);
  if ([...ch.consumers.values()].some((c) => c.replyToken)) {
    throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, 'reply consumer already set', 60, 20);
  }
  const token = ch.conn.deps.directReply.register({
    owner: ch.conn,
    deliver: (exchange, routingKey, propertyBytes, body) => {
      if (ch.state !== 'open') return;
      ch.writeDelivery(tag, ++ch.replyDeliveryTag, false, exchange, routingKey, propertyBytes, body);
    },
  });
  ch.consumers.set(tag, { tag, queue: REPLY_TO_QUEUE, noAck: true, stream: false, replyToken: token });
  if (!a.nowait) ch.send('basic.consume-ok', { consumerTag: tag });
}

export function basicCancel(ch: AmqpChannel, a: MethodArgs['basic.cancel']): void {
  const c = ch.consumers.get(a.consumerTag);
  if (c) {
    ch.consumers.delete(a.consumerTag);
    if (c.replyToken) ch.conn.deps.directReply.unregister(c.replyToken);
    else ch.core.cancel(a.consumerTag);
  }
  // An unknown tag is not an error (RabbitMQ answers cancel-ok).
  if (!a.nowait) ch.send('basic.cancel-ok', { consumerTag: a.consumerTag });
}

const INTERVAL_MS: Record<string, number> = { Y: 365 * 86_400_000, M: 30 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** x-stream-offset: first | last | next | <offset> | <timestamp> | <interval like "1h"> (RabbitMQ streams). */
export function parseStreamOffset(args: FieldTable, classId: number, methodId: number): OffsetSpec {
  const v = args.get('x-stream-offset');
  if (!v) return 'next';
  switch (v.type) {
    case 'S': {
      if (v.value === 'first' || v.value === 'last' || v.value === 'next') return v.value;
      const m = /^(\d+)(Y|M|D|h|m|s)$/.exec(v.value);
      if (m) return { timestamp: Date.now() - Number(m[1]) * INTERVAL_MS[m[2]!]! };
      break;
    }
    case 'T': return { timestamp: Number(v.value) * 1000 };
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': return { offset: Math.max(0, v.value) };
    case 'l': return { offset: Math.max(0, Number(v.value)) };
    default: break;
  }
  throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `invalid x-stream-offset argument`, classId, methodId);
}

import { MethodId, type MethodArgs } from '../spec/methods.js';
import { AmqpDecodeError } from './errors.js';
import { FRAME_END, FRAME_OVERHEAD, FrameType } from './method-codec.js';
import { shortstrLength, type Writer } from './writer.js';

/**
 * Encoders for the per-message methods (deliver, ack, nack), writing the same bytes as the
 * generic table codec (checked by test/protocols/amqp/codec/hot-frames.test.ts) without
 * building an argument object per message.
 */

/** basic.deliver: consumer-tag, delivery-tag, redelivered, exchange, routing-key */
export function writeDeliverFrame(w: Writer, channel: number, consumerTag: string, deliveryTag: number, redelivered: boolean, exchange: string, routingKey: string): void {
  const ct = shortstrLength(consumerTag);
  const ex = shortstrLength(exchange);
  const rk = shortstrLength(routingKey);
  const size = 4 + 1 + ct + 8 + 1 + 1 + ex + 1 + rk;
  w.ensure(size + FRAME_OVERHEAD);
  w.octet(FrameType.METHOD);
  w.short(channel);
  w.long(size);
  w.long(MethodId.basicDeliver);
  w.shortstr(consumerTag, ct);
  w.longlong(deliveryTag);
  w.octet(redelivered ? 1 : 0);
  w.shortstr(exchange, ex);
  w.shortstr(routingKey, rk);
  w.octet(FRAME_END);
}

/** basic.ack / basic.nack (requeue false) sent as publisher confirms. */
export function writeConfirmFrame(w: Writer, channel: number, deliveryTag: number, multiple: boolean, nack: boolean): void {
  const size = 4 + 8 + 1;
  w.ensure(size + FRAME_OVERHEAD);
  w.octet(FrameType.METHOD);
  w.short(channel);
  w.long(size);
  w.long(nack ? MethodId.basicNack : MethodId.basicAck);
  w.longlong(deliveryTag);
  w.octet(multiple ? 1 : 0);
  w.octet(FRAME_END);
}

/** A heartbeat frame, encoded once. */
export const HEARTBEAT_FRAME = Buffer.from([FrameType.HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END]);

/** basic.publish arguments from a method payload (ticket, exchange, routing-key, mandatory, immediate). */
export function decodePublishArgs(payload: Buffer): MethodArgs['basic.publish'] {
  // id(4) ticket(2) exchange(shortstr) routing-key(shortstr) bits(1)
  let pos = 6;
  const exLen = payload[pos++];
  if (exLen === undefined || pos + exLen >= payload.length) throw new AmqpDecodeError('basic.publish: truncated');
  const exchange = payload.toString('utf8', pos, pos + exLen);
  pos += exLen;
  const rkLen = payload[pos++]!;
  if (pos + rkLen + 1 !== payload.length) throw new AmqpDecodeError('basic.publish: bad length');
  const routingKey = payload.toString('utf8', pos, pos + rkLen);
  const bits = payload[pos + rkLen]!;
  return { ticket: payload.readUInt16BE(4), exchange, routingKey, mandatory: (bits & 1) !== 0, immediate: (bits & 2) !== 0 };
}

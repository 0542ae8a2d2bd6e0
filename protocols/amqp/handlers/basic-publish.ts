import { decodeProperties, writeBodyFrames, writeHeaderFrame } from '../codec/content-header.js';
import { AmqpChannelError } from '../codec/errors.js';
import { methodByName, writeMethodFrame } from '../codec/method-codec.js';
import { REPLY_TO_PREFIX, REPLY_TO_QUEUE } from '../mapping/direct-reply-to.js';
import { encodePropertyBytes, toCoreMessage, withoutPublisherIdentity } from '../mapping/message.js';
import type { MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel } from '../session/channel.js';

export const PUBLISH_PLAN = methodByName('basic.publish');
const RESOLVED = Promise.resolve();

/** A complete publish (method + header + body). In tx mode it waits for tx.commit. */
export function dispatchPublish(ch: AmqpChannel, a: MethodArgs['basic.publish'], propertyBytes: Buffer, body: Buffer): void {
  if (ch.tx) {
    ch.tx.push(() => publish(ch, a, propertyBytes, body));
    return;
  }
  publish(ch, a, propertyBytes, body);
}

/** Routes one message; returns its durability promise (awaited by tx.commit). */
function publish(ch: AmqpChannel, a: MethodArgs['basic.publish'], propertyBytes: Buffer, body: Buffer): Promise<void> {
  const conn = ch.conn;
  if (a.exchange !== ch.lastWriteChecked) {
    // One check per exchange name change keeps the hot path free of regex work.
    conn.authorize('exchange', a.exchange, 'write', 60, 40);
    ch.lastWriteChecked = a.exchange;
  }
  // Topic permissions: a map lookup when the user has none (the usual case).
  conn.authorizeTopic(a.exchange, a.routingKey, 'write', 60, 40);
  const props = decodeProperties(propertyBytes);
  if (props.userId !== undefined && props.userId !== conn.user) {
    throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `user_id property set to '${props.userId}' but authenticated user was '${conn.user}'`, 60, 40);
  }
  let rewritten = false;
  if (props.replyTo === REPLY_TO_QUEUE) {
    let token: string | undefined;
    for (const c of ch.consumers.values()) if (c.replyToken) token = c.replyToken;
    if (!token) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, 'fast reply consumer does not exist', 60, 40);
    props.replyTo = REPLY_TO_PREFIX + token;
    rewritten = true;
  }
  let coreHeaders = props.headers;
  if (coreHeaders !== undefined) {
    // A publisher's own x-pb-origin-* headers reach no consumer, same-protocol ones included
    // (docs/mapping.md "Publisher identity"); the property bytes are re-encoded only then.
    const clean = withoutPublisherIdentity(coreHeaders);
    if (clean !== coreHeaders) {
      coreHeaders = clean;
      props.headers = clean;
      rewritten = true;
    }
    if (clean.has('BCC')) {
      // BCC routes but is not shown to consumers (RabbitMQ sender-selected distribution).
      const h = new Map(clean);
      h.delete('BCC');
      props.headers = h;
      rewritten = true;
    }
  }
  if (rewritten) propertyBytes = encodePropertyBytes(props);
  props.headers = coreHeaders;
  const message = toCoreMessage(props, propertyBytes, body, Date.now());
  const seq = ch.confirms ? ch.confirms.next() : 0;

  if (a.exchange === '' && a.routingKey.startsWith(REPLY_TO_PREFIX)) {
    const target = conn.deps.directReply.lookup(a.routingKey);
    if (target) target.deliver('', a.routingKey, propertyBytes, body);
    else if (a.mandatory) sendReturn(ch, a, propertyBytes, body);
    if (seq) ch.confirms!.track(seq, RESOLVED, false);
    return RESOLVED;
  }

  const r = ch.core.publish(a.exchange, a.routingKey, message, { mandatory: a.mandatory });
  // A mandatory message that reached no queue is returned before its confirm (RabbitMQ order).
  if (r.status === 'unroutable' && a.mandatory) sendReturn(ch, a, propertyBytes, body);
  if (seq) ch.confirms!.track(seq, r.durable, r.status === 'rejected');
  conn.afterPublish();
  return r.durable;
}

function sendReturn(ch: AmqpChannel, a: MethodArgs['basic.publish'], propertyBytes: Buffer, body: Buffer): void {
  const w = ch.conn.writer;
  writeMethodFrame(w, ch.id, 'basic.return', { replyCode: ReplyCode.NO_ROUTE, replyText: 'NO_ROUTE', exchange: a.exchange, routingKey: a.routingKey });
  writeHeaderFrame(w, ch.id, 60, body.length, propertyBytes);
  writeBodyFrames(w, ch.id, body, ch.conn.frameMax);
  ch.conn.scheduleFlush();
}

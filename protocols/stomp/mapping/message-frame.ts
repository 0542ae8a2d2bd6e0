import type { Delivery, HeaderValue, Message } from '../../../src/core/index.js';
import { escapeValue, type EscapeMode } from '../codec/escaping.js';
import type { FrameOutput } from '../frame-output.js';
import type { StompVersion } from '../spec/versions.js';
import { destinationOf } from './destination.js';

/**
 * Delivery → MESSAGE frame, written straight into the connection's FrameOutput:
 *
 *   MESSAGE                       ┐ pre-encoded per subscription
 *   subscription:<id>             ┘ (only when the SUBSCRIBE had an id: STOMP 1.0 may not)
 *   destination:<dest>            cached per subscription for the last (exchange, routing key)
 *   message-id:<ack id>
 *   redelivered:<bool>            (RabbitMQ writes it on every MESSAGE)
 *   ack:<ack id>                  1.2, client and client-individual modes
 *   x-stream-offset:<offset>      stream queues
 *   <message headers>             the stored STOMP header lines, or the mapped properties
 *   content-length:<n>
 *
 *   <body>NUL
 *
 * The ack id is `<channel>-<delivery tag>`: the subscription's own core channel (so `client`
 * mode's cumulative ACK stays within the subscription) and the core's tag.
 */
export interface MessageFrameHead {
  version: StompVersion;
  /** `MESSAGE\nsubscription:<id>\n` (just `MESSAGE\n` for a 1.0 subscription without id) */
  prefix: Buffer;
  /** `message-id:<channel>-` */
  messageIdPrefix: Buffer;
  /** `ack:<channel>-`, or null when the frame carries no `ack` header. */
  ackPrefix: Buffer | null;
  /** Stream queues: each MESSAGE says its offset (`x-stream-offset`, as RabbitMQ does). */
  streamOffsets: boolean;
  /** Last destination line and the exchange/routing key it was built for. */
  lastExchange: string | undefined;
  lastRoutingKey: string | undefined;
  lastDestinationLine: Buffer;
}

export function createMessageFrameHead(version: StompVersion, subscriptionId: string | undefined, channelId: number, withAck: boolean, streamOffsets = false): MessageFrameHead {
  const mode = escapeModeOf(version);
  return {
    version,
    prefix: Buffer.from(subscriptionId === undefined ? 'MESSAGE\n' : `MESSAGE\nsubscription:${escapeValue(subscriptionId, mode)}\n`, 'utf8'),
    messageIdPrefix: Buffer.from(`message-id:${channelId}-`, 'latin1'),
    ackPrefix: withAck ? Buffer.from(`ack:${channelId}-`, 'latin1') : null,
    streamOffsets,
    lastExchange: undefined,
    lastRoutingKey: undefined,
    lastDestinationLine: Buffer.alloc(0),
  };
}

const REDELIVERED_TRUE = Buffer.from('redelivered:true\n', 'latin1');
const REDELIVERED_FALSE = Buffer.from('redelivered:false\n', 'latin1');
const CONTENT_LENGTH = Buffer.from('content-length:', 'latin1');
const STREAM_OFFSET = Buffer.from('x-stream-offset:', 'latin1');
const LF = 0x0a;

export function writeMessageFrame(out: FrameOutput, head: MessageFrameHead, delivery: Delivery): void {
  const message = delivery.message;
  out.bytes(head.prefix);
  if (message.exchange !== head.lastExchange || message.routingKey !== head.lastRoutingKey) {
    head.lastExchange = message.exchange;
    head.lastRoutingKey = message.routingKey;
    head.lastDestinationLine = Buffer.from(
      `destination:${escapeValue(destinationOf(message.exchange, message.routingKey), escapeModeOf(head.version))}\n`,
      'utf8',
    );
  }
  out.bytes(head.lastDestinationLine);
  out.bytes(head.messageIdPrefix);
  out.decimal(delivery.deliveryTag);
  out.byte(LF);
  out.bytes(delivery.redelivered ? REDELIVERED_TRUE : REDELIVERED_FALSE);
  if (head.ackPrefix !== null) {
    out.bytes(head.ackPrefix);
    out.decimal(delivery.deliveryTag);
    out.byte(LF);
  }
  if (head.streamOffsets) {
    out.bytes(STREAM_OFFSET);
    out.decimal(delivery.offset);
    out.byte(LF);
  }
  out.bytes(messageHeaderLines(message, head.version));
  out.bytes(CONTENT_LENGTH);
  out.decimal(message.body.length);
  out.byte(LF);
  out.byte(LF);
  out.bytes(message.body);
  out.byte(0);
}

function escapeModeOf(version: StompVersion): EscapeMode {
  return version === '1.0' ? 'none' : version;
}

/** Header lines of a message for a version, computed once per message and version (fan-out). */
const linesCache = new WeakMap<Message, Partial<Record<StompVersion, Buffer>>>();

export function messageHeaderLines(message: Message, version: StompVersion): Buffer {
  const native = message.native;
  // Stored lines are in 1.2 escaping: 1.2 takes them as they are, and so does 1.1 unless a
  // value holds a CR (`\r` is 1.2 only).
  if (native !== null && native.protocol === 'stomp') {
    if (version === '1.2' || (version === '1.1' && !hasEscapedCr(native.bytes))) return native.bytes;
  }
  let cached = linesCache.get(message);
  const hit = cached?.[version];
  if (hit !== undefined) return hit;
  const mode = escapeModeOf(version);
  const pairs = native !== null && native.protocol === 'stomp' ? decodeNativeLines(native.bytes) : mappedHeaders(message);
  let text = '';
  for (let i = 0; i < pairs.length; i += 2) {
    let value = pairs[i + 1]!;
    if (mode === 'none') value = value.replace(/[\r\n]/g, ' ');
    else if (mode === '1.1') value = value.replace(/\r/g, ' ');
    text += `${escapeValue(pairs[i]!, mode)}:${escapeValue(value, mode)}\n`;
  }
  const lines = Buffer.from(text, 'utf8');
  if (cached === undefined) linesCache.set(message, (cached = {}));
  cached[version] = lines;
  return lines;
}

function hasEscapedCr(bytes: Buffer): boolean {
  return bytes.indexOf('\\r', 0, 'latin1') >= 0;
}

/** Undoes 1.2 escaping of stored lines into flat [name, value, ...]. */
export function decodeNativeLines(bytes: Buffer): string[] {
  const out: string[] = [];
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    out.push(unescape12(line.slice(0, colon)), unescape12(line.slice(colon + 1)));
  }
  return out;
}

function unescape12(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'c' ? ':' : c === 'r' ? '\r' : c));
}

/** Headers the MESSAGE frame sets itself: a stored header of that name would shadow nothing. */
const FRAME_HEADERS = new Set(['destination', 'subscription', 'message-id', 'ack', 'content-length', 'redelivered']);

const PUBLISHER_PREFIX = 'x-pb-origin-';

/** A message published by another protocol, as STOMP headers (the mapping table of send-message.ts, reversed). */
function mappedHeaders(message: Message): string[] {
  const p = message.properties;
  const out: string[] = [];
  if (p.contentType !== undefined) out.push('content-type', p.contentType);
  if (p.contentEncoding !== undefined) out.push('content-encoding', p.contentEncoding);
  if (p.correlationId !== undefined) {
    out.push('correlation-id', typeof p.correlationId === 'string' ? p.correlationId : p.correlationId.toString('utf8'));
  }
  if (p.replyTo !== undefined) out.push('reply-to', p.replyTo);
  if (p.messageId !== undefined) out.push('amqp-message-id', p.messageId);
  if (p.expiration !== undefined) out.push('expiration', String(p.expiration));
  if (p.priority !== undefined) out.push('priority', String(p.priority));
  if (p.persistent === true) out.push('persistent', 'true');
  if (p.type !== undefined) out.push('type', p.type);
  if (p.userId !== undefined) out.push('user-id', p.userId);
  if (p.appId !== undefined) out.push('app-id', p.appId);
  // The message time in epoch ms (as ActiveMQ's JMSTimestamp): the publisher's own when it set
  // one (AMQP or STOMP `timestamp`), else the Kafka record's or the broker's receive time. A
  // user header of that name (MQTT, Kafka) is shadowed by it and not repeated.
  const stamped = p.sentAt !== undefined || message.origin?.protocol !== 'stomp';
  if (stamped) out.push('timestamp', String(p.sentAt ?? message.timestamp));
  for (const { name, value } of message.headers) {
    if (FRAME_HEADERS.has(name) || name.startsWith(PUBLISHER_PREFIX)) continue;
    if (stamped && name === 'timestamp') continue;
    const text = headerText(value);
    if (text !== undefined) out.push(name, text);
  }
  // Who published it, as the broker knows it (docs/mapping.md "Publisher identity"); the
  // publisher's own headers of these names were dropped above. A STOMP message the core
  // re-encoded (BCC, dead-lettered) is no cross-protocol delivery: no identity is added.
  const o = message.origin;
  if (o && o.protocol !== 'core' && o.protocol !== 'stomp') out.push('x-pb-origin-protocol', o.protocol, 'x-pb-origin-client-id', o.clientId, 'x-pb-origin-user', o.user);
  return out;
}

/** Scalar header values as text; tables, arrays and decimals have no STOMP form (RabbitMQ drops them too). */
function headerText(value: HeaderValue): string | undefined {
  if (value === null) return '';
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
  }
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return String(value.getTime());
  return undefined;
}

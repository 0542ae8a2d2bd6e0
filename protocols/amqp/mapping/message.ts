import { createMessage, type Header, type Message, type MessageProperties } from '../../../src/core/index.js';
import { decodeProperties, propertiesSize, writeProperties, type BasicProperties } from '../codec/content-header.js';
import type { FieldTable } from '../codec/field-table.js';
import { AmqpChannelError } from '../codec/errors.js';
import { Writer } from '../codec/writer.js';
import { ReplyCode } from '../spec/reply-codes.js';
import { fieldTableToHeaders, headersToFieldTable } from './headers.js';

/**
 * AMQP basic properties ↔ the core Message (ARCHITECTURE.md "Properties across protocols").
 * The property bytes as the publisher sent them are the message's native blob, so an AMQP →
 * AMQP delivery is byte-exact; the mapped fields serve routing (headers exchanges, CC/BCC,
 * TTL, priority, persistence) and the other protocols.
 */
export function toCoreMessage(props: BasicProperties, propertyBytes: Buffer, body: Buffer, now: number): Message {
  const properties: MessageProperties = {};
  if (props.contentType !== undefined) properties.contentType = props.contentType;
  if (props.contentEncoding !== undefined) properties.contentEncoding = props.contentEncoding;
  if (props.correlationId !== undefined) properties.correlationId = props.correlationId;
  if (props.replyTo !== undefined) properties.replyTo = props.replyTo;
  if (props.messageId !== undefined) properties.messageId = props.messageId;
  if (props.expiration !== undefined) properties.expiration = parseExpiration(props.expiration);
  if (props.priority !== undefined) properties.priority = props.priority;
  if (props.deliveryMode === 2) properties.persistent = true;
  else if (props.deliveryMode === 1) properties.persistent = false;
  if (props.type !== undefined) properties.type = props.type;
  if (props.userId !== undefined) properties.userId = props.userId;
  if (props.appId !== undefined) properties.appId = props.appId;
  // Kept for re-encoded copies (CC/BCC, dead-lettered): every basic property survives them.
  if (props.timestamp !== undefined) properties.sentAt = props.timestamp * 1000;
  if (props.clusterId !== undefined) properties.clusterId = props.clusterId;
  const headers: Header[] = props.headers ? fieldTableToHeaders(props.headers) : [];
  return createMessage(body, { timestamp: now, properties, headers, native: { protocol: 'amqp', bytes: propertyBytes } });
}

/** RabbitMQ accepts only a non-negative integer in decimal ("invalid expiration 'x': no_integer"). */
export function parseExpiration(s: string): number {
  if (!/^-?\d+$/.test(s)) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `invalid expiration '${s}': no_integer`, 60, 40);
  const n = Number(s);
  if (n < 0) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `invalid expiration '${s}': {value_negative,${n}}`, 60, 40);
  return n;
}

/** Properties for a message that came from another protocol (or was changed by the core). */
export function basicPropertiesOf(m: Message): BasicProperties {
  const p = m.properties;
  const out: BasicProperties = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.contentEncoding !== undefined) out.contentEncoding = p.contentEncoding;
  // An AMQP message the core re-encoded (CC/BCC removed, dead-lettered) is no cross-protocol
  // delivery: it keeps its headers as published and gets no synthesized identity or timestamp.
  const fromAmqp = m.origin?.protocol === 'amqp';
  const headers = fromAmqp ? m.headers : withPublisher(m);
  if (headers.length) out.headers = headersToFieldTable(headers);
  if (p.persistent) out.deliveryMode = 2;
  else if (p.persistent === false) out.deliveryMode = 1;
  if (p.priority !== undefined) out.priority = p.priority;
  if (p.correlationId !== undefined) out.correlationId = truncate(typeof p.correlationId === 'string' ? p.correlationId : p.correlationId.toString('utf8'));
  if (p.replyTo !== undefined) out.replyTo = truncate(p.replyTo);
  if (p.expiration !== undefined) out.expiration = String(p.expiration);
  if (p.messageId !== undefined) out.messageId = truncate(p.messageId);
  if (p.type !== undefined) out.type = truncate(p.type);
  if (p.userId !== undefined) out.userId = truncate(p.userId);
  if (p.appId !== undefined) out.appId = truncate(p.appId);
  if (p.clusterId !== undefined) out.clusterId = truncate(p.clusterId);
  // The publisher's own timestamp when it set one; otherwise, for other protocols, the message
  // time (a Kafka record's timestamp, else the broker's receive time), in AMQP's seconds.
  if (p.sentAt !== undefined) out.timestamp = Math.floor(p.sentAt / 1000);
  else if (!fromAmqp) out.timestamp = Math.floor(m.timestamp / 1000);
  return out;
}

/**
 * The publisher's headers table without `x-pb-origin-*` entries (docs/mapping.md "Publisher
 * identity": only the broker says who published); the same table when it has none.
 */
export function withoutPublisherIdentity(headers: FieldTable): FieldTable {
  let out: FieldTable | null = null;
  for (const name of headers.keys()) {
    if (!name.startsWith(PUBLISHER_PREFIX)) continue;
    out ??= new Map(headers);
    out.delete(name);
  }
  return out ?? headers;
}

/**
 * Who published a message from another protocol, as the broker knows it (docs/mapping.md
 * "Publisher identity"): headers of these names from the publisher itself are replaced.
 */
const PUBLISHER_PREFIX = 'x-pb-origin-';

function withPublisher(m: Message): Header[] {
  const o = m.origin;
  let h = m.headers;
  if (h.some((x) => x.name.startsWith(PUBLISHER_PREFIX))) h = h.filter((x) => !x.name.startsWith(PUBLISHER_PREFIX));
  if (!o || o.protocol === 'core') return h;
  return [...h, { name: 'x-pb-origin-protocol', value: o.protocol }, { name: 'x-pb-origin-client-id', value: o.clientId }, { name: 'x-pb-origin-user', value: o.user }];
}

function truncate(s: string): string {
  return Buffer.byteLength(s) <= 255 ? s : Buffer.from(s).subarray(0, 255).toString('utf8').replace(/\uFFFD+$/, '');
}

const scratch = new Writer(4096);
const converted = new WeakMap<Message, Buffer>();

/** Encodes properties into a fresh standalone buffer. */
export function encodePropertyBytes(p: BasicProperties): Buffer {
  scratch.ensure(propertiesSize(p));
  writeProperties(scratch, p);
  return scratch.take();
}

/**
 * The property bytes to deliver a message with: the publisher's own when it came over AMQP and
 * the core has not added headers since (dead-lettering adds x-death: then the native properties
 * are kept and only the headers table is rebuilt from the core's headers).
 */
export function deliveryPropertyBytes(m: Message): Buffer {
  const native = m.native;
  if (native && native.protocol === 'amqp' && !hasCoreHeaders(m)) return native.bytes;
  let bytes = converted.get(m);
  if (bytes) return bytes;
  let props: BasicProperties;
  if (native && native.protocol === 'amqp') {
    props = decodeProperties(native.bytes);
    props.headers = headersToFieldTable(m.headers);
    // A dead-lettered copy loses its per-message TTL (kept in x-death original-expiration).
    if (m.properties.expiration === undefined) delete props.expiration;
  } else {
    props = basicPropertiesOf(m);
  }
  bytes = encodePropertyBytes(props);
  converted.set(m, bytes);
  return bytes;
}

function hasCoreHeaders(m: Message): boolean {
  const h = m.headers;
  for (let i = 0; i < h.length; i++) {
    const n = h[i]!.name;
    if (n === 'x-death' || n === 'x-first-death-reason') return true;
  }
  return false;
}

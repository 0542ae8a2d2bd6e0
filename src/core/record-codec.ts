/**
 * Message <-> Kafka RecordBatch v2 record, the stored form of every message.
 *
 * A message becomes one record: key = message key, value = body, timestamp, and as headers
 * first the message's headers (strings as UTF-8, Buffers as is, other typed values as their
 * text) so that Kafka consumers of a stream see them, then — only in batches stored into a
 * stream, which Kafka consumers read — the mapped properties (`PROPERTY_HEADERS`) and the
 * publisher's identity (`ORIGIN_HEADERS`) as plain text headers, then one `META_HEADER`
 * holding properties, typed headers, native properties, exchange, routing key and origin
 * (meta-codec.ts), the core's own record of the message.
 *
 * A record without `META_HEADER` came from a Kafka producer: headers named in
 * `PROPERTY_HEADERS` with a valid value become the message's properties, headers named like
 * `ORIGIN_HEADERS` are dropped (only the broker says who published), and the rest become
 * Buffer-valued headers. The stored batch itself is never rewritten (Kafka -> Kafka is
 * byte-exact), so the producer's identity reaches the copies routed to other protocols only.
 */
import {
  decodeRecordBatch,
  encodeRecordBatch,
  readRecordBatchHeader,
  RECORD_BATCH_HEADER_BYTES,
  type KafkaRecord,
  type RecordHeader,
} from '../../storage/record-batch.js';
import type { Header, HeaderValue, Message, MessageProperties } from './message.js';
import { KAFKA_KEY_HEADER, keyHeaderValue } from './kafka-key-header.js';
import { MetaWriter, headersArePlain, readMeta, writeMeta } from './meta-codec.js';

export const META_HEADER = 'x-pb-meta';

/** Kafka record headers of the mapped properties (docs/mapping.md, "Kafka record headers"). */
export const PROPERTY_HEADERS = {
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  correlationId: 'correlation-id',
  replyTo: 'reply-to',
  messageId: 'message-id',
  type: 'type',
  appId: 'app-id',
  /** Time to live in ms, decimal text. */
  expiration: 'expiration',
  /** 0..255, decimal text. */
  priority: 'priority',
} as const;

/** Publisher identity headers, set by the broker only (docs/mapping.md, "Publisher identity"). */
export const ORIGIN_HEADERS = {
  protocol: 'x-pb-origin-protocol',
  clientId: 'x-pb-origin-client-id',
  user: 'x-pb-origin-user',
} as const;
export const ORIGIN_HEADER_PREFIX = 'x-pb-origin-';

const STRING_PROPERTIES = ['contentType', 'contentEncoding', 'replyTo', 'messageId', 'type', 'appId'] as const;
type StringProperty = (typeof STRING_PROPERTIES)[number];
const PROPERTY_BY_HEADER = new Map<string, keyof typeof PROPERTY_HEADERS>(
  Object.entries(PROPERTY_HEADERS).map(([k, v]) => [v, k as keyof typeof PROPERTY_HEADERS]),
);

const writer = new MetaWriter();
const EMPTY = Buffer.alloc(0);

function valueText(v: HeaderValue): Buffer | null {
  if (v === null) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Date) return Buffer.from(v.toISOString());
  if (typeof v === 'object' && !Array.isArray(v) && v.kind === 'decimal') return Buffer.from(String(v.value / 10 ** v.scale));
  if (typeof v === 'object') return Buffer.from(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
  return Buffer.from(String(v));
}

/**
 * Kafka headers for a message: its headers, then (`forKafka`: the batch goes into a stream)
 * its properties and origin as plain headers, then the meta header.
 */
export function recordHeaders(m: Message, storedAt: number, forKafka = false): RecordHeader[] {
  const plain = headersArePlain(m.headers);
  const out: RecordHeader[] = new Array(m.headers.length);
  for (let i = 0; i < m.headers.length; i++) out[i] = [m.headers[i]!.name, valueText(m.headers[i]!.value)];
  if (forKafka) {
    const p = m.properties;
    for (const name of STRING_PROPERTIES) {
      const v = p[name];
      if (v !== undefined) out.push([PROPERTY_HEADERS[name], Buffer.from(v, 'utf8')]);
    }
    if (p.correlationId !== undefined) {
      out.push([PROPERTY_HEADERS.correlationId, typeof p.correlationId === 'string' ? Buffer.from(p.correlationId, 'utf8') : p.correlationId]);
    }
    if (p.expiration !== undefined) out.push([PROPERTY_HEADERS.expiration, Buffer.from(String(p.expiration))]);
    if (p.priority !== undefined) out.push([PROPERTY_HEADERS.priority, Buffer.from(String(p.priority))]);
    const o = m.origin;
    if (o !== null && o.protocol !== 'core') {
      out.push(
        [ORIGIN_HEADERS.protocol, Buffer.from(o.protocol)],
        [ORIGIN_HEADERS.clientId, Buffer.from(o.clientId, 'utf8')],
        [ORIGIN_HEADERS.user, Buffer.from(o.user, 'utf8')],
      );
    }
  }
  // The meta view lives in the shared writer; encodeRecordBatch copies it before the next use.
  out.push([META_HEADER, writeMeta(writer, m, plain, storedAt)]);
  return out;
}

/**
 * One RecordBatch v2 holding one message (the unit stored for queues and routed into streams);
 * `storedAt` = core clock; `forKafka` = it is stored into a stream (plain property headers).
 */
export function encodeMessageBatch(m: Message, storedAt: number = m.timestamp, forKafka = false): Buffer {
  // Kafka consumers read a stream record's timestamp as its CreateTime: the publisher's own
  // creation time when it set one (AMQP `timestamp`, STOMP `timestamp`), else the message time.
  const timestamp = forKafka && m.properties.sentAt !== undefined ? m.properties.sentAt : m.timestamp;
  return encodeRecordBatch({
    records: [{ key: m.key, value: m.body, headers: recordHeaders(m, storedAt, forKafka), timestamp }],
    baseTimestamp: timestamp,
  });
}

/** True when some header claims to be a broker identity header (a publisher's forgery). */
export function hasOriginHeader(headers: readonly Header[]): boolean {
  for (let i = 0; i < headers.length; i++) if (headers[i]!.name.startsWith(ORIGIN_HEADER_PREFIX)) return true;
  return false;
}

/**
 * A Kafka producer's batch without record headers named `x-pb-origin-*`, so a forged identity
 * reaches no consumer, Kafka ones included (docs/mapping.md "Publisher identity"). The batch
 * is re-encoded only when such a header is there (CRC recomputed; producer id, epoch,
 * sequence, timestamps and offset deltas kept); otherwise it is returned as given. The produce
 * path calls it only when its one scan of the batch's headers saw such a name. Compressed
 * batches are not read (their records are not decompressed on produce).
 */
export function withoutOriginHeaders(batch: Buffer): Buffer {
  if (batch.length <= RECORD_BATCH_HEADER_BYTES || (batch.readInt16BE(21) & 0x07) !== 0) return batch;
  const d = decodeRecordBatch(batch);
  if (d.isControl) return batch;
  const forged = (h: RecordHeader) => h[0].startsWith(ORIGIN_HEADER_PREFIX);
  if (!d.records.some((r) => r.headers.some(forged))) return batch;
  const h = readRecordBatchHeader(batch);
  return encodeRecordBatch({
    records: d.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers.filter((x) => !forged(x)), timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    logAppendTime: h.logAppendTime,
    isTransactional: h.isTransactional,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    baseTimestamp: h.baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    lastOffsetDelta: h.lastOffsetDelta,
  });
}

/** Reads a Kafka producer's property header into `p`; false when the value is not valid for it. */
function setProperty(p: MessageProperties, name: keyof typeof PROPERTY_HEADERS, v: Buffer): boolean {
  if (name === 'correlationId') {
    p.correlationId = Buffer.from(v);
    return true;
  }
  const text = v.toString('utf8');
  if (name === 'expiration' || name === 'priority') {
    if (!/^\d{1,15}$/.test(text)) return false;
    const n = Number(text);
    if (name === 'priority') {
      if (n > 255) return false;
      p.priority = n;
    } else p.expiration = n;
    return true;
  }
  p[name as StringProperty] = text;
  return true;
}

/**
 * Rebuilds a message from a decoded record. `stream` is used as routing key for records from
 * Kafka producers (no meta).
 */
export function recordToMessage(rec: KafkaRecord, stream: string): Message {
  return decodeRecord(rec, stream).message;
}

/**
 * `trustMeta` false: the record comes straight from a Kafka producer, so a `META_HEADER` in it
 * is a forgery (it could claim any origin): it is dropped and the record read as a Kafka one.
 */

/** The message of a record and when the core stored it (the record timestamp for Kafka records). */
export function decodeRecord(rec: KafkaRecord, stream: string, trustMeta = true): { message: Message; storedAt: number } {
  let n = rec.headers.length;
  const last = n > 0 ? rec.headers[n - 1]! : null;
  if (!trustMeta && last && last[0] === META_HEADER) n--;
  else if (last && last[0] === META_HEADER && last[1]) {
    const meta = readMeta(last[1]);
    let headers = meta.headers;
    if (!headers) {
      // The user headers come first; property and origin headers (if any) follow them.
      const count = meta.kinds?.length ?? n - 1;
      headers = new Array(count);
      for (let i = 0; i < count; i++) {
        const [name, v] = rec.headers[i]!;
        const kind = meta.kinds?.[i] ?? 1;
        headers[i] = { name, value: kind === 0 ? (v ? v.toString('utf8') : '') : kind === 2 ? null : v ? Buffer.from(v) : Buffer.alloc(0) };
      }
    }
    const message: Message = {
      body: rec.value ?? EMPTY,
      key: rec.key,
      timestamp: rec.timestamp,
      properties: meta.properties,
      headers,
      native: meta.native,
      exchange: meta.exchange,
      routingKey: meta.routingKey,
      origin: meta.origin,
    };
    if (meta.routedFrom !== undefined) message.routedFrom = meta.routedFrom;
    return { message, storedAt: meta.storedAt };
  }
  const headers: Header[] = [];
  const properties: MessageProperties = { persistent: true };
  for (let i = 0; i < n; i++) {
    const [name, v] = rec.headers[i]!;
    if (name.startsWith(ORIGIN_HEADER_PREFIX)) continue;
    // The record's own key is the truth: a producer's header of that name does not contradict it.
    if (name === KAFKA_KEY_HEADER && rec.key !== null) continue;
    const prop = PROPERTY_BY_HEADER.get(name);
    if (prop !== undefined && v !== null && setProperty(properties, prop, v)) continue;
    headers.push({ name, value: v ? Buffer.from(v) : null });
  }
  // Other protocols have no key slot: they see the key as a header (docs/mapping.md "Kafka key").
  if (rec.key !== null) headers.push({ name: KAFKA_KEY_HEADER, value: keyHeaderValue(rec.key) });
  const message: Message = {
    body: rec.value ?? EMPTY,
    key: rec.key,
    timestamp: rec.timestamp,
    properties,
    headers,
    native: null,
    exchange: '',
    routingKey: stream,
    origin: null,
  };
  return { message, storedAt: rec.timestamp };
}

/** Decodes every message of a stored batch, with its offset (baseOffset + offsetDelta). */
export interface DecodedMessage {
  offset: number;
  message: Message;
  storedAt: number;
  isControl: boolean;
}

export function decodeBatchMessages(batch: Buffer, baseOffset: number, stream: string, trustMeta = true): DecodedMessage[] {
  const decoded = decodeRecordBatch(batch, { verifyCrc: false });
  const out: DecodedMessage[] = new Array(decoded.records.length);
  for (let i = 0; i < decoded.records.length; i++) {
    const rec = decoded.records[i]!;
    const { message, storedAt } = decodeRecord(rec, stream, trustMeta);
    out[i] = { offset: baseOffset + rec.offsetDelta, message, storedAt, isControl: decoded.isControl };
  }
  return out;
}

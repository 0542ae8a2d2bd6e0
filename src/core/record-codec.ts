/**
 * Message <-> Kafka RecordBatch v2 record, the stored form of every message.
 *
 * A message becomes one record: key = message key, value = body, timestamp, and as headers
 * first the message's headers (strings as UTF-8, Buffers as is, other typed values as their
 * text) so that Kafka consumers of a stream see them, then one `META_HEADER` holding
 * properties, typed headers, native properties, exchange, routing key and origin
 * (meta-codec.ts). A record without `META_HEADER` came from a Kafka producer: its headers
 * become Buffer-valued headers.
 */
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type KafkaRecord,
  type RecordHeader,
} from '../../storage/record-batch.js';
import type { Header, HeaderValue, Message } from './message.js';
import { MetaWriter, headersArePlain, readMeta, writeMeta } from './meta-codec.js';

export const META_HEADER = 'x-pb-meta';

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

/** Kafka headers for a message (its headers then the meta header). */
export function recordHeaders(m: Message, storedAt: number): RecordHeader[] {
  const plain = headersArePlain(m.headers);
  const out: RecordHeader[] = new Array(m.headers.length + 1);
  for (let i = 0; i < m.headers.length; i++) out[i] = [m.headers[i]!.name, valueText(m.headers[i]!.value)];
  // The meta view lives in the shared writer; encodeRecordBatch copies it before the next use.
  out[m.headers.length] = [META_HEADER, writeMeta(writer, m, plain, storedAt)];
  return out;
}

/** One RecordBatch v2 holding one message (the unit stored for queues); `storedAt` = core clock. */
export function encodeMessageBatch(m: Message, storedAt: number = m.timestamp): Buffer {
  return encodeRecordBatch({
    records: [{ key: m.key, value: m.body, headers: recordHeaders(m, storedAt), timestamp: m.timestamp }],
    baseTimestamp: m.timestamp,
  });
}

/**
 * Rebuilds a message from a decoded record. `stream` is used as routing key for records from
 * Kafka producers (no meta).
 */
export function recordToMessage(rec: KafkaRecord, stream: string): Message {
  return decodeRecord(rec, stream).message;
}

/** The message of a record and when the core stored it (the record timestamp for Kafka records). */
export function decodeRecord(rec: KafkaRecord, stream: string): { message: Message; storedAt: number } {
  const n = rec.headers.length;
  const last = n > 0 ? rec.headers[n - 1]! : null;
  if (last && last[0] === META_HEADER && last[1]) {
    const meta = readMeta(last[1]);
    let headers = meta.headers;
    if (!headers) {
      headers = new Array(n - 1);
      for (let i = 0; i < n - 1; i++) {
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
    return { message, storedAt: meta.storedAt };
  }
  const headers: Header[] = new Array(n);
  for (let i = 0; i < n; i++) headers[i] = { name: rec.headers[i]![0], value: rec.headers[i]![1] ? Buffer.from(rec.headers[i]![1]!) : null };
  const message: Message = {
    body: rec.value ?? EMPTY,
    key: rec.key,
    timestamp: rec.timestamp,
    properties: { persistent: true },
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

export function decodeBatchMessages(batch: Buffer, baseOffset: number, stream: string): DecodedMessage[] {
  const decoded = decodeRecordBatch(batch, { verifyCrc: false });
  const out: DecodedMessage[] = new Array(decoded.records.length);
  for (let i = 0; i < decoded.records.length; i++) {
    const rec = decoded.records[i]!;
    const { message, storedAt } = decodeRecord(rec, stream);
    out[i] = { offset: baseOffset + rec.offsetDelta, message, storedAt, isControl: decoded.isControl };
  }
  return out;
}

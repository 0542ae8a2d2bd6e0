/**
 * The Kafka record key for protocols without a key slot (docs/mapping.md "Kafka key"): header
 * `x-kafka-key`, named after what it holds (it is not broker-validated, unlike `x-pb-origin-*`,
 * and a publisher may set it). A Kafka-produced record's key reaches AMQP, MQTT and STOMP
 * consumers in it (text when valid UTF-8, else bytes); an AMQP, MQTT or STOMP publish that
 * sets it gives the records it becomes in streams that key (so also their partition).
 */
import { isUtf8 } from 'node:buffer';
import type { Header, HeaderValue } from './message.js';

export const KAFKA_KEY_HEADER = 'x-kafka-key';

/** The header value of a record key: UTF-8 text when it is valid UTF-8, else its bytes. */
export function keyHeaderValue(key: Buffer): HeaderValue {
  return isUtf8(key) ? key.toString('utf8') : Buffer.from(key);
}

/** The key a publisher gave in `x-kafka-key` (the first one: text as UTF-8, bytes as they are), or null. */
export function keyFromHeaders(headers: readonly Header[]): Buffer | null {
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.name !== KAFKA_KEY_HEADER) continue;
    if (typeof h.value === 'string') return Buffer.from(h.value, 'utf8');
    if (Buffer.isBuffer(h.value)) return h.value;
    return null;
  }
  return null;
}

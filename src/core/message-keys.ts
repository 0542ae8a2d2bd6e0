/**
 * Lookup keys of a message (docs/business.md "Message lookup"): its message id (AMQP
 * `message-id`, STOMP `message-id`), its correlation id (AMQP `correlation-id`, MQTT 5
 * correlation data as UTF-8), and its key (Kafka record key, UTF-8). One namespace: a lookup
 * by any of them finds the message.
 */
import type { Message } from './message.js';

const NONE: readonly string[] = [];

export function lookupKeysOf(m: Message): readonly string[] {
  const id = m.properties.messageId;
  const corr = m.properties.correlationId;
  const key = m.key;
  if (id === undefined && corr === undefined && key === null && m.routedFrom === undefined) return NONE;
  const out: string[] = [];
  if (m.routedFrom !== undefined) out.push(m.routedFrom);
  if (id !== undefined && id !== '') out.push(id);
  if (corr !== undefined) {
    const c = typeof corr === 'string' ? corr : corr.toString('utf8');
    if (c !== '' && !out.includes(c)) out.push(c);
  }
  if (key !== null && key.length > 0) {
    const k = key.toString('utf8');
    if (!out.includes(k)) out.push(k);
  }
  return out;
}

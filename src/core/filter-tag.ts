/**
 * Filter values (RabbitMQ streams' `x-stream-filter-value`) and their tag hash, the 32-bit
 * number kept in every index unit so a filtered read skips a batch without reading it.
 *
 * Reserved hashes: 0 = the batch has no filter value (every core-encoded message without
 * one); 1 = unknown (a Kafka batch stored as produced whose records have different values,
 * or that is compressed: it must be read to decide). A value's hash is murmur2 of its UTF-8 bytes, moved off
 * the reserved range. Hashes may collide: a hash match is always confirmed on the header.
 */
import { headerValue, type Message } from './message.js';
import { murmur2 } from './murmur2.js';

export const FILTER_VALUE_HEADER = 'x-stream-filter-value';
export const TAG_NONE = 0;
export const TAG_UNKNOWN = 1;

export function tagHash(value: string): number {
  const h = murmur2(Buffer.from(value, 'utf8')) >>> 0;
  return h < 2 ? h + 2 : h;
}

/** The message's filter value, or null when it has none. */
export function filterValueOf(m: Message): string | null {
  if (m.headers.length === 0) return null;
  const v = headerValue(m.headers, FILTER_VALUE_HEADER);
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return null;
}

/** Tag hash to store for `m`. */
export function messageTagHash(m: Message): number {
  const v = filterValueOf(m);
  return v === null ? TAG_NONE : tagHash(v);
}

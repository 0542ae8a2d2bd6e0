/**
 * The headers of the half-message protocol (docs/business.md "Half messages"), the same on
 * every protocol: AMQP headers, STOMP headers, MQTT 5 user properties.
 */
import { headerValue, type Header, type HeaderValue, type Message } from '../message.js';

/** `half` on the publish of a half message; `check` on a check request; op markers use others. */
export const TRANSACTION_HEADER = 'x-transaction';
export const TRANSACTION_ID_HEADER = 'x-transaction-id';
export const CHECK_TO_HEADER = 'x-transaction-check-to';
/** Number of this check request (1, 2, ...), on check requests and check markers. */
export const CHECK_COUNT_HEADER = 'x-transaction-check-count';
/** The half message's own TTL, kept aside while it waits (it counts from the commit). */
export const EXPIRATION_HEADER = 'x-transaction-expiration';
/** When the last check request was sent (ms), on check markers. */
export const CHECKED_AT_HEADER = 'x-transaction-checked-at';

/** Built-in exchange of commit/rollback requests (routing key `commit` or `rollback`). */
export const TRANSACTION_EXCHANGE = 'amq.transaction';
/** MQTT: a publish to `$transaction/commit` arrives as amq.topic with this prefix. */
export const MQTT_CONTROL_PREFIX = '$transaction.';

export function headerText(v: HeaderValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return null;
}

export function transactionHeader(m: Message): string | null {
  if (m.headers.length === 0) return null;
  return headerText(headerValue(m.headers, TRANSACTION_HEADER));
}

export function transactionId(m: Message): string | null {
  return headerText(headerValue(m.headers, TRANSACTION_ID_HEADER));
}

export function withoutHeaders(headers: readonly Header[], names: readonly string[]): Header[] {
  return headers.filter((h) => !names.includes(h.name));
}

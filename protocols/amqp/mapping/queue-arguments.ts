import type { Arguments } from '../../../src/core/index.js';
import { AmqpChannelError } from '../codec/errors.js';
import { plainValue, type FieldTable, type FieldValue } from '../codec/field-table.js';
import { ReplyCode } from '../spec/reply-codes.js';

/**
 * queue.declare arguments: checked the way RabbitMQ checks them (same reply text shapes, e.g.
 * "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"), then handed to
 * the core as plain values.
 */
const INTEGER_TYPES = new Set(['b', 'B', 's', 'u', 'I', 'i', 'l']);

type Check = (v: FieldValue) => string | null;

// RabbitMQ prints the reason of a non-integer as a quoted string, the others as Erlang tuples.
const int: Check = (v) => (!INTEGER_TYPES.has(v.type) ? `"expected integer, got ${wireName(v)}"` : null);
const nonNegInt: Check = (v) => int(v) ?? (Number(v.value) < 0 ? `{value_negative,${String(v.value)}}` : null);
/** RabbitMQ's check_expiry: TTLs and expiries are between 0 and ten years of milliseconds. */
const TEN_YEARS_MS = 315_360_000_000;
const expiry: Check = (v) => nonNegInt(v) ?? (Number(v.value) > TEN_YEARS_MS ? `{value_too_large,${String(v.value)}}` : null);
const queueExpiry: Check = (v) => int(v) ?? (Number(v.value) === 0 ? '{value_zero,0}' : expiry(v));
const str: Check = (v) => (v.type !== 'S' && v.type !== 'x' ? `{unacceptable_type,${wireName(v)}}` : null);
const bool: Check = (v) => (v.type !== 't' ? `{unacceptable_type,${wireName(v)}}` : null);
const oneOf = (allowed: string[]): Check => (v) => {
  if (v.type !== 'S') return `{unacceptable_type,${wireName(v)}}`;
  return allowed.includes(v.value) ? null : `{invalid_value,${v.value}}`;
};
const priority: Check = (v) => {
  const e = nonNegInt(v);
  if (e) return e;
  return Number(v.value) > 255 ? `{max_value_exceeded,${String(v.value)}}` : null;
};

const CHECKS: Record<string, Check> = {
  'x-message-ttl': expiry,
  'x-expires': queueExpiry,
  'x-max-length': nonNegInt,
  'x-max-length-bytes': nonNegInt,
  'x-overflow': oneOf(['drop-head', 'reject-publish', 'reject-publish-dlx']),
  'x-dead-letter-exchange': str,
  'x-dead-letter-routing-key': str,
  'x-max-priority': priority,
  'x-single-active-consumer': bool,
  'x-delivery-limit': nonNegInt,
  'x-queue-type': oneOf(['classic', 'quorum', 'stream']),
  'x-queue-mode': oneOf(['default', 'lazy']),
};

function wireName(v: FieldValue): string {
  const names: Record<string, string> = { t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint', i: 'unsignedint', l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', x: 'binary', A: 'array', T: 'timestamp', F: 'table', V: 'void' };
  return names[v.type] ?? v.type;
}

export function queueArguments(args: FieldTable, queue: string, vhost: string): Arguments {
  const out: Arguments = {};
  for (const [k, v] of args) {
    const check = CHECKS[k];
    const problem = check?.(v);
    if (problem) throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `invalid arg '${k}' for queue '${queue}' in vhost '${vhost}': ${problem}`, 50, 10);
    out[k] = plainValue(v);
  }
  if (out['x-dead-letter-routing-key'] !== undefined && out['x-dead-letter-exchange'] === undefined) {
    throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `invalid arg 'x-dead-letter-routing-key' for queue '${queue}' in vhost '${vhost}': {missing_dead_letter_exchange}`, 50, 10);
  }
  return out;
}

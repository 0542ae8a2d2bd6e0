import type { Header, HeaderValue } from '../../../src/core/index.js';
import type { FieldTable, FieldValue } from '../codec/field-table.js';

/**
 * AMQP field values ↔ the core's protocol-neutral header values.
 *
 *   t → boolean   b B s u I i → number   l → bigint (number when it fits 53 bits)
 *   f d → number  D → Decimal  S → string  x → Buffer  A → array  T → Date  F → table  V → null
 *
 * Back to AMQP an integer becomes I when it fits 32 bits, else l; a fraction d. RabbitMQ writes
 * x-death `count` as l, so that name keeps l.
 */
export function fieldTableToHeaders(t: FieldTable): Header[] {
  const out: Header[] = [];
  for (const [name, v] of t) out.push({ name, value: fieldToHeaderValue(v) });
  return out;
}

export function fieldToHeaderValue(v: FieldValue): HeaderValue {
  switch (v.type) {
    case 'l': return v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.value) : v.value;
    // Dates hold ±8.64e15 ms; a timestamp beyond that stays a 64-bit integer.
    case 'T': return v.value <= 8_640_000_000_000n ? new Date(Number(v.value) * 1000) : v.value;
    case 'D': return { kind: 'decimal', scale: v.value.scale, value: v.value.digits };
    case 'A': return v.value.map(fieldToHeaderValue);
    case 'F': return { kind: 'table', entries: fieldTableToHeaders(v.value) };
    default: return v.value;
  }
}

export function headersToFieldTable(headers: readonly Header[]): FieldTable {
  const t: FieldTable = new Map();
  for (const h of headers) t.set(h.name, headerToFieldValue(h.value, h.name));
  return t;
}

const LONG_NAMES = new Set(['count']);

export function headerToFieldValue(v: HeaderValue, name = ''): FieldValue {
  if (v === null) return { type: 'V', value: null };
  switch (typeof v) {
    case 'boolean': return { type: 't', value: v };
    case 'string': return { type: 'S', value: v };
    case 'bigint': return { type: 'l', value: v };
    case 'number':
      if (!Number.isInteger(v)) return { type: 'd', value: v };
      if (LONG_NAMES.has(name) || v < -0x8000_0000 || v > 0x7fff_ffff) return { type: 'l', value: BigInt(v) };
      return { type: 'I', value: v };
    default:
      if (Buffer.isBuffer(v)) return { type: 'x', value: v };
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? { type: 'V', value: null } : { type: 'T', value: BigInt(Math.floor(v.getTime() / 1000)) };
      if (Array.isArray(v)) return { type: 'A', value: v.map((e) => headerToFieldValue(e)) };
      if (v.kind === 'table') return { type: 'F', value: headersToFieldTable(v.entries) };
      return { type: 'D', value: { scale: v.scale, digits: v.value } };
  }
}

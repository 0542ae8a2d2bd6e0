import { ReplyCode } from '../spec/reply-codes.js';
import { AmqpConnectionError, AmqpDecodeError } from './errors.js';
import type { Reader } from './reader.js';
import { shortstrLength, type Writer } from './writer.js';

/**
 * Field tables with every type RabbitMQ reads and writes (its "0-9-1 errata" set, not the
 * spec's original list which clashes on 's'):
 *
 *   t boolean   b int8    B uint8    s int16   u uint16   I int32   i uint32   l int64
 *   f float32   d float64 D decimal (scale octet + uint32)   S longstr   x byte array
 *   A array     T timestamp (uint64 seconds)   F table    V void
 *
 * Values are tagged with their wire type so a decoded table encodes back to the same bytes.
 */
export type FieldValue =
  | { type: 't'; value: boolean }
  | { type: 'b' | 'B' | 's' | 'u' | 'I' | 'i' | 'f' | 'd'; value: number }
  | { type: 'l' | 'T'; value: bigint }
  | { type: 'D'; value: { scale: number; digits: number } }
  | { type: 'S'; value: string }
  | { type: 'x'; value: Buffer }
  | { type: 'A'; value: FieldValue[] }
  | { type: 'F'; value: FieldTable }
  | { type: 'V'; value: null };

export type FieldType = FieldValue['type'];
export type FieldTable = Map<string, FieldValue>;

export const FIELD_TYPES: readonly FieldType[] = ['t', 'b', 'B', 's', 'u', 'I', 'i', 'l', 'f', 'd', 'D', 'S', 'x', 'A', 'T', 'F', 'V'];

/** Bounds nesting so hostile input cannot exhaust the stack. */
const MAX_DEPTH = 100;

export function readTable(r: Reader, depth = 0): FieldTable {
  const len = r.long();
  r.need(len);
  const end = r.pos + len;
  const table: FieldTable = new Map();
  while (r.pos < end) {
    const key = r.shortstr();
    table.set(key, readFieldValue(r, depth));
  }
  if (r.pos !== end) throw new AmqpDecodeError('field table overruns its length');
  return table;
}

function readArray(r: Reader, depth: number): FieldValue[] {
  const len = r.long();
  r.need(len);
  const end = r.pos + len;
  const out: FieldValue[] = [];
  while (r.pos < end) out.push(readFieldValue(r, depth));
  if (r.pos !== end) throw new AmqpDecodeError('field array overruns its length');
  return out;
}

export function readFieldValue(r: Reader, depth = 0): FieldValue {
  const type = String.fromCharCode(r.octet());
  const b = r.buf;
  switch (type) {
    case 't': return { type, value: r.octet() !== 0 };
    case 'b': r.need(1); return { type, value: b.readInt8(r.pos++) };
    case 'B': return { type, value: r.octet() };
    case 's': r.need(2); r.pos += 2; return { type, value: b.readInt16BE(r.pos - 2) };
    case 'u': return { type, value: r.short() };
    case 'I': r.need(4); r.pos += 4; return { type, value: b.readInt32BE(r.pos - 4) };
    case 'i': return { type, value: r.long() };
    case 'l': r.need(8); r.pos += 8; return { type, value: b.readBigInt64BE(r.pos - 8) };
    case 'T': r.need(8); r.pos += 8; return { type, value: b.readBigUInt64BE(r.pos - 8) };
    case 'f': r.need(4); r.pos += 4; return { type, value: b.readFloatBE(r.pos - 4) };
    case 'd': r.need(8); r.pos += 8; return { type, value: b.readDoubleBE(r.pos - 8) };
    case 'D': { const scale = r.octet(); return { type, value: { scale, digits: r.long() } }; }
    case 'S': { const s = r.longstr(); return { type, value: s.toString('utf8') }; }
    case 'x': return { type, value: Buffer.from(r.longstr()) };
    case 'A': if (depth >= MAX_DEPTH) throw new AmqpDecodeError('field value nested too deeply'); return { type, value: readArray(r, depth + 1) };
    case 'F': if (depth >= MAX_DEPTH) throw new AmqpDecodeError('field table nested too deeply'); return { type, value: readTable(r, depth + 1) };
    case 'V': return { type, value: null };
    // An illegal value inside a well-formed frame: SYNTAX_ERROR (spec: "illegal values for one or more fields").
    default: throw new AmqpConnectionError(ReplyCode.SYNTAX_ERROR, `unknown field table value type '${type}' (0x${type.charCodeAt(0).toString(16)})`);
  }
}

/** Encoded size of a table including its 4-byte length. */
export function tableSize(t: FieldTable): number {
  let n = 4;
  for (const [k, v] of t) n += 1 + shortstrLength(k) + valueSize(v);
  return n;
}

/** Encoded size of a value including its type octet. */
export function valueSize(v: FieldValue): number {
  switch (v.type) {
    case 't': case 'b': case 'B': case 'V': return v.type === 'V' ? 1 : 2;
    case 's': case 'u': return 3;
    case 'I': case 'i': case 'f': return 5;
    case 'l': case 'T': case 'd': return 9;
    case 'D': return 6;
    case 'S': return 5 + Buffer.byteLength(v.value, 'utf8');
    case 'x': return 5 + v.value.length;
    case 'A': { let n = 5; for (const e of v.value) n += valueSize(e); return n; }
    case 'F': return 1 + tableSize(v.value);
  }
}

export function writeTable(w: Writer, t: FieldTable): void {
  const at = w.pos;
  w.pos += 4;
  for (const [k, v] of t) {
    w.shortstr(k, shortstrLength(k));
    writeFieldValue(w, v);
  }
  w.buf.writeUInt32BE(w.pos - at - 4, at);
}

export function writeFieldValue(w: Writer, v: FieldValue): void {
  const b = w.buf;
  w.octet(v.type.charCodeAt(0));
  switch (v.type) {
    case 't': w.octet(v.value ? 1 : 0); return;
    case 'b': b.writeInt8(v.value, w.pos); w.pos += 1; return;
    case 'B': w.octet(v.value); return;
    case 's': b.writeInt16BE(v.value, w.pos); w.pos += 2; return;
    case 'u': w.short(v.value); return;
    case 'I': b.writeInt32BE(v.value, w.pos); w.pos += 4; return;
    case 'i': w.long(v.value); return;
    case 'l': b.writeBigInt64BE(v.value, w.pos); w.pos += 8; return;
    case 'T': b.writeBigUInt64BE(v.value, w.pos); w.pos += 8; return;
    case 'f': b.writeFloatBE(v.value, w.pos); w.pos += 4; return;
    case 'd': b.writeDoubleBE(v.value, w.pos); w.pos += 8; return;
    case 'D': w.octet(v.value.scale); w.long(v.value.digits); return;
    case 'S': { const n = b.write(v.value, w.pos + 4, 'utf8'); w.long(n); w.pos += n; return; }
    case 'x': w.longstr(v.value); return;
    case 'A': {
      const at = w.pos;
      w.pos += 4;
      for (const e of v.value) writeFieldValue(w, e);
      b.writeUInt32BE(w.pos - at - 4, at);
      return;
    }
    case 'F': writeTable(w, v.value); return;
    case 'V': return;
  }
}

// ---- building and reading values in plain terms ----

/** Builds a table from plain JS values: strings → S, booleans → t, integers → I or l, other numbers → d. */
export function table(obj: Record<string, unknown>): FieldTable {
  const t: FieldTable = new Map();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) t.set(k, fieldValue(v));
  return t;
}

export function fieldValue(v: unknown): FieldValue {
  if (v === null) return { type: 'V', value: null };
  if (typeof v === 'object' && v !== null && 'type' in v && 'value' in v && typeof (v as { type: unknown }).type === 'string') return v as FieldValue;
  switch (typeof v) {
    case 'string': return { type: 'S', value: v };
    case 'boolean': return { type: 't', value: v };
    case 'bigint': return { type: 'l', value: v };
    case 'number':
      if (Number.isInteger(v)) return v >= -0x8000_0000 && v <= 0x7fff_ffff ? { type: 'I', value: v } : { type: 'l', value: BigInt(v) };
      return { type: 'd', value: v };
    default:
      if (Buffer.isBuffer(v)) return { type: 'x', value: v };
      if (v instanceof Date) return { type: 'T', value: BigInt(Math.floor(v.getTime() / 1000)) };
      if (Array.isArray(v)) return { type: 'A', value: v.map(fieldValue) };
      if (v instanceof Map) return { type: 'F', value: v as FieldTable };
      return { type: 'F', value: table(v as Record<string, unknown>) };
  }
}

/** A value as a plain JS value (numbers for every numeric type that fits, bigint otherwise). */
export function plainValue(v: FieldValue): unknown {
  switch (v.type) {
    case 'l': case 'T': return v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.value) : v.value;
    case 'D': return v.value.digits / 10 ** v.value.scale;
    case 'A': return v.value.map(plainValue);
    case 'F': return plainTable(v.value);
    default: return v.value;
  }
}

export function plainTable(t: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of t) out[k] = plainValue(v);
  return out;
}

/** An integer argument of any numeric wire type, or undefined when absent or not numeric. */
export function tableInt(t: FieldTable | undefined, key: string): number | undefined {
  const v = t?.get(key);
  if (!v) return undefined;
  switch (v.type) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'f': case 'd': return v.value;
    case 'l': case 'T': return Number(v.value);
    case 'D': return v.value.digits / 10 ** v.value.scale;
    default: return undefined;
  }
}

export function tableString(t: FieldTable | undefined, key: string): string | undefined {
  const v = t?.get(key);
  if (!v) return undefined;
  if (v.type === 'S') return v.value;
  if (v.type === 'x') return v.value.toString('utf8');
  return undefined;
}

import fc from 'fast-check';
import { FIELD_TYPES, type FieldTable, type FieldType, type FieldValue } from '../../../../protocols/amqp/codec/field-table.js';
import type { BasicProperties } from '../../../../protocols/amqp/codec/content-header.js';
import type { AmqpType, ArgSpec, MethodSpec } from '../../../../protocols/amqp/spec/methods.js';
import { BASIC_PROPERTIES } from '../../../../protocols/amqp/spec/methods.js';

/** Arbitraries generated from the same tables the codec uses. */
export const shortstr = fc.string({ maxLength: 40, unit: 'grapheme' }).filter((s) => Buffer.byteLength(s) <= 255);
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

export function fieldValueArb(depth = 2): fc.Arbitrary<FieldValue> {
  const scalar: Record<Exclude<FieldType, 'A' | 'F'>, fc.Arbitrary<FieldValue>> = {
    t: fc.boolean().map((value) => ({ type: 't', value })),
    b: fc.integer({ min: -128, max: 127 }).map((value) => ({ type: 'b', value })),
    B: fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'B', value })),
    s: fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: 's', value })),
    u: fc.integer({ min: 0, max: 65535 }).map((value) => ({ type: 'u', value })),
    I: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ type: 'I', value })),
    i: fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((value) => ({ type: 'i', value })),
    l: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((value) => ({ type: 'l', value })),
    T: uint64.map((value) => ({ type: 'T', value })),
    f: fc.float().map((value) => ({ type: 'f', value })),
    d: fc.double().map((value) => ({ type: 'd', value })),
    D: fc.record({ scale: fc.integer({ min: 0, max: 255 }), digits: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }).map((value) => ({ type: 'D', value })),
    S: fc.string({ maxLength: 50 }).map((value) => ({ type: 'S', value })),
    x: fc.uint8Array({ maxLength: 50 }).map((a) => ({ type: 'x', value: Buffer.from(a) })),
    V: fc.constant({ type: 'V', value: null }),
  };
  const options: fc.Arbitrary<FieldValue>[] = Object.values(scalar);
  if (depth > 0) {
    options.push(fc.array(fieldValueArb(depth - 1), { maxLength: 4 }).map((value) => ({ type: 'A', value })));
    options.push(fieldTableArb(depth - 1).map((value) => ({ type: 'F', value })));
  }
  return fc.oneof(...options);
}

export function fieldTableArb(depth = 2): fc.Arbitrary<FieldTable> {
  return fc.uniqueArray(fc.tuple(shortstr, fieldValueArb(depth)), { maxLength: 6, selector: ([k]) => k }).map((entries) => new Map(entries));
}

export const ALL_FIELD_TYPES = FIELD_TYPES;

function argArb(type: AmqpType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bit': return fc.boolean();
    case 'octet': return fc.integer({ min: 0, max: 255 });
    case 'short': return fc.integer({ min: 0, max: 65535 });
    case 'long': return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'longlong': case 'timestamp': return fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    case 'shortstr': return shortstr;
    case 'longstr': return fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a));
    case 'table': return fieldTableArb(1);
  }
}

export function methodArgsArb(m: MethodSpec): fc.Arbitrary<Record<string, unknown>> {
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const a of m.args as ArgSpec[]) rec[a.name] = argArb(a.type);
  return fc.record(rec);
}

export const basicPropertiesArb: fc.Arbitrary<BasicProperties> = (() => {
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of BASIC_PROPERTIES) rec[p.name] = argArb(p.type);
  return fc.record(rec, { requiredKeys: [] }) as fc.Arbitrary<BasicProperties>;
})();

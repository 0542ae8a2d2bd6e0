import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFieldValue, readTable, tableSize, valueSize, writeFieldValue, writeTable, type FieldTable } from '../../../../protocols/amqp/codec/field-table.js';
import { AmqpConnectionError, AmqpDecodeError } from '../../../../protocols/amqp/codec/errors.js';
import { Reader } from '../../../../protocols/amqp/codec/reader.js';
import { Writer } from '../../../../protocols/amqp/codec/writer.js';
import { ALL_FIELD_TYPES, fieldTableArb, fieldValueArb } from './arbitraries.js';

function encodeTable(t: FieldTable): Buffer {
  const w = new Writer(16);
  w.ensure(tableSize(t));
  writeTable(w, t);
  return w.take();
}

describe('field tables (RabbitMQ field types t b B s u I i l f d D S x A T F V)', () => {
  it('round-trips random tables exactly, with the precomputed size', () => {
    fc.assert(
      fc.property(fieldTableArb(3), (t) => {
        const bytes = encodeTable(t);
        expect(bytes.length).toBe(tableSize(t));
        const r = new Reader(bytes);
        const back = readTable(r);
        expect(r.pos).toBe(bytes.length);
        expect(back).toEqual(t);
        expect(encodeTable(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it.each(ALL_FIELD_TYPES.map((t) => [t]))('round-trips every value of type %s', (type) => {
    fc.assert(
      fc.property(fieldValueArb(1).filter((v) => v.type === type), (v) => {
        const w = new Writer(16);
        w.ensure(valueSize(v));
        writeFieldValue(w, v);
        const bytes = w.take();
        expect(bytes.length).toBe(valueSize(v));
        expect(readFieldValue(new Reader(bytes))).toEqual(v);
      }),
      { numRuns: 50 },
    );
  });

  it('decodes known bytes: x-message-ttl as I and a nested table', () => {
    // 4-byte length, "x-message-ttl" 'I' 60000, "h" 'F' {"a" 't' 1}
    const bytes = Buffer.from('0000001e0d782d6d6573736167652d74746c490000ea600168460000000401617401', 'hex');
    const t = readTable(new Reader(bytes));
    expect(t.get('x-message-ttl')).toEqual({ type: 'I', value: 60000 });
    expect(t.get('h')).toEqual({ type: 'F', value: new Map([['a', { type: 't', value: true }]]) });
  });

  it('rejects an unknown type octet (SYNTAX_ERROR) and a length past the end (FRAME_ERROR) as typed errors', () => {
    expect(() => readTable(new Reader(Buffer.from('0000000301615a', 'hex')))).toThrow(AmqpConnectionError);
    try { readTable(new Reader(Buffer.from('0000000301615a', 'hex'))); } catch (e) { expect((e as AmqpConnectionError).replyCode).toBe(502); }
    expect(() => readTable(new Reader(Buffer.from('7fffffff', 'hex')))).toThrow(AmqpDecodeError);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMessage } from '../../../../src/core/index.js';
import { decodeProperties } from '../../../../protocols/amqp/codec/content-header.js';
import type { FieldValue } from '../../../../protocols/amqp/codec/field-table.js';
import { fieldTableToHeaders, headersToFieldTable } from '../../../../protocols/amqp/mapping/headers.js';
import { basicPropertiesOf, deliveryPropertyBytes, encodePropertyBytes, parseExpiration, toCoreMessage } from '../../../../protocols/amqp/mapping/message.js';
import { fieldTableArb } from '../codec/arbitraries.js';

/** Field types that survive AMQP → core header values → AMQP unchanged. */
const LOSSLESS = new Set(['t', 'I', 'd', 'S', 'x', 'V', 'T', 'D', 'A', 'F']);
function lossless(v: FieldValue): boolean {
  if (!LOSSLESS.has(v.type)) return false;
  if (v.type === 'A') return v.value.every(lossless);
  if (v.type === 'F') return [...v.value.values()].every(lossless);
  if (v.type === 'd') return !Number.isInteger(v.value);
  if (v.type === 'T') return v.value <= 8_640_000_000_000n;
  return true;
}

describe('AMQP ↔ core message mapping', () => {
  it('keeps the publisher property bytes as the native blob (byte-exact AMQP → AMQP)', () => {
    const props = { contentType: 'application/json', deliveryMode: 2, headers: new Map([['k', { type: 'S', value: 'v' } as FieldValue]]), timestamp: 1700000000, clusterId: 'c' };
    const bytes = encodePropertyBytes(props);
    const m = toCoreMessage(decodeProperties(bytes), bytes, Buffer.from('b'), 1);
    expect(m.native).toEqual({ protocol: 'amqp', bytes });
    expect(deliveryPropertyBytes(m)).toBe(bytes);
    expect(m.properties).toMatchObject({ contentType: 'application/json', persistent: true });
    expect(m.headers).toEqual([{ name: 'k', value: 'v' }]);
  });

  it('maps the common properties both ways for messages from other protocols', () => {
    const m = createMessage(Buffer.from('x'), {
      properties: { contentType: 'text/plain', contentEncoding: 'gzip', correlationId: Buffer.from('corr'), replyTo: 'r', messageId: 'id', expiration: 5000, priority: 4, persistent: true, type: 't', userId: 'u', appId: 'a' },
      headers: [{ name: 'h', value: 1 }, { name: 'n', value: 2n ** 40n }, { name: 'when', value: new Date(1_700_000_000_000) }],
    });
    const p = decodeProperties(deliveryPropertyBytes(m));
    expect(p).toMatchObject({ contentType: 'text/plain', contentEncoding: 'gzip', correlationId: 'corr', replyTo: 'r', messageId: 'id', expiration: '5000', priority: 4, deliveryMode: 2, type: 't', userId: 'u', appId: 'a' });
    expect(p.headers!.get('h')).toEqual({ type: 'I', value: 1 });
    expect(p.headers!.get('n')).toEqual({ type: 'l', value: 2n ** 40n });
    expect(p.headers!.get('when')).toEqual({ type: 'T', value: 1_700_000_000n });
    expect(basicPropertiesOf(createMessage(Buffer.alloc(0))).deliveryMode).toBeUndefined();
  });

  it('round-trips header tables whose types map one to one', () => {
    fc.assert(
      fc.property(fieldTableArb(2).filter((t) => [...t.values()].every(lossless) && !JSON.stringify([...t.keys()]).includes('count')), (t) => {
        expect(headersToFieldTable(fieldTableToHeaders(t))).toEqual(t);
      }),
      { numRuns: 300 },
    );
  });

  it('rebuilds the headers of a dead-lettered message from the core (x-death) and keeps the rest', () => {
    const bytes = encodePropertyBytes({ contentType: 'text/plain', expiration: '50', timestamp: 1_700_000_000, headers: new Map([['keep', { type: 'S', value: 'me' } as FieldValue]]) });
    const m = toCoreMessage(decodeProperties(bytes), bytes, Buffer.from('b'), 1);
    delete m.properties.expiration;
    m.headers.push({ name: 'x-death', value: [{ kind: 'table', entries: [{ name: 'count', value: 1 }, { name: 'reason', value: 'rejected' }] }] });
    const p = decodeProperties(deliveryPropertyBytes(m));
    expect(p.contentType).toBe('text/plain');
    expect(p.timestamp).toBe(1_700_000_000);
    expect(p.expiration).toBeUndefined();
    expect(p.headers!.get('keep')).toEqual({ type: 'S', value: 'me' });
    const death = p.headers!.get('x-death')!;
    expect(death.type).toBe('A');
    expect((death as { value: FieldValue[] }).value[0]).toEqual({ type: 'F', value: new Map<string, FieldValue>([['count', { type: 'l', value: 1n }], ['reason', { type: 'S', value: 'rejected' }]]) });
  });

  it('accepts only non-negative integer expirations, with RabbitMQ texts', () => {
    expect(parseExpiration('0')).toBe(0);
    expect(parseExpiration('60000')).toBe(60000);
    expect(() => parseExpiration('soon')).toThrow("invalid expiration 'soon': no_integer");
    expect(() => parseExpiration('-1')).toThrow("invalid expiration '-1': {value_negative,-1}");
  });
});

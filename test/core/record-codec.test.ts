import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMessage, type Header, type HeaderValue, type Message } from '../../src/core/index.js';
import { decodeBatchMessages, encodeMessageBatch, META_HEADER } from '../../src/core/record-codec.js';
import { decodeRecordBatch } from '../../storage/record-batch.js';

const leaf: fc.Arbitrary<HeaderValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.string(),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 0, max: 4e12 }).map((t) => new Date(t)),
  fc.record({ kind: fc.constant('decimal' as const), scale: fc.integer({ min: 0, max: 9 }), value: fc.integer() }),
);
const value: fc.Arbitrary<HeaderValue> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v') as fc.Arbitrary<HeaderValue>, { maxLength: 3 }), fc.array(fc.record({ name: fc.string(), value: tie('v') as fc.Arbitrary<HeaderValue> }), { maxLength: 3 }).map((entries) => ({ kind: 'table' as const, entries }))),
})).v;
const header: fc.Arbitrary<Header> = fc.record({ name: fc.string(), value });

const message: fc.Arbitrary<Message> = fc.record({
  body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  key: fc.option(fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)), { nil: null }),
  timestamp: fc.integer({ min: 0, max: 4e12 }),
  properties: fc.record(
    {
      contentType: fc.string(),
      contentEncoding: fc.string(),
      correlationId: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b))),
      replyTo: fc.string(),
      messageId: fc.string(),
      expiration: fc.integer({ min: 0, max: 1e9 }),
      priority: fc.integer({ min: 0, max: 255 }),
      persistent: fc.boolean(),
      type: fc.string(),
      userId: fc.string(),
      appId: fc.string(),
    },
    { requiredKeys: [] },
  ),
  headers: fc.array(header, { maxLength: 5 }),
  native: fc.option(fc.record({ protocol: fc.constantFrom('amqp' as const, 'mqtt' as const, 'stomp' as const, 'kafka' as const), bytes: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)) }), { nil: null }),
  exchange: fc.string(),
  routingKey: fc.string(),
  origin: fc.option(fc.record({ protocol: fc.constantFrom('amqp' as const, 'mqtt' as const, 'core' as const), clientId: fc.string(), user: fc.string(), connectionId: fc.string() }), { nil: null }),
});

describe('Message <-> RecordBatch v2 record', () => {
  it('round-trips every field, including typed headers, in any order and with repeats', () => {
    fc.assert(
      fc.property(message, (m) => {
        const batch = encodeMessageBatch(m);
        const [d] = decodeBatchMessages(batch, 7, 'q');
        expect(d!.offset).toBe(7);
        expect(d!.message).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('shows string and byte headers to Kafka consumers as record headers, then the meta header', () => {
    const m = createMessage(Buffer.from('v'), { headers: [{ name: 'a', value: 'x' }, { name: 'a', value: Buffer.from([1]) }, { name: 'n', value: 5 }] });
    const rec = decodeRecordBatch(encodeMessageBatch(m)).records[0]!;
    expect(rec.headers.map(([k]) => k)).toEqual(['a', 'a', 'n', META_HEADER]);
    expect(rec.headers[0]![1]!.toString()).toBe('x');
    expect(rec.headers[2]![1]!.toString()).toBe('5');
  });
});

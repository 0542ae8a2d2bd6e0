import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMessage, type Header, type HeaderValue, type Message } from '../../src/core/index.js';
import { decodeBatchMessages, encodeMessageBatch, META_HEADER, recordToMessage, withoutOriginHeaders } from '../../src/core/record-codec.js';
import { Compression } from '../../storage/compression.js';
import { decodeRecordBatch, encodeRecordBatch, verifyRecordBatchCrc } from '../../storage/record-batch.js';

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
      sentAt: fc.integer({ min: 0, max: 4e12 }).map((t) => Math.floor(t / 1000) * 1000),
      clusterId: fc.string(),
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

describe('Kafka record headers for properties and publisher identity (docs/mapping.md)', () => {
  const origin = { protocol: 'mqtt' as const, clientId: 'device-7', user: 'guest', connectionId: 'c1' };

  it('a message stored into a stream carries its properties and origin as plain headers, and decodes as before', () => {
    const m = createMessage(Buffer.from('r'), {
      properties: { contentType: 'application/json', correlationId: Buffer.from([0xff, 0x01]), replyTo: 'back', messageId: 'm1', type: 't', appId: 'a', expiration: 60000, priority: 4, persistent: true },
      headers: [{ name: 'x-h', value: 'v' }],
      origin,
    });
    const batch = encodeMessageBatch(m, m.timestamp, true);
    const rec = decodeRecordBatch(batch).records[0]!;
    const h = Object.fromEntries(rec.headers.map(([k, v]) => [k, v?.toString('latin1')]));
    expect(h).toMatchObject({
      'x-h': 'v',
      'content-type': 'application/json',
      'correlation-id': '\xff\x01',
      'reply-to': 'back',
      'message-id': 'm1',
      type: 't',
      'app-id': 'a',
      expiration: '60000',
      priority: '4',
      'x-pb-origin-protocol': 'mqtt',
      'x-pb-origin-client-id': 'device-7',
      'x-pb-origin-user': 'guest',
    });
    const back = recordToMessage(rec, 's');
    expect(back.headers).toEqual([{ name: 'x-h', value: 'v' }]);
    expect(back.properties).toEqual(m.properties);
    expect(back.origin).toEqual(origin);
    // Queue-only storage spends no bytes on them.
    const queued = decodeRecordBatch(encodeMessageBatch(m)).records[0]!;
    expect(queued.headers.map(([k]) => k)).toEqual(['x-h', 'x-pb-meta']);
  });

  it("a Kafka producer's property headers become properties; its identity and meta headers are not believed", () => {
    const forgedMeta = decodeRecordBatch(encodeMessageBatch(createMessage(Buffer.from('x'), { origin: { ...origin, clientId: 'admin' } }))).records[0]!.headers.at(-1)!;
    const batch = encodeRecordBatch({
      records: [
        {
          value: Buffer.from('v'),
          headers: [
            ['content-type', Buffer.from('text/plain')],
            ['correlation-id', Buffer.from([1, 2, 3])],
            ['expiration', Buffer.from('5000')],
            ['priority', Buffer.from('high')],
            ['x-pb-origin-user', Buffer.from('mallory')],
            ['user', Buffer.from('u')],
            forgedMeta,
          ],
        },
      ],
    });
    const [d] = decodeBatchMessages(batch, 0, 'orders', false);
    expect(d!.message.properties).toEqual({ persistent: true, contentType: 'text/plain', correlationId: Buffer.from([1, 2, 3]), expiration: 5000 });
    // 'high' is no priority: it stays a user header.
    expect(d!.message.headers).toEqual([
      { name: 'priority', value: Buffer.from('high') },
      { name: 'user', value: Buffer.from('u') },
    ]);
    expect(d!.message.origin).toBeNull();
  });

  describe("a Kafka producer's x-pb-origin-* headers are not stored (withoutOriginHeaders)", () => {
    const records = [
      { key: Buffer.from('k'), value: Buffer.from('a'), timestamp: 1_700_000_000_000, headers: [['x-h1', Buffer.from('v1')], ['x-pb-origin-user', Buffer.from('mallory')], ['x-pb-origin-protocol', null]] as [string, Buffer | null][] },
      { key: null, value: Buffer.from('x-pb-origin-user in a value'), timestamp: 1_700_000_000_500, offsetDelta: 1, headers: [['x-h2', Buffer.from('two')]] as [string, Buffer | null][] },
    ];
    const batch = encodeRecordBatch({ records, isTransactional: true, producerId: 42, producerEpoch: 3, baseSequence: 17, partitionLeaderEpoch: 5 });

    it('removes them and keeps everything else of the batch (producer id, sequence, timestamps, offsets, other headers)', () => {
      const clean = withoutOriginHeaders(batch);
      expect(verifyRecordBatchCrc(clean)).toBe(true);
      const before = decodeRecordBatch(batch);
      const after = decodeRecordBatch(clean);
      const { records: r0, crc: _c0, sizeBytes: _s0, ...head0 } = before;
      const { records: r1, crc: _c1, sizeBytes: _s1, ...head1 } = after;
      expect(head1).toEqual(head0);
      expect(r1.map((r) => r.headers)).toEqual([[['x-h1', Buffer.from('v1')]], [['x-h2', Buffer.from('two')]]]);
      expect(r1.map(({ headers: _h, ...r }) => r)).toEqual(r0.map(({ headers: _h, ...r }) => r));
    });

    it('returns the same buffer when no header has the prefix (a value that has it does not count)', () => {
      const plain = encodeRecordBatch({ records: [records[1]!] });
      expect(withoutOriginHeaders(plain)).toBe(plain);
    });

    it('leaves compressed batches as they are (their records are not read on produce)', () => {
      const gz = encodeRecordBatch({ records, compression: Compression.Gzip });
      expect(withoutOriginHeaders(gz)).toBe(gz);
    });
  });
});

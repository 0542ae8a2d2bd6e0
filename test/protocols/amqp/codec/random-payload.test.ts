import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProperties } from '../../../../protocols/amqp/codec/content-header.js';
import { AmqpConnectionError } from '../../../../protocols/amqp/codec/errors.js';
import { decodeMethod } from '../../../../protocols/amqp/codec/method-codec.js';
import { METHODS } from '../../../../protocols/amqp/spec/methods.js';

describe('decoding hostile payloads', () => {
  it('random method payloads decode or fail with a typed AMQP connection error', () => {
    const ids = METHODS.map((m) => m.id);
    fc.assert(
      fc.property(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 120 }), (id, rest) => {
        const payload = Buffer.concat([Buffer.from([id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), Buffer.from(rest)]);
        try { decodeMethod(payload); } catch (e) { expect(e).toBeInstanceOf(AmqpConnectionError); }
      }),
      { numRuns: 5000 },
    );
  });

  it('random property blobs decode or fail with a typed AMQP connection error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        try { decodeProperties(Buffer.from(bytes)); } catch (e) { expect(e).toBeInstanceOf(AmqpConnectionError); }
      }),
      { numRuns: 5000 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePublishArgs, writeConfirmFrame, writeDeliverFrame } from '../../../../protocols/amqp/codec/hot-frames.js';
import { decodeMethod, writeMethodFrame } from '../../../../protocols/amqp/codec/method-codec.js';
import { readFrame } from '../../../../protocols/amqp/codec/frame-parser.js';
import { Writer } from '../../../../protocols/amqp/codec/writer.js';
import { shortstr } from './arbitraries.js';

describe('hot-path frame encoders equal the table codec', () => {
  it('basic.deliver', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), shortstr, fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.boolean(), shortstr, shortstr, (ch, ct, tag, red, ex, rk) => {
        const a = new Writer(16);
        const b = new Writer(16);
        writeDeliverFrame(a, ch, ct, tag, red, ex, rk);
        writeMethodFrame(b, ch, 'basic.deliver', { consumerTag: ct, deliveryTag: tag, redelivered: red, exchange: ex, routingKey: rk });
        expect(a.take().equals(b.take())).toBe(true);
      }),
    );
  });

  it('basic.ack and basic.nack confirms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.boolean(), (ch, tag, multiple) => {
        const a = new Writer(16);
        const b = new Writer(16);
        writeConfirmFrame(a, ch, tag, multiple, false);
        writeMethodFrame(b, ch, 'basic.ack', { deliveryTag: tag, multiple });
        writeConfirmFrame(a, ch, tag, multiple, true);
        writeMethodFrame(b, ch, 'basic.nack', { deliveryTag: tag, multiple, requeue: false });
        expect(a.take().equals(b.take())).toBe(true);
      }),
    );
  });

  it('basic.publish decoding equals the table codec', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), shortstr, shortstr, fc.boolean(), fc.boolean(), (ticket, exchange, routingKey, mandatory, immediate) => {
        const w = new Writer(16);
        writeMethodFrame(w, 1, 'basic.publish', { ticket, exchange, routingKey, mandatory, immediate });
        const payload = readFrame(w.take(), 0, 0)!.payload;
        expect(decodePublishArgs(payload)).toEqual(decodeMethod(payload).args);
      }),
    );
  });
});

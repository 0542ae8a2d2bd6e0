import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeBodyFrames, writeHeaderFrame } from '../../../../protocols/amqp/codec/content-header.js';
import { AmqpConnectionError } from '../../../../protocols/amqp/codec/errors.js';
import { FrameParser, PROTOCOL_HEADER, readFrame } from '../../../../protocols/amqp/codec/frame-parser.js';
import { writeMethodFrame } from '../../../../protocols/amqp/codec/method-codec.js';
import { Writer } from '../../../../protocols/amqp/codec/writer.js';

interface Seen { type: number; channel: number; payload: string }

function sampleStream(): Buffer {
  const w = new Writer(256);
  w.ensure(8);
  w.bytes(PROTOCOL_HEADER);
  writeMethodFrame(w, 0, 'connection.start-ok', { clientProperties: new Map([['product', { type: 'S', value: 'test' }]]), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' });
  writeMethodFrame(w, 1, 'basic.publish', { exchange: 'amq.direct', routingKey: 'rk', mandatory: true });
  writeHeaderFrame(w, 1, 60, 300, Buffer.from([0x10, 0x00, 2]));
  writeBodyFrames(w, 1, Buffer.alloc(300, 7), 128);
  w.ensure(8);
  w.bytes(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
  return w.take();
}

function parseAll(chunks: Buffer[], frameMax = 0): { header?: Buffer; frames: Seen[] } {
  const frames: Seen[] = [];
  let header: Buffer | undefined;
  const p = new FrameParser((type, channel, payload) => frames.push({ type, channel, payload: payload.toString('hex') }), (h) => (header = Buffer.from(h)), frameMax);
  for (const c of chunks) p.push(c);
  return { header, frames };
}

describe('FrameParser', () => {
  const stream = sampleStream();
  const whole = parseAll([stream]);

  it('parses the protocol header and every frame of a whole stream', () => {
    expect(whole.header!.equals(PROTOCOL_HEADER)).toBe(true);
    expect(whole.frames.map((f) => f.type)).toEqual([1, 1, 2, 3, 3, 3, 8]);
  });

  it('gives the same frames when the stream is split at every byte boundary', () => {
    for (let i = 1; i < stream.length; i++) {
      expect(parseAll([stream.subarray(0, i), stream.subarray(i)])).toEqual(whole);
    }
  });

  it('gives the same frames for random multi-way splits', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const c of sorted) { chunks.push(stream.subarray(prev, c)); prev = c; }
        chunks.push(stream.subarray(prev));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });

  it('rejects a frame larger than frame-max from its size field, before buffering it [FRAME_ERROR 501]', () => {
    const head = Buffer.from([1, 0, 1, 0, 0x10, 0, 0]); // declares 1 MiB, only 7 bytes present
    expect(() => readFrame(head, 0, 131072)).toThrow(/larger than negotiated maximum/);
    try { readFrame(head, 0, 131072); } catch (e) { expect((e as AmqpConnectionError).replyCode).toBe(501); }
  });

  it('rejects a missing frame-end octet and an unknown frame type [FRAME_ERROR 501]', () => {
    expect(() => readFrame(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0x00]), 0, 0)).toThrow(/frame end/);
    expect(() => readFrame(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0xce]), 0, 0)).toThrow(/unknown frame type/);
  });

  it('answers need-more (null) for every truncation of a valid frame', () => {
    const frame = stream.subarray(8);
    const first = readFrame(frame, 0, 0)!;
    for (let i = 0; i < first.next; i++) expect(readFrame(frame.subarray(0, i), 0, 0)).toBeNull();
  });

  it('turns random bytes into frames, need-more or a typed AMQP error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 4096, 131072), (bytes, frameMax) => {
        const buf = Buffer.from(bytes);
        let off = 0;
        try {
          for (;;) {
            const f = readFrame(buf, off, frameMax);
            if (!f) break;
            off = f.next;
          }
        } catch (e) {
          expect(e).toBeInstanceOf(AmqpConnectionError);
          expect((e as AmqpConnectionError).replyCode).toBe(501);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

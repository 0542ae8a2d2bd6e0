import fc from 'fast-check';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeContentHeader, decodeProperties, propertiesSize, writeHeaderFrame, writeProperties } from '../../../../protocols/amqp/codec/content-header.js';
import { decodeMethod, methodSize, UnknownMethodError, writeMethodFramePlan, methodById } from '../../../../protocols/amqp/codec/method-codec.js';
import { readFrame } from '../../../../protocols/amqp/codec/frame-parser.js';
import { Writer } from '../../../../protocols/amqp/codec/writer.js';
import { METHODS } from '../../../../protocols/amqp/spec/methods.js';
import { basicPropertiesArb, methodArgsArb } from './arbitraries.js';

// amqplib's generated codec serves as an independent oracle (a test dependency only).
const require = createRequire(import.meta.url);
// defs.js is not in amqplib's "exports", so it is loaded by path.
const amqplibDefs = require(join(process.cwd(), 'node_modules/amqplib/lib/defs.js')) as {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
};

function encode(channel: number, id: number, args: Record<string, unknown>): Buffer {
  const w = new Writer(64);
  writeMethodFramePlan(w, channel, methodById(id)!, args);
  return w.take();
}

describe('method table', () => {
  it('holds every 0-9-1 method with RabbitMQ extensions (66 methods)', () => {
    expect(METHODS.length).toBe(66);
    const names = METHODS.map((m) => m.name);
    for (const n of ['connection.update-secret', 'connection.blocked', 'basic.nack', 'confirm.select', 'exchange.bind', 'exchange.unbind-ok']) expect(names).toContain(n);
    expect(METHODS.find((m) => m.name === 'basic.get')!.replies).toEqual(['basic.get-ok', 'basic.get-empty']);
  });
});

describe.each(METHODS.map((m) => [m.name, m] as const))('%s', (_name, m) => {
  it('round-trips random arguments through encode and decode, with the precomputed size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), methodArgsArb(m), (channel, args) => {
        const frame = encode(channel, m.id, args);
        const f = readFrame(frame, 0, 0)!;
        expect(f.channel).toBe(channel);
        expect(f.payload.length).toBe(methodSize(methodById(m.id)!, args));
        const d = decodeMethod(f.payload);
        expect(d.method.name).toBe(m.name);
        expect(d.args).toEqual(args);
      }),
      { numRuns: 40 },
    );
  });

  it('encodes the same bytes as amqplib (independent codec) for table-free arguments', () => {
    fc.assert(
      fc.property(methodArgsArb(m), (args) => {
        for (const a of m.args) if (a.type === 'table') args[a.name] = new Map();
        const plain = { ...args };
        for (const a of m.args) if (a.type === 'table') plain[a.name] = {};
        const ours = encode(1, m.id, args);
        const theirs = amqplibDefs.encodeMethod(m.id, 1, plain);
        expect(ours.equals(theirs)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });
});

describe('content header', () => {
  it('round-trips every property set', () => {
    fc.assert(
      fc.property(basicPropertiesArb, fc.integer({ min: 0, max: 2 ** 40 }), (props, bodySize) => {
        const w = new Writer(64);
        w.ensure(propertiesSize(props));
        writeProperties(w, props);
        const bytes = w.take();
        expect(bytes.length).toBe(propertiesSize(props));
        writeHeaderFrame(w, 3, 60, bodySize, bytes);
        const f = readFrame(w.take(), 0, 0)!;
        const h = decodeContentHeader(f.payload);
        expect(h.bodySize).toBe(bodySize);
        expect(h.classId).toBe(60);
        const back = decodeProperties(h.propertyBytes);
        for (const [k, v] of Object.entries(props)) if (v === undefined) delete (props as Record<string, unknown>)[k];
        expect(back).toEqual(props);
      }),
      { numRuns: 500 },
    );
  });

  it('matches amqplib for header-free property sets', () => {
    fc.assert(
      fc.property(basicPropertiesArb, fc.integer({ min: 0, max: 2 ** 31 }), (props, size) => {
        delete props.headers;
        for (const [k, v] of Object.entries(props)) if (v === undefined) delete (props as Record<string, unknown>)[k];
        const w = new Writer(64);
        w.ensure(propertiesSize(props));
        writeProperties(w, props);
        const bytes = w.take();
        writeHeaderFrame(w, 1, 60, size, bytes);
        const theirs = amqplibDefs.encodeProperties(60, 1, size, { ...props });
        expect(w.take().equals(theirs)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('method decoding errors', () => {
  it('names an unknown class/method as COMMAND_INVALID', () => {
    const payload = Buffer.from([0, 99, 0, 1]);
    expect(() => decodeMethod(payload)).toThrow(UnknownMethodError);
    try { decodeMethod(payload); } catch (e) { expect((e as UnknownMethodError).replyCode).toBe(503); }
  });
});

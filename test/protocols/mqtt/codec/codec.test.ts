import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../../../protocols/mqtt/codec/decode.js';
import { encodeAck, encodeConnack, encodePublish, encodeSuback } from '../../../../protocols/mqtt/codec/encode.js';
import { MqttProtocolError } from '../../../../protocols/mqtt/codec/errors.js';
import { FrameReader, type Frame } from '../../../../protocols/mqtt/codec/frame-reader.js';
import type { InboundPacket, ProtocolLevel } from '../../../../protocols/mqtt/codec/packets.js';
import { decodeProperties, encodeProperties, stripForwardedProperties } from '../../../../protocols/mqtt/codec/properties.js';
import { ReasonCode } from '../../../../protocols/mqtt/codec/reason-codes.js';

function frames(bytes: Buffer, max = 1 << 20): Frame[] {
  const r = new FrameReader(max);
  r.push(bytes);
  const out: Frame[] = [];
  for (let f = r.next(); f; f = r.next()) out.push(f);
  return out;
}

function decodeOne(bytes: Buffer, level: ProtocolLevel): InboundPacket {
  const [f] = frames(bytes);
  return new PacketDecoder(level).decode(f!);
}

const gen = (p: object, v: ProtocolLevel) => mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion: v });

describe('FrameReader', () => {
  const stream = Buffer.concat([
    gen({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(300, 7), qos: 1, messageId: 5, dup: false, retain: false }, 4),
    Buffer.from([0xc0, 0x00]),
    gen({ cmd: 'publish', topic: 'c', payload: Buffer.from('x'), qos: 0, dup: false, retain: true }, 4),
  ]);

  it('yields the same frames whatever the chunking (split at every byte boundary)', () => {
    const whole = frames(stream).map((f) => [f.type, f.flags, f.body.toString('hex')]);
    expect(whole).toHaveLength(3);
    for (let i = 1; i < stream.length; i++) {
      const r = new FrameReader(1 << 20);
      const got: unknown[] = [];
      r.push(stream.subarray(0, i));
      for (let f = r.next(); f; f = r.next()) got.push([f.type, f.flags, f.body.toString('hex')]);
      r.push(stream.subarray(i));
      for (let f = r.next(); f; f = r.next()) got.push([f.type, f.flags, f.body.toString('hex')]);
      expect(got).toEqual(whole);
    }
  });

  it('feeds byte by byte', () => {
    const r = new FrameReader(1 << 20);
    let n = 0;
    for (const b of stream) {
      r.push(Buffer.from([b]));
      while (r.next()) n++;
    }
    expect(n).toBe(3);
  });

  it('rejects a packet over the maximum size as soon as its length is known, before buffering it', () => {
    const r = new FrameReader(100);
    r.push(Buffer.from([0x30, 0xff, 0x7f])); // 16383-byte remaining length, no body yet
    expect(() => r.next()).toThrowError(expect.objectContaining({ reasonCode: ReasonCode.PacketTooLarge }));
  });

  it('rejects a remaining length longer than 4 bytes as malformed', () => {
    const r = new FrameReader(1 << 30);
    r.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(() => r.next()).toThrowError(expect.objectContaining({ reasonCode: ReasonCode.MalformedPacket }));
  });
});

describe('PacketDecoder', () => {
  it('decodes a 3.1.1 CONNECT with will, user name and password', () => {
    const p = decodeOne(gen({
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c1', clean: false, keepalive: 30,
      username: 'u', password: Buffer.from('p'), will: { topic: 'w/t', payload: Buffer.from('bye'), qos: 1, retain: true },
    }, 4), 4);
    expect(p).toMatchObject({ cmd: 'connect', protocolLevel: 4, clientId: 'c1', clean: false, keepalive: 30, username: 'u' });
    if (p.cmd !== 'connect') throw new Error();
    expect(p.will).toMatchObject({ topic: 'w/t', qos: 1, retain: true });
    expect(p.will!.payload.toString()).toBe('bye');
  });

  it('decodes a 5.0 CONNECT with properties and will properties', () => {
    const p = decodeOne(gen({
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c5', clean: true, keepalive: 10,
      properties: { sessionExpiryInterval: 60, receiveMaximum: 10, topicAliasMaximum: 5, userProperties: { a: ['1', '2'] } },
      will: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false, properties: { willDelayInterval: 3, contentType: 'text/plain' } },
    }, 5), 5);
    if (p.cmd !== 'connect') throw new Error();
    expect(p.properties).toMatchObject({ sessionExpiryInterval: 60, receiveMaximum: 10, topicAliasMaximum: 5, userProperties: [['a', '1'], ['a', '2']] });
    expect(p.will!.properties).toMatchObject({ willDelayInterval: 3, contentType: 'text/plain' });
    expect(decodeProperties(p.will!.propertiesRaw!, 0, p.will!.propertiesRaw!.length)).toEqual({ contentType: 'text/plain' });
  });

  it('answers an unsupported protocol level with reason 0x84 [MQTT-3.1.2-2]', () => {
    const b = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: true, keepalive: 0 }, 4);
    b[8] = 6;
    expect(() => decodeOne(b, 4)).toThrowError(expect.objectContaining({ reasonCode: ReasonCode.UnsupportedProtocolVersion }));
  });

  it('rejects the CONNECT reserved flag [MQTT-3.1.2-3]', () => {
    const b = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: true, keepalive: 0 }, 4);
    b[9]! |= 1;
    expect(() => decodeOne(b, 4)).toThrowError(MqttProtocolError);
  });

  it('rejects ill-formed UTF-8 in a topic [MQTT-1.5.4-1]', () => {
    const b = gen({ cmd: 'publish', topic: 'ab', payload: Buffer.alloc(0), qos: 0, dup: false, retain: false }, 4);
    b[4] = 0xc3; b[5] = 0x28;
    expect(() => decodeOne(b, 4)).toThrowError(expect.objectContaining({ reasonCode: ReasonCode.MalformedPacket }));
  });

  it('rejects ill-formed UTF-8 in a client id through mqtt-packet [MQTT-1.5.4-1]', () => {
    const b = gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'ab', clean: true, keepalive: 0 }, 4);
    b[b.length - 2] = 0xff;
    expect(() => decodeOne(b, 4)).toThrowError(MqttProtocolError);
  });

  it('decodes a 5.0 PUBLISH keeping its property bytes', () => {
    const b = gen({
      cmd: 'publish', topic: 't', payload: Buffer.from('hi'), qos: 2, messageId: 9, dup: true, retain: true,
      properties: { contentType: 'a/b', userProperties: { k: 'v' }, messageExpiryInterval: 100, topicAlias: 3 },
    }, 5);
    const p = decodeOne(b, 5);
    if (p.cmd !== 'publish') throw new Error();
    expect(p).toMatchObject({ qos: 2, dup: true, retain: true, topic: 't', packetId: 9 });
    expect(p.properties).toMatchObject({ contentType: 'a/b', userProperties: [['k', 'v']], messageExpiryInterval: 100, topicAlias: 3 });
    const forwarded = decodeProperties(stripForwardedProperties(p.propertiesRaw!), 0, stripForwardedProperties(p.propertiesRaw!).length);
    expect(forwarded).toEqual({ contentType: 'a/b', userProperties: [['k', 'v']] });
  });

  it('rejects QoS 3 and DUP on QoS 0 [MQTT-3.3.1-4] [MQTT-3.3.1-2]', () => {
    expect(() => decodeOne(Buffer.from([0x36, 0x03, 0x00, 0x01, 0x61]), 4)).toThrowError(MqttProtocolError);
    expect(() => decodeOne(Buffer.from([0x38, 0x03, 0x00, 0x01, 0x61]), 4)).toThrowError(MqttProtocolError);
  });

  it('rejects bad reserved flags on PUBREL and SUBSCRIBE [MQTT-2.2.2-2]', () => {
    expect(() => decodeOne(Buffer.from([0x60, 0x02, 0x00, 0x01]), 4)).toThrowError(MqttProtocolError);
    expect(() => decodeOne(Buffer.from([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]), 4)).toThrowError(MqttProtocolError);
  });

  it('decodes SUBSCRIBE options and the subscription identifier (5.0)', () => {
    const p = decodeOne(gen({
      cmd: 'subscribe', messageId: 3, properties: { subscriptionIdentifier: 42 },
      subscriptions: [{ topic: 'a/#', qos: 2, nl: true, rap: true, rh: 2 }, { topic: '$share/g/b', qos: 0, nl: false, rap: false, rh: 0 }],
    }, 5), 5);
    expect(p).toEqual({
      cmd: 'subscribe', packetId: 3, subscriptionIdentifier: 42,
      subscriptions: [
        { filter: 'a/#', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 },
        { filter: '$share/g/b', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
  });

  it('turns random bytes into packets or MqttProtocolError, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(3, 4, 5), (bytes, level) => {
      const r = new FrameReader(1 << 16);
      const d = new PacketDecoder(level as ProtocolLevel);
      r.push(Buffer.from(bytes));
      try {
        for (let f = r.next(); f; f = r.next()) d.decode(f);
      } catch (e) {
        if (!(e instanceof MqttProtocolError)) throw e;
      }
    }), { numRuns: 20000 });
  });

  it('mutated valid packets give packets or MqttProtocolError', () => {
    const seeds = [
      gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 5, properties: { sessionExpiryInterval: 5 } }, 5),
      gen({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/+', qos: 1 }] }, 5),
      gen({ cmd: 'publish', topic: 'x', payload: Buffer.from('p'), qos: 1, messageId: 2, dup: false, retain: false, properties: { userProperties: { a: 'b' } } }, 5),
    ];
    fc.assert(fc.property(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 }), (seed, at, value) => {
      const b = Buffer.from(seed);
      b[at % b.length] = value;
      try {
        for (const f of frames(b, 1 << 16)) new PacketDecoder(5).decode(f);
      } catch (e) {
        if (!(e instanceof MqttProtocolError)) throw e;
      }
    }), { numRuns: 20000 });
  });
});

describe('encoders agree with mqtt-packet', () => {
  const parse = (b: Buffer, v: ProtocolLevel): mqttPacket.Packet => {
    const p = mqttPacket.parser({ protocolVersion: v });
    let out: mqttPacket.Packet | null = null;
    p.on('packet', (x) => { out = x; });
    p.parse(b);
    return out!;
  };

  it('PUBLISH 3.1.1 and 5.0, inline and two-part payloads', () => {
    for (const size of [0, 10, 5000]) {
      for (const level of [4, 5] as const) {
        const props = level === 5 ? encodeProperties({ contentType: 'c', subscriptionIdentifiers: [1, 300] }) : null;
        const parts = encodePublish({ topic: 'a/b', packetId: 7, qos: 1, dup: true, retain: false, properties: props, payload: Buffer.alloc(size, 1) }, level);
        const p = parse(Buffer.concat(parts), level) as mqttPacket.IPublishPacket;
        expect(p).toMatchObject({ cmd: 'publish', topic: 'a/b', messageId: 7, qos: 1, dup: true });
        expect((p.payload as Buffer).length).toBe(size);
        if (level === 5) expect(p.properties).toMatchObject({ contentType: 'c', subscriptionIdentifier: [1, 300] });
      }
    }
  });

  it('acks, CONNACK and SUBACK', () => {
    expect(parse(encodeAck('pubrel', 9, 4), 4)).toMatchObject({ cmd: 'pubrel', messageId: 9 });
    expect(parse(encodeAck('puback', 9, 5, 0x10, { reasonString: 'none' }), 5)).toMatchObject({ cmd: 'puback', reasonCode: 0x10, properties: { reasonString: 'none' } });
    expect(parse(encodeConnack(4, true, 0), 4)).toMatchObject({ cmd: 'connack', sessionPresent: true, returnCode: 0 });
    expect(parse(encodeConnack(5, false, 0x86, { reasonString: 'no' }), 5)).toMatchObject({ reasonCode: 0x86 });
    expect(parse(encodeSuback(5, 4, [0, 1, 0x8f]), 5)).toMatchObject({ cmd: 'suback', messageId: 4, granted: [0, 1, 0x8f] });
  });

  it('properties round-trip (property)', () => {
    const arb = fc.record({
      payloadFormatIndicator: fc.constantFrom(0, 1),
      messageExpiryInterval: fc.nat({ max: 0xffffffff }),
      contentType: fc.string(),
      correlationData: fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)),
      userProperties: fc.array(fc.tuple(fc.string(), fc.string()), { minLength: 1, maxLength: 4 }),
      subscriptionIdentifiers: fc.array(fc.integer({ min: 1, max: 268435455 }), { minLength: 1, maxLength: 3 }),
    }, { requiredKeys: [] });
    fc.assert(fc.property(arb, (props) => {
      const safe = { ...props } as Record<string, unknown>;
      if (typeof safe.contentType === 'string' && (safe.contentType as string).includes('\u0000')) delete safe.contentType;
      if (safe.userProperties) safe.userProperties = (safe.userProperties as [string, string][]).filter(([a, b]) => !a.includes('\u0000') && !b.includes('\u0000'));
      if ((safe.userProperties as unknown[] | undefined)?.length === 0) delete safe.userProperties;
      const b = encodeProperties(safe);
      expect(decodeProperties(b, 0, b.length)).toEqual(safe);
    }), { numRuns: 2000 });
  });
});

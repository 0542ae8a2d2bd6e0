import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { connectClient } from './clients.js';
import { RawClient, startMqtt, type MqttHarness } from './harness.js';

let h: MqttHarness;
beforeEach(async () => { h = await startMqtt(); });
afterEach(async () => { await h.stop(); });

describe('MQTT 5 features', () => {
  it('forwards properties byte-exactly: content type, response topic, correlation data, user properties, payload format', async () => {
    const sub = await connectClient(h.url, { clientId: 's', protocolVersion: 5 });
    await sub.client.subscribeAsync('req', { qos: 1 });
    const pub = await connectClient(h.url, { clientId: 'p', protocolVersion: 5 });
    await pub.client.publishAsync('req', '{}', {
      qos: 1,
      properties: {
        payloadFormatIndicator: true, contentType: 'application/json', responseTopic: 'resp/p',
        correlationData: Buffer.from([1, 2, 3]), userProperties: { a: '1', b: ['2', '3'] },
      },
    });
    const [m] = await sub.waitFor(1);
    expect(m!.packet.properties).toMatchObject({
      payloadFormatIndicator: true, contentType: 'application/json', responseTopic: 'resp/p',
      correlationData: Buffer.from([1, 2, 3]), userProperties: { a: '1', b: ['2', '3'] },
    });
    await pub.end();
    await sub.end();
  });

  it('publishes a will with its properties byte for byte, in the client\'s order, without the Will Delay Interval', async () => {
    const sub = await RawClient.connect(h.port, 5);
    await sub.handshake('will-sub');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'lwt/#', qos: 1 }] });
    await sub.next('suback');
    const received: Buffer[] = [];
    sub.socket.on('data', (b: Buffer) => received.push(b));

    const str = (s: string) => Buffer.concat([Buffer.from([0, Buffer.byteLength(s)]), Buffer.from(s)]);
    // Will properties in an order no encoder would pick: a repeated user property around others.
    const pair = (k: string, v: string) => Buffer.concat([Buffer.from([0x26]), str(k), str(v)]);
    const kept = Buffer.concat([pair('b', '2'), Buffer.from([0x03]), str('text/plain'), pair('a', '1'), Buffer.from([0x09, 0, 2, 7, 8]), pair('b', '3'), Buffer.from([0x01, 1])]);
    const willProps = Buffer.concat([kept.subarray(0, 7), Buffer.from([0x18, 0, 0, 0, 0]), kept.subarray(7)]); // after the first pair
    const body = Buffer.concat([
      str('MQTT'), Buffer.from([5, 0x04 | 0x08 | 0x02, 0, 0]), Buffer.from([0]), str('will-pub'),
      Buffer.from([willProps.length]), willProps, str('lwt/x'), str('gone'),
    ]);
    const pub = await RawClient.connect(h.port, 5);
    pub.send(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    await pub.next('connack');
    pub.destroy(); // abnormal loss: the will goes out

    const m = (await sub.next('publish')) as mqttPacket.IPublishPacket;
    expect(m.payload.toString()).toBe('gone');
    expect(Buffer.concat(received).includes(Buffer.concat([Buffer.from([kept.length]), kept]))).toBe(true);
    sub.destroy();
  });

  it('forwards the remaining message expiry and drops expired messages [MQTT-3.3.2-5] [MQTT-3.3.2-6]', async () => {
    const s = await connectClient(h.url, { clientId: 'exp', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 100 } });
    await s.client.subscribeAsync('e', { qos: 1 });
    await s.end();
    const pub = await connectClient(h.url, { clientId: 'p', protocolVersion: 5 });
    await pub.client.publishAsync('e', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.client.publishAsync('e', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
    await new Promise((r) => setTimeout(r, 1200)); // let the 1 s expiry pass (the behaviour under test is time)
    const again = await connectClient(h.url, { clientId: 'exp', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 100 } });
    const [m] = await again.waitFor(1);
    expect(m!.payload).toBe('long');
    expect(m!.packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(100);
    expect(m!.packet.properties?.messageExpiryInterval).toBeGreaterThan(90);
    await again.end();
    await pub.end();
  });

  it('does not send a client its own messages with No Local [MQTT-3.8.3-3]', async () => {
    const c = await connectClient(h.url, { clientId: 'nl', protocolVersion: 5 });
    await c.client.subscribeAsync('chat', { qos: 1, nl: true });
    await c.client.subscribeAsync('chat2', { qos: 1 });
    await c.client.publishAsync('chat', 'mine', { qos: 1 });
    const other = await connectClient(h.url, { clientId: 'other', protocolVersion: 5 });
    await other.client.publishAsync('chat', 'theirs', { qos: 1 });
    await c.client.publishAsync('chat2', 'mine2', { qos: 1 });
    const got = await c.waitFor(2);
    expect(got.map((m) => m.payload)).toEqual(['theirs', 'mine2']);
    await other.end();
    await c.end();
  });

  it('sends subscription identifiers of every matching subscription', async () => {
    const c = await connectClient(h.url, { clientId: 'sid', protocolVersion: 5 });
    await c.client.subscribeAsync('a/+', { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await c.client.subscribeAsync('a/#', { qos: 1, properties: { subscriptionIdentifier: 9 } });
    const pub = await connectClient(h.url, { clientId: 'p' });
    await pub.client.publishAsync('a/b', 'x', { qos: 1 });
    const [m] = await c.waitFor(1);
    const ids = m!.packet.properties?.subscriptionIdentifier;
    expect((Array.isArray(ids) ? ids : [ids]).sort()).toEqual([7, 9]);
    await pub.end();
    await c.end();
  });

  it('accepts topic aliases from the client and uses them towards it', async () => {
    const raw = await RawClient.connect(h.port, 5);
    const ack = await raw.handshake('ta', { properties: { topicAliasMaximum: 4 } });
    expect(ack.properties?.topicAliasMaximum).toBeGreaterThan(0);
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'long/topic/name', qos: 0 }] });
    await raw.next('suback');
    raw.send({ cmd: 'publish', topic: 'long/topic/name', payload: Buffer.from('1'), qos: 0, dup: false, retain: false, properties: { topicAlias: 1 } });
    raw.send({ cmd: 'publish', topic: '', payload: Buffer.from('2'), qos: 0, dup: false, retain: false, properties: { topicAlias: 1 } });
    const a = (await raw.next('publish')) as mqttPacket.IPublishPacket;
    const b = (await raw.next('publish')) as mqttPacket.IPublishPacket;
    expect(a.topic).toBe('long/topic/name');
    expect(a.properties?.topicAlias).toBe(1);
    expect(b.topic).toBe('');
    expect(b.properties?.topicAlias).toBe(1);
    expect(b.payload.toString()).toBe('2');
    raw.destroy();
  });

  it('balances a shared subscription across its members, also for 3.1.1 clients', async () => {
    const a = await connectClient(h.url, { clientId: 'a', protocolVersion: 5 });
    const b = await connectClient(h.url, { clientId: 'b', protocolVersion: 4 });
    await a.client.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
    await b.client.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
    const pub = await connectClient(h.url, { clientId: 'p' });
    for (let i = 0; i < 20; i++) await pub.client.publishAsync(`jobs/${i}`, `${i}`, { qos: 1 });
    await new Promise<void>((resolve) => {
      const check = () => (a.received.length + b.received.length >= 20 ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(a.received.length + b.received.length).toBe(20);
    expect(a.received.length).toBeGreaterThan(0);
    expect(b.received.length).toBeGreaterThan(0);
    const all = [...a.received, ...b.received].map((m) => Number(m.payload)).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await pub.end();
    await a.end();
    await b.end();
  });

  it('respects the client maximum packet size: larger messages are not sent [MQTT-3.1.2-25]', async () => {
    const raw = await RawClient.connect(h.port, 5);
    await raw.handshake('small', { properties: { maximumPacketSize: 100 } });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'm', qos: 1 }] });
    await raw.next('suback');
    const pub = await connectClient(h.url, { clientId: 'p' });
    await pub.client.publishAsync('m', Buffer.alloc(500), { qos: 1 });
    await pub.client.publishAsync('m', 'small', { qos: 1 });
    const got = (await raw.next('publish')) as mqttPacket.IPublishPacket;
    expect(got.payload.toString()).toBe('small');
    raw.destroy();
    await pub.end();
  });

  it('answers PUBACK 0x10 when nobody subscribes (5.0)', async () => {
    const raw = await RawClient.connect(h.port, 5);
    await raw.handshake('nobody');
    raw.send({ cmd: 'publish', topic: 'void', payload: Buffer.from('x'), qos: 1, messageId: 3, dup: false, retain: false });
    const ack = await raw.next('puback');
    expect((ack as { reasonCode?: number }).reasonCode).toBe(0x10);
    raw.destroy();
  });

  it('publishes $SYS topics', async () => {
    const c = await connectClient(h.url, { clientId: 'sys' });
    h.adapter.publishSystem('$SYS/broker/uptime', '5 seconds');
    await c.client.subscribeAsync('$SYS/broker/#', { qos: 0 });
    const [m] = await c.waitFor(1);
    expect(m!.topic.startsWith('$SYS/broker/')).toBe(true);
    await c.end();
  });
});

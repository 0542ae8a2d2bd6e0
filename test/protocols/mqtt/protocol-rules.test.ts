import mqttPacket from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectClient } from './clients.js';
import { RawClient, startMqtt, type MqttHarness } from './harness.js';

let h: MqttHarness;
beforeEach(async () => { h = await startMqtt({ maxPacketSize: 1024, users: [{ username: 'alice', password: 'secret' }] }); });
afterEach(async () => { await h.stop(); });

const reason = (p: mqttPacket.Packet) => (p as { reasonCode?: number }).reasonCode;

describe('connection rules', () => {
  it('closes when the first packet is not CONNECT [MQTT-3.1.0-1]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    raw.send({ cmd: 'pingreq' });
    await raw.waitClosed();
    expect(raw.packets).toEqual([]);
  });

  it('closes a connection that completes no CONNECT within the connect timeout, also one trickling bytes or stuck in enhanced authentication', async () => {
    const quick = await startMqtt({ connectTimeoutMs: 300 });
    try {
      const silent = await RawClient.connect(quick.port, 4);
      const trickle = await RawClient.connect(quick.port, 5);
      trickle.send(Buffer.from([0x10])); // a CONNECT that never completes
      const stuck = await RawClient.connect(quick.port, 5);
      stuck.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'stuck', clean: true, keepalive: 0, properties: { authenticationMethod: 'SCRAM-SHA-256' } });
      const ok = await RawClient.connect(quick.port, 4);
      await ok.handshake('ok');
      await Promise.all([silent.waitClosed(), trickle.waitClosed(), stuck.waitClosed()]);
      // A connected client without keep alive stays.
      ok.send({ cmd: 'pingreq' });
      await ok.next('pingresp');
      ok.destroy();
    } finally {
      await quick.stop();
    }
  });

  it('closes on a second CONNECT [MQTT-3.1.0-2]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    await raw.handshake('twice');
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'twice', clean: true, keepalive: 0 });
    await raw.waitClosed();
  });

  it('answers an unsupported protocol level with CONNACK 0x01 [MQTT-3.1.2-2]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    const b = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: true, keepalive: 0 });
    b[8] = 7;
    raw.send(b);
    expect((await raw.next('connack')) as mqttPacket.IConnackPacket).toMatchObject({ returnCode: 1 });
    await raw.waitClosed();
  });

  it('closes on reserved header bits [MQTT-2.2.2-2]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    await raw.handshake('bits');
    raw.send(Buffer.from([0x62, 0x02, 0x00, 0x01].map((x, i) => (i === 0 ? 0x61 : x))));
    await raw.waitClosed();
  });

  it('closes on ill-formed UTF-8 in a topic [MQTT-1.5.4-1]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    await raw.handshake('utf');
    raw.send(Buffer.from([0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x41]));
    await raw.waitClosed();
  });

  it('5.0: a wildcard in a PUBLISH topic gets DISCONNECT 0x90 [MQTT-3.3.2-2]', async () => {
    const raw = await RawClient.connect(h.port, 5);
    await raw.handshake('wild');
    raw.send(Buffer.from([0x30, 0x05, 0x00, 0x02, 0x61, 0x23, 0x00]));
    expect(reason(await raw.next('disconnect'))).toBe(0x90);
    await raw.waitClosed();
  });

  it('3.1.1: a wildcard in a PUBLISH topic closes the connection', async () => {
    const raw = await RawClient.connect(h.port, 4);
    await raw.handshake('wild4');
    raw.send({ cmd: 'publish', topic: 'a/+', payload: Buffer.from('x'), qos: 0, dup: false, retain: false });
    await raw.waitClosed();
  });

  it('5.0: a packet over the maximum packet size gets DISCONNECT 0x95, announced in CONNACK', async () => {
    const raw = await RawClient.connect(h.port, 5);
    const ack = await raw.handshake('big');
    expect(ack.properties?.maximumPacketSize).toBe(1024);
    raw.send({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(2000), qos: 0, dup: false, retain: false });
    expect(reason(await raw.next('disconnect'))).toBe(0x95);
    await raw.waitClosed();
  });

  it('5.0: a zero-length topic without alias gets DISCONNECT 0x82 [MQTT-3.3.2-1]', async () => {
    const raw = await RawClient.connect(h.port, 5);
    await raw.handshake('empty');
    raw.send(Buffer.from([0x30, 0x03, 0x00, 0x00, 0x00]));
    expect(reason(await raw.next('disconnect'))).toBe(0x82);
    await raw.waitClosed();
  });

  it('5.0: a topic alias above the maximum gets DISCONNECT 0x94', async () => {
    const raw = await RawClient.connect(h.port, 5);
    await raw.handshake('alias');
    raw.send({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { topicAlias: 5000 } });
    expect(reason(await raw.next('disconnect'))).toBe(0x94);
  });

  it('5.0: AUTH without an authentication method is a protocol error; a method gets CONNACK 0x8C', async () => {
    const raw = await RawClient.connect(h.port, 5);
    await raw.handshake('auth');
    raw.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    expect(reason(await raw.next('disconnect'))).toBe(0x82);
    const m = await RawClient.connect(h.port, 5);
    const ack = await m.handshake('auth2', { properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    expect(ack.reasonCode).toBe(0x8c);
  });

  it('checks user names and passwords: bad password is 0x86 / return code 4', async () => {
    const ok = await RawClient.connect(h.port, 4);
    expect((await ok.handshake('u1', { username: 'alice', password: Buffer.from('secret') })).returnCode).toBe(0);
    ok.destroy();
    const bad = await RawClient.connect(h.port, 4);
    expect((await bad.handshake('u2', { username: 'alice', password: Buffer.from('nope') })).returnCode).toBe(4);
    const bad5 = await RawClient.connect(h.port, 5);
    expect((await bad5.handshake('u3', { username: 'alice', password: Buffer.from('nope') })).reasonCode).toBe(0x86);
    const guest = await RawClient.connect(h.port, 4);
    expect((await guest.handshake('u4', { username: 'guest', password: Buffer.from('guest') })).returnCode).toBe(0);
    guest.destroy();
  });

  it('refuses anonymous clients when anonymous access is off (return code 5)', async () => {
    const strict = await startMqtt({ allowAnonymous: false });
    const raw = await RawClient.connect(strict.port, 4);
    expect((await raw.handshake('anon')).returnCode).toBe(5);
    await raw.waitClosed();
    await strict.stop();
  });

  it('stays up and serves well-behaved clients after every violation above', async () => {
    const c = await connectClient(h.url, { clientId: 'fine' });
    await c.client.subscribeAsync('ok', { qos: 1 });
    await c.client.publishAsync('ok', 'yes', { qos: 1 });
    expect((await c.waitFor(1))[0]!.payload).toBe('yes');
    await c.end();
  });
});

describe('QoS 2 exactly once', () => {
  it('stores a resent QoS 2 PUBLISH once, across a disconnect between PUBREC and PUBREL [MQTT-4.3.3-9]', async () => {
    const sub = await connectClient(h.url, { clientId: 'sub2' });
    // QoS 1 towards the subscriber so mqtt.js emits in arrival order (it holds QoS 2 until PUBREL).
    await sub.client.subscribeAsync('once', { qos: 1 });
    const raw = await RawClient.connect(h.port, 4);
    await raw.handshake('q2', { clean: false });
    const publish = { cmd: 'publish', topic: 'once', payload: Buffer.from('exactly'), qos: 2, messageId: 7, dup: false, retain: false };
    raw.send(publish);
    await raw.next('pubrec');
    raw.destroy();
    await raw.waitClosed();
    const again = await RawClient.connect(h.port, 4);
    await again.handshake('q2', { clean: false });
    again.send({ ...publish, dup: true });
    await again.next('pubrec');
    again.send({ cmd: 'pubrel', messageId: 7 });
    await again.next('pubcomp');
    // A marker after the flow: only one copy came before it.
    again.send({ cmd: 'publish', topic: 'once', payload: Buffer.from('marker'), qos: 0, dup: false, retain: false });
    const got = await sub.waitFor(2);
    expect(got.map((m) => m.payload)).toEqual(['exactly', 'marker']);
    again.destroy();
    await sub.end();
  });

  it('resends PUBREL after a reconnect when the subscriber sent PUBREC and dropped [MQTT-4.4.0-1]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    await raw.handshake('r2', { clean: false });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'two', qos: 2 }] });
    await raw.next('suback');
    const pub = await connectClient(h.url, { clientId: 'p' });
    await pub.client.publishAsync('two', 'payload', { qos: 2 });
    const m = (await raw.next('publish')) as mqttPacket.IPublishPacket;
    raw.send({ cmd: 'pubrec', messageId: m.messageId });
    await raw.next('pubrel');
    raw.destroy();
    await raw.waitClosed();
    const again = await RawClient.connect(h.port, 4);
    const ack = await again.handshake('r2', { clean: false });
    expect(ack.sessionPresent).toBe(true);
    const rel = await again.next('pubrel');
    expect(rel.messageId).toBe(m.messageId);
    again.send({ cmd: 'pubcomp', messageId: m.messageId });
    // The message itself is not sent again.
    await pub.client.publishAsync('two', 'next', { qos: 2 });
    const n = (await again.next('publish')) as mqttPacket.IPublishPacket;
    expect(n.payload.toString()).toBe('next');
    again.destroy();
    await pub.end();
  });

  it('resends an unacknowledged QoS 1 PUBLISH with DUP and the same packet id on reconnect', async () => {
    const raw = await RawClient.connect(h.port, 4);
    await raw.handshake('dup', { clean: false });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'd', qos: 1 }] });
    await raw.next('suback');
    const pub = await connectClient(h.url, { clientId: 'p' });
    await pub.client.publishAsync('d', 'again', { qos: 1 });
    const first = (await raw.next('publish')) as mqttPacket.IPublishPacket;
    expect(first.dup).toBe(false);
    raw.destroy();
    await raw.waitClosed();
    const again = await RawClient.connect(h.port, 4);
    await again.handshake('dup', { clean: false });
    const second = (await again.next('publish')) as mqttPacket.IPublishPacket;
    expect(second.dup).toBe(true);
    expect(second.messageId).toBe(first.messageId);
    expect(second.payload.toString()).toBe('again');
    again.destroy();
    await pub.end();
  });
});

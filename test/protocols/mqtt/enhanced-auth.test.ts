import type mqttPacket from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient, startMqtt, type MqttHarness } from './harness.js';
import { ScramClient } from './scram-client.js';

/** MQTT 5 enhanced authentication (§4.12) with SCRAM against the broker-wide users. */
let h: MqttHarness;
beforeEach(async () => { h = await startMqtt({ users: [{ username: 'alice', password: 'wonder,land=' }] }); });
afterEach(async () => { await h.stop(); });

type Auth = mqttPacket.IAuthPacket;
const data = (p: { properties?: { authenticationData?: Buffer } }) => p.properties!.authenticationData!.toString('utf8');

async function scramConnect(c: RawClient, method: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', user: string, password: string, clientId = 'sc') {
  const scram = new ScramClient(method === 'SCRAM-SHA-256' ? 'sha256' : 'sha512', user, password);
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId, clean: true, keepalive: 0, properties: { authenticationMethod: method, authenticationData: Buffer.from(scram.clientFirst) } });
  const first = (await c.next('auth')) as Auth;
  expect(first.reasonCode).toBe(0x18);
  expect(first.properties?.authenticationMethod).toBe(method);
  c.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: method, authenticationData: Buffer.from(scram.final(data(first))) } });
  const connack = (await c.next('connack')) as mqttPacket.IConnackPacket;
  return { scram, connack };
}

describe('MQTT 5 enhanced authentication (SCRAM)', () => {
  it.each(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)('%s: AUTH 0x18 exchange, CONNACK 0x00 carrying the server-final message', async (method) => {
    const c = await RawClient.connect(h.port, 5);
    const { scram, connack } = await scramConnect(c, method, 'alice', 'wonder,land=');
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.authenticationMethod).toBe(method);
    expect(scram.verifyServer(data(connack))).toBe(true);
    // The session works: subscribe and receive its own message.
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/b', qos: 1 }] });
    await c.next('suback');
    c.send({ cmd: 'publish', topic: 'a/b', payload: 'x', qos: 1, messageId: 2, retain: false, dup: false });
    expect(((await c.next('publish')) as mqttPacket.IPublishPacket).payload.toString()).toBe('x');
    c.destroy();
  });

  it('a wrong password gets CONNACK 0x86, an unknown user too (no hint which)', async () => {
    for (const [user, pw] of [['alice', 'nope'], ['mallory', 'x']] as const) {
      const c = await RawClient.connect(h.port, 5);
      const { connack } = await scramConnect(c, 'SCRAM-SHA-256', user, pw);
      expect(connack.reasonCode).toBe(0x86);
      await c.waitClosed();
    }
  });

  it('an unsupported method gets CONNACK 0x8C [MQTT-4.12.0-1]', async () => {
    const c = await RawClient.connect(h.port, 5);
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'k', clean: true, keepalive: 0, properties: { authenticationMethod: 'GS2-KRB5' } });
    expect(((await c.next('connack')) as mqttPacket.IConnackPacket).reasonCode).toBe(0x8c);
    await c.waitClosed();
  });

  it('takes the client-first message from an AUTH right after CONNECT (mqtt.js authPacket)', async () => {
    const c = await RawClient.connect(h.port, 5);
    const scram = new ScramClient('sha256', 'alice', 'wonder,land=');
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'ap', clean: true, keepalive: 0, properties: { authenticationMethod: 'SCRAM-SHA-256' } });
    c.send({ cmd: 'auth', reasonCode: 0, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.clientFirst) } });
    const first = (await c.next('auth')) as Auth;
    c.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.final(data(first))) } });
    const connack = (await c.next('connack')) as mqttPacket.IConnackPacket;
    expect(connack.reasonCode).toBe(0);
    expect(scram.verifyServer(data(connack))).toBe(true);
    c.destroy();
  });

  it('AUTH naming another method, or any other packet before the CONNACK, is a Protocol Error (CONNACK 0x82)', async () => {
    const a = await RawClient.connect(h.port, 5);
    const scram = new ScramClient('sha256', 'alice', 'wonder,land=');
    a.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'm1', clean: true, keepalive: 0, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.clientFirst) } });
    await a.next('auth');
    a.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-512', authenticationData: Buffer.from('x') } });
    expect(((await a.next('connack')) as mqttPacket.IConnackPacket).reasonCode).toBe(0x82);
    await a.waitClosed();

    const b = await RawClient.connect(h.port, 5);
    b.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'm2', clean: true, keepalive: 0, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.clientFirst) } });
    await b.next('auth');
    b.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 0 }] });
    expect(((await b.next('connack')) as mqttPacket.IConnackPacket).reasonCode).toBe(0x82);
    await b.waitClosed();
  });

  it('AUTH from a client that named no method is a Protocol Error (DISCONNECT 0x82) [MQTT-4.12.0-6]', async () => {
    const c = await RawClient.connect(h.port, 5);
    await c.handshake('plain', { username: 'alice', password: Buffer.from('wonder,land=') });
    c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-256' } });
    expect(((await c.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x82);
    await c.waitClosed();
  });

  it('re-authenticates with AUTH 0x19 while the session keeps working; a failed one ends with DISCONNECT 0x87 [MQTT-4.12.1-2]', async () => {
    const c = await RawClient.connect(h.port, 5);
    await scramConnect(c, 'SCRAM-SHA-256', 'alice', 'wonder,land=', 're');
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 're/t', qos: 0 }] });
    await c.next('suback');

    const again = new ScramClient('sha256', 'alice', 'wonder,land=');
    c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(again.clientFirst) } });
    const first = (await c.next('auth')) as Auth;
    expect(first.reasonCode).toBe(0x18);
    // Traffic continues during the exchange.
    c.send({ cmd: 'publish', topic: 're/t', payload: 'during', qos: 0, retain: false, dup: false });
    expect(((await c.next('publish')) as mqttPacket.IPublishPacket).payload.toString()).toBe('during');
    c.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(again.final(data(first))) } });
    const done = (await c.next('auth')) as Auth;
    expect(done.reasonCode).toBe(0);
    expect(again.verifyServer(data(done))).toBe(true);

    const wrong = new ScramClient('sha256', 'alice', 'not-it');
    c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(wrong.clientFirst) } });
    const f2 = (await c.next('auth')) as Auth;
    c.send({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(wrong.final(data(f2))) } });
    expect(((await c.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x87);
    await c.waitClosed();
  });
});

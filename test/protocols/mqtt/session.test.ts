import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectClient } from './clients.js';
import { RawClient, startMqtt, type MqttHarness } from './harness.js';

let h: MqttHarness;
beforeEach(async () => { h = await startMqtt(); });
afterEach(async () => { await h.stop(); });

describe('sessions', () => {
  it('keeps a 3.1.1 persistent session: subscriptions and queued QoS 1 messages [MQTT-3.1.2-4]', async () => {
    const s1 = await connectClient(h.url, { clientId: 'dev1', clean: false });
    await s1.client.subscribeAsync('cmd/#', { qos: 1 });
    await s1.end();
    const pub = await connectClient(h.url, { clientId: 'pub' });
    for (let i = 0; i < 5; i++) await pub.client.publishAsync('cmd/x', `c${i}`, { qos: 1 });
    const s2 = await connectClient(h.url, { clientId: 'dev1', clean: false });
    expect(s2.client.connected).toBe(true);
    const got = await s2.waitFor(5);
    expect(got.map((m) => m.payload)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    await s2.end();
    await pub.end();
  });

  it('reports session present on resume and not after clean session [MQTT-3.2.2-2]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    expect((await raw.handshake('p1', { clean: false })).sessionPresent).toBe(false);
    raw.send({ cmd: 'disconnect' });
    await raw.waitClosed();
    const again = await RawClient.connect(h.port, 4);
    expect((await again.handshake('p1', { clean: false })).sessionPresent).toBe(true);
    again.send({ cmd: 'disconnect' });
    await again.waitClosed();
    const clean = await RawClient.connect(h.port, 4);
    expect((await clean.handshake('p1', { clean: true })).sessionPresent).toBe(false);
    clean.destroy();
  });

  it('survives a broker restart: subscriptions, queued messages and retained messages', async () => {
    const s1 = await connectClient(h.url, { clientId: 'keep', clean: false });
    await s1.client.subscribeAsync('q/#', { qos: 1 });
    await s1.end();
    const pub = await connectClient(h.url, { clientId: 'pub' });
    await pub.client.publishAsync('q/1', 'queued', { qos: 1 });
    await pub.client.publishAsync('ret', 'retained', { qos: 1, retain: true });
    await pub.end();
    h = await h.restart();
    const s2 = await connectClient(h.url, { clientId: 'keep', clean: false });
    const [m] = await s2.waitFor(1);
    expect(m!.payload).toBe('queued');
    await s2.client.subscribeAsync('ret', { qos: 1 });
    const got = await s2.waitFor(2);
    expect(got[1]!.payload).toBe('retained');
    // The subscription itself survived too.
    const pub2 = await connectClient(h.url, { clientId: 'pub2' });
    await pub2.client.publishAsync('q/2', 'after', { qos: 1 });
    expect((await s2.waitFor(3))[2]!.payload).toBe('after');
    await pub2.end();
    await s2.end();
  });

  it('delivers the queued messages of a 5.0 session resumed with session expiry 0, then ends it [MQTT-3.1.2-5]', async () => {
    // Paho's client_test5 offline_message_queueing: the resuming CONNECT carries no Session
    // Expiry Interval. The session still resumes with its queued messages; it then ends with
    // this connection.
    const s1 = await connectClient(h.url, { clientId: 'off5', protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 99999 } });
    await s1.client.subscribeAsync('off/+', { qos: 2 });
    await s1.end();
    const pub = await connectClient(h.url, { clientId: 'pub5', protocolVersion: 5 });
    await pub.client.publishAsync('off/a', 'one', { qos: 1 });
    await pub.client.publishAsync('off/b', 'two', { qos: 2 });
    await pub.end();
    const s2 = await connectClient(h.url, { clientId: 'off5', protocolVersion: 5, clean: false });
    const got = await s2.waitFor(2);
    expect(got.map((m) => m.payload).sort()).toEqual(['one', 'two']);
    await s2.end();
    const raw = await RawClient.connect(h.port, 5);
    expect((await raw.handshake('off5', { clean: false })).sessionPresent).toBe(false);
    raw.destroy();
  });

  it('expires a 5.0 session after its expiry interval', async () => {
    const s1 = await connectClient(h.url, { clientId: 'exp', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 1 } });
    await s1.client.subscribeAsync('e', { qos: 1 });
    await s1.end();
    await new Promise<void>((resolve) => {
      const check = () => (h.adapter.sessions.has('exp') ? setTimeout(check, 50) : resolve());
      check();
    });
    const raw = await RawClient.connect(h.port, 5);
    const ack = await raw.handshake('exp', { clean: false, properties: { sessionExpiryInterval: 10 } });
    expect(ack.sessionPresent).toBe(false);
    raw.destroy();
  });

  it('takes over a session: the old 5.0 connection gets DISCONNECT 0x8E [MQTT-3.1.4-3]', async () => {
    const old = await RawClient.connect(h.port, 5);
    await old.handshake('same');
    const fresh = await RawClient.connect(h.port, 5);
    await fresh.handshake('same');
    const d = await old.next('disconnect');
    expect((d as { reasonCode?: number }).reasonCode).toBe(0x8e);
    await old.waitClosed();
    fresh.destroy();
  });

  it('assigns a client id to an empty one (5.0) [MQTT-3.2.2-16]', async () => {
    const raw = await RawClient.connect(h.port, 5);
    const ack = await raw.handshake('');
    expect(ack.reasonCode).toBe(0);
    expect(ack.properties?.assignedClientIdentifier).toMatch(/^auto-/);
    raw.destroy();
  });

  it('refuses an empty client id without clean session on 3.1.1 (return code 2) [MQTT-3.1.3-8]', async () => {
    const raw = await RawClient.connect(h.port, 4);
    // CONNECT, level 4, flags 0 (clean session 0), keepalive 0, empty client id (mqtt-packet refuses to build it).
    raw.send(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]));
    expect(((await raw.next('connack')) as { returnCode?: number }).returnCode).toBe(2);
    await raw.waitClosed();
  });
});

describe('will messages', () => {
  it('publishes the will when the client is killed, not after DISCONNECT [MQTT-3.1.2-8] [MQTT-3.14.4-3]', async () => {
    const watcher = await connectClient(h.url, { clientId: 'watch' });
    await watcher.client.subscribeAsync('will/#', { qos: 1 });
    const killed = await RawClient.connect(h.port, 4);
    await killed.handshake('k', { will: { topic: 'will/k', payload: Buffer.from('gone'), qos: 1, retain: false } });
    const polite = await RawClient.connect(h.port, 4);
    await polite.handshake('p', { will: { topic: 'will/p', payload: Buffer.from('gone'), qos: 1, retain: false } });
    polite.send({ cmd: 'disconnect' });
    await polite.waitClosed();
    killed.destroy();
    const [m] = await watcher.waitFor(1);
    expect(m!.topic).toBe('will/k');
    // A later marker shows the polite client's will never came.
    const pub = await connectClient(h.url, { clientId: 'pub' });
    await pub.client.publishAsync('will/marker', 'm', { qos: 1 });
    expect((await watcher.waitFor(2)).map((x) => x.topic)).toEqual(['will/k', 'will/marker']);
    await pub.end();
    await watcher.end();
  });

  it('publishes the will on 5.0 DISCONNECT 0x04, retained when asked', async () => {
    const raw = await RawClient.connect(h.port, 5);
    await raw.handshake('w5', { will: { topic: 'lwt', payload: Buffer.from('bye'), qos: 1, retain: true } });
    raw.send({ cmd: 'disconnect', reasonCode: 0x04 });
    await raw.waitClosed();
    const sub = await connectClient(h.url, { clientId: 'late' });
    await sub.client.subscribeAsync('lwt', { qos: 1 });
    const [m] = await sub.waitFor(1);
    expect(m!.payload).toBe('bye');
    expect(m!.packet.retain).toBe(true);
    await sub.end();
  });

  it('publishes the will when keep alive expires (1.5 x) [MQTT-3.1.2-24]', async () => {
    const watcher = await connectClient(h.url, { clientId: 'watch' });
    await watcher.client.subscribeAsync('ka', { qos: 0 });
    const silent = await RawClient.connect(h.port, 4);
    await silent.handshake('silent', { keepalive: 1, will: { topic: 'ka', payload: Buffer.from('timeout'), qos: 0, retain: false } });
    await silent.waitClosed();
    const [m] = await watcher.waitFor(1);
    expect(m!.payload).toBe('timeout');
    await watcher.end();
  });

  it('delays the will (5.0 will delay) and drops it when the session resumes [MQTT-3.1.3-9]', async () => {
    const watcher = await connectClient(h.url, { clientId: 'watch' });
    await watcher.client.subscribeAsync('wd/#', { qos: 1 });
    const c = await RawClient.connect(h.port, 5);
    await c.handshake('wd', { clean: false, properties: { sessionExpiryInterval: 60 }, will: { topic: 'wd/x', payload: Buffer.from('late'), qos: 1, retain: false, properties: { willDelayInterval: 30 } } });
    c.destroy();
    await c.waitClosed();
    await new Promise<void>((resolve) => {
      const check = () => (h.adapter.pendingWills.has('wd') ? resolve() : setTimeout(check, 20));
      check();
    });
    const again = await RawClient.connect(h.port, 5);
    await again.handshake('wd', { clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(h.adapter.pendingWills.has('wd')).toBe(false);
    again.destroy();
    await watcher.end();
  });
});

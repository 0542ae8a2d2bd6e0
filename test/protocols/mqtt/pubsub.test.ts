import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectClient } from './clients.js';
import { startMqtt, type MqttHarness } from './harness.js';

let h: MqttHarness;
beforeEach(async () => { h = await startMqtt(); });
afterEach(async () => { await h.stop(); });

describe.each([4, 5] as const)('publish/subscribe with mqtt.js, protocol level %i', (protocolVersion) => {
  it.each([0, 1, 2] as const)('delivers QoS %i messages in order', async (qos) => {
    const sub = await connectClient(h.url, { protocolVersion, clientId: 'sub' });
    const pub = await connectClient(h.url, { protocolVersion, clientId: 'pub' });
    await sub.client.subscribeAsync('sensors/+/temp', { qos });
    for (let i = 0; i < 20; i++) await pub.client.publishAsync(`sensors/s${i % 3}/temp`, `m${i}`, { qos });
    const got = await sub.waitFor(20);
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(got.every((m) => m.packet.qos === qos)).toBe(true);
    await pub.end();
    await sub.end();
  });

  it('downgrades QoS to the subscription maximum [MQTT-3.8.4-8]', async () => {
    const sub = await connectClient(h.url, { protocolVersion, clientId: 'sub' });
    const pub = await connectClient(h.url, { protocolVersion, clientId: 'pub' });
    await sub.client.subscribeAsync('a/#', { qos: 1 });
    await pub.client.publishAsync('a/b', 'x', { qos: 2 });
    const [m] = await sub.waitFor(1);
    expect(m!.packet.qos).toBe(1);
    await pub.end();
    await sub.end();
  });

  it('keeps topics with dots intact (Sparkplug) and routes them by level', async () => {
    const sub = await connectClient(h.url, { protocolVersion, clientId: 'sub' });
    const pub = await connectClient(h.url, { protocolVersion, clientId: 'pub' });
    await sub.client.subscribeAsync('spBv1.0/+/NBIRTH/#', { qos: 1 });
    await sub.client.subscribeAsync('v1.2.3', { qos: 1 });
    await pub.client.publishAsync('spBv1.0/group1/NBIRTH/edge1', 'birth', { qos: 1 });
    await pub.client.publishAsync('spBv1.0/group1/NDATA/edge1', 'data', { qos: 1 });
    await pub.client.publishAsync('v1.2.3', 'ver', { qos: 1 });
    const got = await sub.waitFor(2);
    expect(got.map((m) => m.topic).sort()).toEqual(['spBv1.0/group1/NBIRTH/edge1', 'v1.2.3']);
    await pub.end();
    await sub.end();
  });

  it('does not match $SYS topics with a leading wildcard [MQTT-4.7.2-1]', async () => {
    const sub = await connectClient(h.url, { protocolVersion, clientId: 'sub' });
    await sub.client.subscribeAsync('#', { qos: 0 });
    await sub.client.subscribeAsync('$SYS/broker/version', { qos: 0 });
    h.adapter.publishSystem('$SYS/broker/version', 'v');
    const pub = await connectClient(h.url, { protocolVersion, clientId: 'pub' });
    await pub.client.publishAsync('plain', 'p', { qos: 1 });
    const got = await sub.waitFor(2);
    expect(got.map((m) => m.topic).sort()).toEqual(['$SYS/broker/version', 'plain']);
    await pub.end();
    await sub.end();
  });
});

describe('retained messages', () => {
  it('delivers every matching retained message to a wildcard subscription, RETAIN set [MQTT-3.3.1-6]', async () => {
    const pub = await connectClient(h.url, { clientId: 'pub' });
    await pub.client.publishAsync('home/a/temp', '1', { qos: 1, retain: true });
    await pub.client.publishAsync('home/b/temp', '2', { qos: 1, retain: true });
    await pub.client.publishAsync('home/b/temp', '3', { qos: 1, retain: true });
    await pub.client.publishAsync('other', 'x', { qos: 1, retain: true });
    const sub = await connectClient(h.url, { clientId: 'sub' });
    await sub.client.subscribeAsync('home/+/temp', { qos: 1 });
    const got = await sub.waitFor(2);
    expect(got.map((m) => `${m.topic}=${m.payload}`).sort()).toEqual(['home/a/temp=1', 'home/b/temp=3']);
    expect(got.every((m) => m.packet.retain)).toBe(true);
    await pub.end();
    await sub.end();
  });

  it('clears a retained message with an empty payload [MQTT-3.3.1-10]', async () => {
    const pub = await connectClient(h.url, { clientId: 'pub' });
    await pub.client.publishAsync('t', 'x', { qos: 1, retain: true });
    await pub.client.publishAsync('t', '', { qos: 1, retain: true });
    await pub.client.publishAsync('u', 'kept', { qos: 1, retain: true });
    const sub = await connectClient(h.url, { clientId: 'sub' });
    await sub.client.subscribeAsync(['t', 'u'], { qos: 1 });
    const got = await sub.waitFor(1);
    expect(got[0]!.topic).toBe('u');
    expect(h.adapter.retained.size).toBe(1);
    await pub.end();
    await sub.end();
  });

  it('forwards with RETAIN 0 to existing subscribers unless retain-as-published [MQTT-3.3.1-12]', async () => {
    const sub = await connectClient(h.url, { clientId: 'sub', protocolVersion: 5 });
    await sub.client.subscribeAsync('x', { qos: 1 });
    await sub.client.subscribeAsync('y', { qos: 1, rap: true });
    const pub = await connectClient(h.url, { clientId: 'pub' });
    await pub.client.publishAsync('x', '1', { qos: 1, retain: true });
    await pub.client.publishAsync('y', '2', { qos: 1, retain: true });
    const got = await sub.waitFor(2);
    expect(got.find((m) => m.topic === 'x')!.packet.retain).toBe(false);
    expect(got.find((m) => m.topic === 'y')!.packet.retain).toBe(true);
    await pub.end();
    await sub.end();
  });

  it('honours retain handling 1 (only new subscriptions) and 2 (never)', async () => {
    const pub = await connectClient(h.url, { clientId: 'pub' });
    await pub.client.publishAsync('r/1', 'a', { qos: 1, retain: true });
    const sub = await connectClient(h.url, { clientId: 'sub', protocolVersion: 5 });
    await sub.client.subscribeAsync('r/#', { qos: 1, rh: 2 });
    await sub.client.subscribeAsync('r/+', { qos: 1, rh: 1 });
    await sub.waitFor(1);
    await sub.client.subscribeAsync('r/+', { qos: 1, rh: 1 });
    // A marker message proves nothing else was queued before it.
    await pub.client.publishAsync('r/marker', 'm', { qos: 1 });
    const got = await sub.waitFor(2);
    expect(got.map((m) => m.payload)).toEqual(['a', 'm']);
    await pub.end();
    await sub.end();
  });
});

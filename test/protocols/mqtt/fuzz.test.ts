import net from 'node:net';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from './clients.js';
import { startMqtt, type MqttHarness } from './harness.js';

/**
 * Random and mutated packets from many connections at once: the broker stays up, every
 * hostile connection is cleaned up (no connection, session or queue left behind: memory is
 * bounded), and a well-behaved client keeps publishing and receiving throughout.
 */

let h: MqttHarness;
let good: TestClient;
beforeAll(async () => {
  h = await startMqtt({ maxPacketSize: 64 * 1024 });
  good = await connectClient(h.url, { clientId: 'good', protocolVersion: 5 });
  await good.client.subscribeAsync('good/#', { qos: 1 });
});
afterAll(async () => {
  await good.end();
  await h.stop();
});

const v = (n: 3 | 4 | 5) => ({ protocolVersion: n });
const seeds: Buffer[] = [
  mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'fz', clean: true, keepalive: 10, properties: { sessionExpiryInterval: 0, topicAliasMaximum: 5 } }, v(5)),
  mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'fz4', clean: false, keepalive: 0, will: { topic: 'fz/w', payload: Buffer.from('w'), qos: 1, retain: true } }, v(4)),
  mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'fz/+/#', qos: 2 }, { topic: '$share/g/fz', qos: 1 }] }, v(5)),
  mqttPacket.generate({ cmd: 'publish', topic: 'fz/a', payload: Buffer.from('p'), qos: 2, messageId: 3, dup: false, retain: true, properties: { topicAlias: 1, userProperties: { a: 'b' } } }, v(5)),
  mqttPacket.generate({ cmd: 'pubrel', messageId: 3 }, v(5)),
  mqttPacket.generate({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['fz/+/#'] }, v(5)),
  mqttPacket.generate({ cmd: 'pingreq' }, v(5)),
];

/** One hostile connection: a valid CONNECT (sometimes), then a stream of mutated and random packets. */
function hostile(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      for (const c of chunks) s.write(c);
      s.end();
    });
    s.on('data', () => undefined);
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }))
  .map(([seed, edits]) => {
    const b = Buffer.from(seed);
    for (const [at, value] of edits) b[at % b.length] = value;
    return b;
  });
const chunk = fc.oneof(mutated, fc.uint8Array({ maxLength: 100 }).map((u) => Buffer.from(u)), fc.constantFrom(...seeds));
const session = fc.tuple(fc.boolean(), fc.array(chunk, { maxLength: 12 }))
  .map(([connectFirst, rest]) => (connectFirst ? [seeds[0]!, ...rest] : rest));

describe('fuzz: hostile connections', () => {
  it('survives random and mutated packets from many connections while a good client keeps working', async () => {
    const batches = fc.sample(fc.array(session, { minLength: 40, maxLength: 40 }), { numRuns: 10, seed: 42 });
    let sent = 0;
    for (const batch of batches) {
      await Promise.all(batch.map((chunks) => hostile(h.port, chunks)));
      // The good client still publishes and receives between rounds.
      await good.client.publishAsync(`good/${sent}`, `g${sent}`, { qos: 1 });
      sent++;
      await good.waitFor(sent);
    }
    expect(good.received.map((m) => m.payload)).toEqual(Array.from({ length: sent }, (_, i) => `g${i}`));
    // Nothing of the hostile connections is left: only the good client is connected.
    await new Promise<void>((resolve) => {
      const check = () => (h.adapter.connectionCount() === 1 ? resolve() : setTimeout(check, 20));
      check();
    });
    expect(h.adapter.live.size).toBe(1);
    // Persistent sessions a fuzz CONNECT may have created are bounded by the client ids used (fz4 only).
    expect([...h.adapter.sessions.keys()].filter((id) => id !== 'good').every((id) => id === 'fz4')).toBe(true);
  });
});

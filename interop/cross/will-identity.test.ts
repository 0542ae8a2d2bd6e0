/**
 * An MQTT will message is published by the broker for the client: its user properties as the
 * client gave them in CONNECT, less forged `x-pb-origin-*` ones, for MQTT subscribers (native
 * bytes) and AMQP consumers alike (docs/mapping.md "Publisher identity").
 */
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { P, SPOOF } from './lib/probe.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

it('a will message reaches MQTT and AMQP consumers without the forged identity, other user properties exact', async () => {
  const url = `mqtt://127.0.0.1:${broker.ports.mqtt}`;
  const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
  const sub = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'will-sub', reconnectPeriod: 0 });
  try {
    const ch = await amqp.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', 'will.dev');
    const amqpGot = new Promise<amqplib.ConsumeMessage>((resolve) => void ch.consume(queue, (m) => m && resolve(m), { noAck: true }));
    const mqttGot = new Promise<mqtt.IPublishPacket>((resolve) => sub.on('message', (_t, _p, packet) => resolve(packet)));
    await sub.subscribeAsync('will/dev', { qos: 1 });

    const device = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: 'will-dev',
      reconnectPeriod: 0,
      will: { topic: 'will/dev', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { userProperties: { ...P.headers, ...SPOOF } } },
    });
    // Dropped without DISCONNECT: the broker publishes the will [MQTT-3.1.2-8].
    device.stream.destroy();

    const m = await mqttGot;
    expect(m.payload.toString()).toBe('gone');
    expect(m.properties?.userProperties).toEqual(P.headers);
    const a = await amqpGot;
    expect(a.content.toString()).toBe('gone');
    const headers = Object.fromEntries(Object.entries(a.properties.headers ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : String(v)]));
    expect(Object.keys(headers).filter((k) => k.startsWith('x-pb-origin-') && SPOOF[k] !== undefined && headers[k] === SPOOF[k])).toEqual([]);
    expect(headers).toMatchObject(P.headers);
  } finally {
    await sub.endAsync();
    await amqp.close();
  }
});

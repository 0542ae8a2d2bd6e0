import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

/**
 * The seam between MQTT and AMQP through amq.topic (docs/mqtt.md "Topic mapping" and
 * "Properties across protocols"), with stock clients: mqtt.js and amqplib.
 */
let broker: RunningBroker;
beforeAll(async () => { broker = await startBroker(); });
afterAll(async () => { await broker.stop(); });

describe('MQTT <-> AMQP through amq.topic', () => {
  it('an AMQP queue bound with the swapped key receives a Sparkplug MQTT publish, properties mapped', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', 'spBv1/0.*.NBIRTH.#');
    const got = new Promise<amqp.ConsumeMessage>((resolve) => void ch.consume(queue, (m) => m && resolve(m), { noAck: true }));
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
    await c.publishAsync('spBv1.0/group1/NBIRTH/edge1', 'birth', {
      qos: 1, properties: { contentType: 'application/x-sparkplug', correlationData: Buffer.from('c-1'), userProperties: { site: 'north' } },
    });
    const m = await got;
    expect(m.fields.routingKey).toBe('spBv1/0.group1.NBIRTH.edge1');
    expect(m.content.toString()).toBe('birth');
    expect(m.properties.contentType).toBe('application/x-sparkplug');
    expect(String(m.properties.correlationId)).toBe('c-1');
    expect(m.properties.headers?.site).toBe('north');
    expect(m.properties.deliveryMode).toBe(2);
    await c.endAsync();
    await conn.close();
  });

  it('an AMQP publish to amq.topic reaches an MQTT subscriber with the topic and properties mapped back', async () => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
    await new Promise<void>((resolve) => c.once('connect', () => resolve()));
    const got = new Promise<{ topic: string; payload: string; packet: mqtt.IPublishPacket }>((resolve) =>
      c.on('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), packet })));
    await c.subscribeAsync('plant/+/temp', { qos: 1 });
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createConfirmChannel();
    ch.publish('amq.topic', 'plant.v1/2.temp', Buffer.from('21.5'), {
      contentType: 'text/plain', replyTo: 'answers', headers: { unit: 'C' }, persistent: true,
    });
    await ch.waitForConfirms();
    const m = await got;
    expect(m.topic).toBe('plant/v1.2/temp');
    expect(m.payload).toBe('21.5');
    expect(m.packet.qos).toBe(1);
    expect(m.packet.properties?.contentType).toBe('text/plain');
    expect(m.packet.properties?.responseTopic).toBe('answers');
    expect(m.packet.properties?.userProperties).toMatchObject({ unit: 'C' });
    await conn.close();
    await c.endAsync();
  });
});

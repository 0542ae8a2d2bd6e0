import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

/**
 * AMQP ↔ MQTT through the core with stock clients on both sides (amqplib, MQTT.js v5):
 * what one protocol sets, the other reads in its own terms (ARCHITECTURE.md "Properties
 * across protocols"; MQTT topic a/b ↔ amq.topic routing key a.b).
 */
describe('AMQP ↔ MQTT 5', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('an AMQP publish to amq.topic reaches an MQTT 5 subscriber with its properties', async () => {
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, clientId: 'x-amqp-sub' });
    await sub.subscribeAsync('sensors/+/temp', { qos: 1 });
    const got = new Promise<{ topic: string; payload: Buffer; props: mqtt.IPublishPacket['properties'] }>((resolve) =>
      sub.on('message', (topic, payload, packet) => resolve({ topic, payload, props: packet.properties })),
    );
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createConfirmChannel();
    ch.publish('amq.topic', 'sensors.k1.temp', Buffer.from('21.5'), {
      contentType: 'text/plain', correlationId: 'c-7', replyTo: 'replies', headers: { unit: 'C' }, persistent: true,
    });
    await ch.waitForConfirms();
    const m = await got;
    expect(m.topic).toBe('sensors/k1/temp');
    expect(m.payload.toString()).toBe('21.5');
    expect(m.props?.contentType).toBe('text/plain');
    expect(Buffer.from(m.props?.correlationData ?? []).toString()).toBe('c-7');
    expect(m.props?.responseTopic).toBe('replies');
    expect(m.props?.userProperties).toMatchObject({ unit: 'C' });
    await sub.endAsync();
    await conn.close();
  });

  it('an MQTT 5 publish reaches an AMQP queue bound to amq.topic with mapped properties', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', 'orders.#');
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, clientId: 'x-amqp-pub' });
    await pub.publishAsync('orders/eu/1', 'order-1', {
      qos: 1,
      properties: { contentType: 'application/json', correlationData: Buffer.from('corr-1'), responseTopic: 'resp/1', userProperties: { tenant: 'acme' }, messageExpiryInterval: 60 },
    });
    let m: amqp.GetMessage | false = false;
    const deadline = Date.now() + 5000;
    while (!m && Date.now() < deadline) m = await ch.get(queue, { noAck: true });
    expect(m).toBeTruthy();
    const msg = m as amqp.GetMessage;
    expect(msg.content.toString()).toBe('order-1');
    expect(msg.fields.exchange).toBe('amq.topic');
    expect(msg.fields.routingKey).toBe('orders.eu.1');
    expect(msg.properties.contentType).toBe('application/json');
    expect(msg.properties.correlationId).toBe('corr-1');
    expect(msg.properties.replyTo).toBe('resp/1');
    expect(msg.properties.headers).toMatchObject({ tenant: 'acme' });
    expect(msg.properties.deliveryMode).toBe(2);
    expect(Number(msg.properties.expiration)).toBeGreaterThan(0);
    await pub.endAsync();
    await conn.close();
  });
});

import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';

// The broker wired to the real store and core: what a stop must keep and what a start must apply.
const started: RunningBroker[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((b) => b.stop()));
});

describe('broker with storage and core', () => {
  it('keeps the store in <dataDir>/store', async () => {
    const broker = await startBroker();
    started.push(broker);
    expect(existsSync(join(broker.dataDir, 'store'))).toBe(true);
    expect(broker.output()).toContain('storage and core open');
  });

  it('applies the vhosts definitions of the config at start', async () => {
    const broker = await startBroker({
      config: {
        vhosts: {
          '/': {
            exchanges: [{ name: 'events', type: 'topic' }],
            queues: [{ name: 'orders', durable: true }],
            bindings: [{ source: 'events', destination: 'orders', routingKey: 'order.#' }],
          },
        },
      },
    });
    started.push(broker);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.checkExchange('events');
      await ch.checkQueue('orders');
      ch.publish('events', 'order.created', Buffer.from('o1'));
      await ch.waitForConfirms();
      const got = await ch.get('orders', { noAck: true });
      expect(got && got.content.toString()).toBe('o1');
    } finally {
      await conn.close();
    }
  });

  it('keeps a confirmed persistent message across a SIGTERM stop and restart', async () => {
    const broker = await startBroker();
    started.push(broker);
    const url = () => `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`;
    const conn = await amqp.connect(url());
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('kept', { durable: true });
    ch.sendToQueue('kept', Buffer.from('survives'), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();

    expect(await broker.stop()).toBe(0);
    await broker.restart();

    const conn2 = await amqp.connect(url());
    try {
      const ch2 = await conn2.createChannel();
      const got = await ch2.get('kept', { noAck: true });
      expect(got && got.content.toString()).toBe('survives');
    } finally {
      await conn2.close();
    }
  });

  it("refuses to start, saying why, when a definition cannot be applied", async () => {
    const broker = await startBroker({
      config: { vhosts: { '/': { bindings: [{ source: 'no-such-exchange', destination: 'nowhere' }] } } },
    }).catch((err: Error) => err);
    expect(broker).toBeInstanceOf(Error);
    expect((broker as Error).message).toMatch(/exited with code 1 before it was ready/);
    expect((broker as Error).message).toContain("cannot apply the vhosts definitions of");
    expect((broker as Error).message).toContain("no queue 'nowhere' in vhost '/'");
  });

  it('stops with exit 0 while clients of every protocol are connected, closing them', async () => {
    const broker = await startBroker();
    started.push(broker);
    const amqpConn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const amqpClosed = new Promise<void>((resolve) => amqpConn.once('close', () => resolve()));
    amqpConn.on('error', () => {});
    const mqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { reconnectPeriod: 0 });
    const mqttClosed = new Promise<void>((resolve) => mqttClient.once('close', () => resolve()));
    mqttClient.on('error', () => {});
    const stomp = connect({ host: '127.0.0.1', port: broker.ports.stomp });
    const stompConnected = new Promise<void>((resolve) => stomp.once('data', () => resolve()));
    stomp.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
    await stompConnected;
    const stompClosed = new Promise<void>((resolve) => stomp.once('close', () => resolve()));
    stomp.on('error', () => {});
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'stop-test', logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.listTopics();

    expect(await broker.stop()).toBe(0);
    await Promise.all([amqpClosed, mqttClosed, stompClosed]);
    await admin.disconnect();
    mqttClient.end(true);
  });
});

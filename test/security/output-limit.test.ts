/**
 * limits.maxConnectionWriteBufferBytes (docs/security.md "Limits"): a client that keeps asking
 * for output without reading it is closed with its protocol's error before the broker buffers
 * more than the cap, and the broker keeps serving. Flow control does not hold these replies:
 * AMQP basic.get-ok on many channels at once, and pipelined Kafka Fetch responses. A STOMP
 * subscriber that stops reading is caught by the broker's per-second check of every connection.
 */
import amqp from 'amqplib';
import { Connection as KafkaConnection, fetchV12 } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';

// Below the adapters' own 1 MiB delivery pause, so that the per-second sweep is reached too (STOMP).
const CAP = 512 * 1024;
let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: { limits: { maxConnectionWriteBufferBytes: CAP }, kafka: { maxMessageBytes: 2 * 1024 * 1024 } } });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

/** amqplib's socket: paused, the client stops reading while it goes on sending. */
function socketOf(c: amqp.ChannelModel): NodeJS.ReadableStream {
  return (c.connection as unknown as { stream: NodeJS.ReadableStream }).stream;
}

describe('limits.maxConnectionWriteBufferBytes', () => {
  it('AMQP: a basic.get storm from a client that does not read gets connection.close 320 naming the limit; the broker keeps serving', async () => {
    const url = `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`;
    const setup = await amqp.connect(url);
    const ch = await setup.createConfirmChannel();
    await ch.assertQueue('get-storm', { durable: false });
    const body = Buffer.alloc(256 * 1024, 7);
    for (let i = 0; i < 100; i++) ch.sendToQueue('get-storm', body);
    await ch.waitForConfirms();

    const hostile = await amqp.connect(url);
    hostile.on('error', () => {});
    // amqplib reports a server's connection.close as the 'close' event's error.
    const closed = new Promise<Error>((resolve) => hostile.on('close', resolve));
    const channels = await Promise.all(Array.from({ length: 100 }, () => hostile.createChannel()));
    socketOf(hostile).pause();
    // 100 gets of 256 KiB in flight: 25 MiB of replies against a 512 KiB cap.
    for (const c of channels) {
      c.on('error', () => {});
      c.get('get-storm', { noAck: false }).catch(() => {});
    }
    await expect.poll(() => broker.output(), { timeout: 15_000 }).toContain('client not reading its output: closing the connection');
    socketOf(hostile).resume();
    const err = await closed;
    expect(err.message).toMatch(/320 \(CONNECTION-FORCED\)/);
    expect(err.message).toContain('limits.maxConnectionWriteBufferBytes');

    // The unacknowledged gets went back to the queue; the broker goes on.
    const q = await ch.checkQueue('get-storm');
    expect(q.messageCount).toBe(100);
    const m = await ch.get('get-storm', { noAck: true });
    expect(m && m.content.length).toBe(body.length);
    await setup.close();
  }, 30_000);

  it('Kafka: a Fetch storm from a client that does not read has its connection closed; the broker keeps serving', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'storm-setup', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const value = Buffer.alloc(512 * 1024, 3);
    for (let i = 0; i < 4; i++) await producer.send({ topic: 'fetch-storm', messages: [{ value }] });

    const hostile = new KafkaConnection('fetch-storm', { maxInflights: 200 });
    await hostile.connect('127.0.0.1', broker.ports.kafka);
    const closed = new Promise<void>((resolve) => hostile.socket.once('close', () => resolve()));
    hostile.socket.pause();
    // 64 Fetches of up to 2 MiB each, pipelined: 128 MiB of responses against a 512 KiB cap.
    const part = { partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 2 * 1024 * 1024 };
    for (let i = 0; i < 64; i++) fetchV12.api.async(hostile, 0, 1, 2 * 1024 * 1024, 0, 0, -1, [{ topicId: 'fetch-storm', partitions: [part] }], [], '').catch(() => {});
    await expect.poll(() => broker.output(), { timeout: 15_000 }).toContain('client not reading its responses: closing the connection');
    hostile.socket.resume();
    await closed;

    const consumer = kafka.consumer({ groupId: 'storm-after' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'fetch-storm', fromBeginning: true });
    let got = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async () => {
          if (++got === 4) resolve();
        },
      });
    });
    await consumer.disconnect();
    await producer.disconnect();
    await hostile.close().catch(() => {});
  }, 60_000);

  it('STOMP: a subscriber that stops reading gets an ERROR naming the limit (the per-second check), and the broker keeps serving', async () => {
    const amqpConn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await amqpConn.createConfirmChannel();
    await ch.assertQueue('stomp-slow', { durable: false });
    const body = Buffer.alloc(64 * 1024, 5);
    // 25 MiB: more than the loopback socket buffers hold, so output waits in the broker.
    for (let i = 0; i < 400; i++) ch.sendToQueue('stomp-slow', body);
    await ch.waitForConfirms();

    const s = createConnection(broker.ports.stomp, '127.0.0.1');
    let tail = '';
    s.on('data', (d: Buffer) => (tail = (tail + d.toString('latin1')).slice(-8192)));
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
    await expect.poll(() => tail.includes('CONNECTED')).toBe(true);
    s.pause();
    s.write('SUBSCRIBE\nid:1\ndestination:/queue/stomp-slow\nack:client-individual\n\n\0');
    await expect.poll(() => broker.output(), { timeout: 15_000 }).toContain('closed a connection that stopped reading');
    s.resume();
    await closed;
    expect(tail).toContain('message:Output limit');
    expect(tail).toContain('limits.maxConnectionWriteBufferBytes');

    // Unacknowledged deliveries went back to the queue.
    await expect.poll(async () => (await ch.checkQueue('stomp-slow')).messageCount, { timeout: 10_000 }).toBe(400);
    await amqpConn.close();
  }, 30_000);
});

import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqpServer, type AmqpServer } from './harness.js';

// RabbitMQ 3.10 (observed with pika against 3.10.8) sends connection.blocked only to a connection
// that publishes while an alarm is raised, and connection.unblocked only to those it blocked. A
// consumer-only connection is never told: pika's blocked_connection_timeout would drop it.

describe('AMQP connection.blocked goes to publishing connections only', () => {
  let server: AmqpServer;
  beforeAll(async () => {
    server = await startAmqpServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('blocks the publisher, not the consumer nor a connection opened during the alarm', async () => {
    const consumer = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
    const publisher = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
    const events: string[] = [];
    for (const [name, c] of [['consumer', consumer], ['publisher', publisher]] as const) {
      c.on('blocked', (reason: string) => events.push(`${name} blocked: ${reason}`));
      c.on('unblocked', () => events.push(`${name} unblocked`));
    }
    const cch = await consumer.createChannel();
    const { queue } = await cch.assertQueue('', { exclusive: true });
    const got = new Promise<string>((resolve) => {
      void cch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true });
    });
    const pch = await publisher.createChannel();

    server.core.setAlarm('memory', true);
    // A round trip on the consumer's connection: a notice sent at the alarm would come before its reply.
    await cch.checkQueue(queue);
    const late = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
    late.on('blocked', () => events.push('late blocked'));
    await (await late.createChannel()).checkExchange('amq.direct');
    expect(events).toEqual([]);

    const blocked = new Promise<void>((resolve) => publisher.once('blocked', () => resolve()));
    pch.sendToQueue(queue, Buffer.from('during the alarm'));
    await blocked;
    expect(events).toEqual(['publisher blocked: low on memory']);

    const unblocked = new Promise<void>((resolve) => publisher.once('unblocked', () => resolve()));
    server.core.setAlarm('memory', false);
    await unblocked;
    expect(await got).toBe('during the alarm');
    await cch.checkQueue(queue);
    expect(events).toEqual(['publisher blocked: low on memory', 'publisher unblocked']);
    await Promise.all([consumer.close(), publisher.close(), late.close()]);
  });

  it('names every raised alarm in the reason, as RabbitMQ joins them', async () => {
    const publisher = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
    const ch = await publisher.createChannel();
    server.core.setAlarm('memory', true);
    server.core.setAlarm('disk', true);
    const reason = new Promise<string>((resolve) => publisher.once('blocked', resolve));
    ch.publish('', 'nowhere', Buffer.from('x'));
    expect(await reason).toBe('low on memory & low on disk');
    const unblocked = new Promise<void>((resolve) => publisher.once('unblocked', () => resolve()));
    server.core.setAlarm('memory', false);
    server.core.setAlarm('disk', false);
    await unblocked;
    await publisher.close();
  });
});

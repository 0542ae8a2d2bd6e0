import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqpServer, type AmqpServer } from './harness.js';

// Differences from RabbitMQ 3.10 found by probing with pika beside pika's acceptance suite.

const url = (s: AmqpServer) => `amqp://guest:guest@127.0.0.1:${s.port}`;

/** The channel error a call ends in: amqplib rejects with the close's code and text. */
async function channelError(run: (ch: amqp.Channel) => Promise<unknown>, conn: amqp.ChannelModel): Promise<{ code: number; message: string }> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  const e = (await run(ch).then(
    () => ({ code: 0, message: 'no error' }),
    (err: { code: number; message: string }) => err,
  )) as { code: number; message: string };
  return { code: e.code, message: e.message };
}

describe('AMQP direct reply-to declares and system exchange deletion (as RabbitMQ 3.10)', () => {
  let server: AmqpServer;
  let conn: amqp.ChannelModel;
  beforeAll(async () => {
    server = await startAmqpServer();
    conn = await amqp.connect(url(server));
  });
  afterAll(async () => {
    await conn.close();
    await server.close();
  });

  it('a declare of the reply-to pseudo-queue reports one consumer', async () => {
    const ch = await conn.createChannel();
    expect(await ch.checkQueue('amq.rabbitmq.reply-to')).toEqual({ queue: 'amq.rabbitmq.reply-to', messageCount: 0, consumerCount: 1 });
    await ch.close();
  });

  it("a requester's reply name exists while its consumer lives, then is 404", async () => {
    const requester = await amqp.connect(url(server));
    const rch = await requester.createChannel();
    await rch.consume('amq.rabbitmq.reply-to', () => {}, { noAck: true });
    const sch = await conn.createChannel();
    const { queue } = await sch.assertQueue('', { exclusive: true });
    rch.sendToQueue(queue, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to' });
    const request = await new Promise<amqp.ConsumeMessage>((resolve) => {
      void sch.consume(queue, (m) => m && resolve(m), { noAck: true });
    });
    const replyTo = request.properties.replyTo as string;
    expect(replyTo.startsWith('amq.rabbitmq.reply-to.')).toBe(true);
    // An RPC server checks that its requester is still there before working for it.
    expect(await sch.checkQueue(replyTo)).toEqual({ queue: replyTo, messageCount: 0, consumerCount: 1 });
    // Every declare of such a name is passive in RabbitMQ, whatever its flags.
    expect(await sch.assertQueue(replyTo, { durable: true })).toEqual({ queue: replyTo, messageCount: 0, consumerCount: 1 });
    await sch.close();
    await requester.close();
    expect(await channelError((ch) => ch.checkQueue(replyTo), conn)).toEqual({
      code: 404,
      message: expect.stringContaining(`NOT_FOUND - no queue '${replyTo}' in vhost '/'`),
    });
  });

  it('an unknown reply name is 404, not the 403 of a reserved amq. name', async () => {
    for (const name of ['amq.rabbitmq.reply-to.no-such-token', 'amq.rabbitmq.reply-tox']) {
      expect(await channelError((ch) => ch.assertQueue(name), conn)).toEqual({
        code: 404,
        message: expect.stringContaining(`NOT_FOUND - no queue '${name}' in vhost '/'`),
      });
    }
  });

  it('refuses to delete any amq.* exchange, existing or not, in RabbitMQ words', async () => {
    for (const name of ['amq.direct', 'amq.no-such-exchange']) {
      expect(await channelError((ch) => ch.deleteExchange(name), conn)).toEqual({
        code: 403,
        message: expect.stringContaining(`ACCESS_REFUSED - deletion of system exchange '${name}' in vhost '/' not allowed`),
      });
    }
    const ch = await conn.createChannel();
    await ch.checkExchange('amq.direct');
    await ch.close();
  });
});

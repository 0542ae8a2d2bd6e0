import amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAmqpServer, type AmqpServer } from './harness.js';

let server: AmqpServer;
beforeAll(async () => {
  server = await startAmqpServer();
  await server.core.declareVhost('lim', { limits: { maxQueues: 1 } });
  await server.core.users.setPermissions('guest', 'lim', { configure: '.*', write: '.*', read: '.*' });
});
afterAll(async () => {
  await server?.close();
});

it("a queue past the vhost's max-queues closes the channel with 406, as RabbitMQ, and the connection stays", async () => {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}/lim`);
  let connectionClosed = false;
  conn.on('close', () => (connectionClosed = true));
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await ch.assertQueue('first', { durable: false });
    await expect(ch.assertQueue('second', { durable: false })).rejects.toThrow(
      `406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - cannot declare queue 'second': queue limit in vhost 'lim' (1) is reached"`,
    );
    const again = await conn.createChannel();
    expect((await again.checkQueue('first')).queue).toBe('first');
    expect(connectionClosed).toBe(false);
  } finally {
    await conn.close();
  }
});

import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqpServer, type AmqpServer } from './harness.js';

/**
 * Message TTL and x-expires act at their deadline, as in RabbitMQ, not at the next periodic
 * sweep: the sweep is set to a minute here, so only the queue's own deadline timer can act.
 */
let server: AmqpServer;
beforeAll(async () => {
  server = await startAmqpServer({}, { sweepIntervalMs: 60_000 });
});
afterAll(async () => {
  await server?.close();
});

async function turnsUntil(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('deadlines', () => {
  it('an unused queue with x-expires is deleted when it expires', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('expires-soon', { durable: false, expires: 200 });
      await ch.assertQueue('expires-later', { durable: false, expires: 3_600_000 });
      await turnsUntil(() => server.core.vhost('/').queue('expires-soon') === null);
      expect(server.core.vhost('/').queue('expires-later')).not.toBeNull();
    } finally {
      await conn.close();
    }
  });

  it('a message whose TTL passes at the head is dead-lettered then', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('ttl-dlq', { durable: false });
      await ch.assertQueue('ttl-src', { durable: false, messageTtl: 100, deadLetterExchange: '', deadLetterRoutingKey: 'ttl-dlq' });
      ch.sendToQueue('ttl-src', Buffer.from('first'));
      ch.sendToQueue('ttl-src', Buffer.from('second'));
      await turnsUntil(() => server.core.vhost('/').queue('ttl-dlq')!.messageCount === 2);
      expect(server.core.vhost('/').queue('ttl-src')!.messageCount).toBe(0);
      const m = await ch.get('ttl-dlq', { noAck: true });
      expect(m && m.content.toString()).toBe('first');
      expect(m && (m.properties.headers?.['x-death'] as { reason: string }[])[0]!.reason).toBe('expired');
    } finally {
      await conn.close();
    }
  });
});

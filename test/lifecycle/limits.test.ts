import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';

// The `limits:` section reaches the core's alarms and message-size limit in a real broker.
const started: RunningBroker[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((b) => b.stop()));
});

/**
 * As RabbitMQ, connection.blocked answers a publish made while an alarm is raised: publish, with
 * a round trip after each, until it comes (the alarm is raised at the broker's first check).
 */
async function publishUntilBlocked(conn: amqp.ChannelModel): Promise<string> {
  const ch = await conn.createChannel();
  const blocked = new Promise<string>((resolve) => conn.once('blocked', resolve));
  for (;;) {
    ch.publish('', 'limits-no-such-queue', Buffer.from('x'));
    const r = await Promise.race([ch.checkExchange('amq.direct').then(() => null), blocked]);
    if (r !== null) return r;
  }
}

describe('limits section', () => {
  it('blocks AMQP publishers with connection.blocked when RSS is over limits.memoryHighWatermarkBytes', async () => {
    const broker = await startBroker({ config: { limits: { memoryHighWatermarkBytes: 1 } } });
    started.push(broker);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const reason = await publishUntilBlocked(conn);
      expect(reason).toMatch(/memory/i);
    } finally {
      await conn.close();
    }
  });

  it('blocks AMQP publishers with connection.blocked when free disk is under limits.diskFreeLimitBytes', async () => {
    // No disk has this much free space: the disk alarm is raised at the first check.
    const broker = await startBroker({ config: { limits: { diskFreeLimitBytes: Number.MAX_SAFE_INTEGER } } });
    started.push(broker);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const reason = await publishUntilBlocked(conn);
      expect(reason).toMatch(/disk/i);
    } finally {
      await conn.close();
    }
  });

  it('refuses a body larger than limits.maxMessageBytes and keeps smaller ones', async () => {
    const broker = await startBroker({ config: { limits: { maxMessageBytes: 1000 } } });
    started.push(broker);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const ch = await conn.createConfirmChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(queue, Buffer.alloc(1000));
      await ch.waitForConfirms();
      const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
      ch.sendToQueue(queue, Buffer.alloc(1001));
      const err = (await closed) as Error & { code?: number };
      expect(err.code).toBe(406);
      const check = await conn.createChannel();
      expect((await check.checkQueue(queue)).messageCount).toBe(1);
    } finally {
      await conn.close();
    }
  });
});

import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

/** The `amqp:` section of polybroker.yaml reaches the adapter in the real broker process. */
describe('amqp config section', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({
      config: {
        amqp: {
          heartbeat: 7,
          frameMax: 65536,
          channelMax: 16,
          users: [{ username: 'app', password: 's3cret', permissions: { '/': { configure: '^app-.*', write: '^app-.*|amq\\.default', read: '^app-.*' } } }],
        },
      },
    });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('negotiates the configured tune values and authenticates configured users with their permissions', async () => {
    // amqplib asks for more than the server offers and settles on the server's limits
    const c = await amqp.connect(`amqp://app:s3cret@127.0.0.1:${broker.ports.amqp}?frameMax=131072&channelMax=100`);
    const tuned = (c as unknown as { connection: { frameMax: number; channelMax: number; heartbeat: number } }).connection;
    expect(tuned.frameMax).toBe(65536);
    expect(tuned.channelMax).toBe(16);
    const ch = await c.createChannel();
    ch.on('error', () => {});
    await ch.assertQueue('app-q', { durable: false });
    await expect(ch.assertQueue('other', { durable: false })).rejects.toThrow(/403/);
    await c.close();
  });
});

import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqplibOnOwnServer } from './harness.js';

// RabbitMQ 3.10 quorum queues stamp x-delivery-count (observed with pika against 3.10.8): every
// basic.get-ok carries it (0 the first time); a basic.deliver only once the message was returned.

describe('AMQP quorum queues: x-delivery-count', () => {
  const { conn } = amqplibOnOwnServer();

  async function getOne(ch: amqp.Channel, q: string): Promise<amqp.GetMessage> {
    for (;;) {
      const m = await ch.get(q);
      if (m) return m;
    }
  }

  it('counts earlier deliveries on get, and on deliver once returned; publisher headers are kept', async () => {
    const ch = await conn().createChannel();
    const q = 'qq-delivery-count';
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    ch.sendToQueue(q, Buffer.from('x'), { headers: { a: 1 } });

    let m = await getOne(ch, q);
    expect(m.properties.headers).toEqual({ a: 1, 'x-delivery-count': 0 });
    expect(m.fields.redelivered).toBe(false);
    ch.nack(m, false, true);
    m = await getOne(ch, q);
    expect(m.properties.headers).toEqual({ a: 1, 'x-delivery-count': 1 });
    ch.reject(m, true);

    const delivered = new Promise<amqp.ConsumeMessage>((resolve) => {
      void ch.consume(q, (d) => d && resolve(d), { noAck: true });
    });
    const d = await delivered;
    expect(d.properties.headers).toEqual({ a: 1, 'x-delivery-count': 2 });
    expect(d.fields.redelivered).toBe(true);
    await ch.deleteQueue(q);
    await ch.close();
  });

  it('a first delivery to a consumer has no count; classic queues never get one', async () => {
    const ch = await conn().createChannel();
    const qq = 'qq-first-deliver';
    await ch.assertQueue(qq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    ch.sendToQueue(qq, Buffer.from('x'));
    const first = await new Promise<amqp.ConsumeMessage>((resolve) => {
      void ch.consume(qq, (d) => d && resolve(d), { noAck: true });
    });
    expect(first.properties.headers ?? {}).toEqual({});

    const { queue: cq } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(cq, Buffer.from('y'));
    const c1 = await getOne(ch, cq);
    ch.nack(c1, false, true);
    const c2 = await getOne(ch, cq);
    expect(c2.fields.redelivered).toBe(true);
    expect(c2.properties.headers ?? {}).toEqual({});
    await ch.deleteQueue(qq);
    await ch.close();
  });
});

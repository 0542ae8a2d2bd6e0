import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqplib from 'amqplib';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { collect, connectStompit, disconnect, frameWithReceipt, sendWithReceipt } from './lib/stompit-client.js';
import { deferred, within, type StompTarget } from './lib/target.js';

/**
 * The property table of ARCHITECTURE.md across the STOMP/AMQP seam, with stock clients on both
 * sides (stompit, amqplib) against the real broker: what one protocol sets, the other reads in
 * its own terms.
 */
let broker: RunningBroker;
let target: StompTarget;
beforeAll(async () => {
  broker = await startBroker();
  target = { name: 'polybroker', host: '127.0.0.1', port: broker.ports.stomp, vhost: '/', login: 'guest', passcode: 'guest' };
});
afterAll(async () => {
  await broker?.stop();
});

describe('STOMP ↔ AMQP 0-9-1', () => {
  it('STOMP SEND headers arrive as AMQP properties and headers', async () => {
    const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const ch = await amqp.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, 'amq.topic', 'cross.stomp.to.amqp');
      const got = deferred<amqplib.ConsumeMessage>();
      await ch.consume(queue, (m) => m && got.resolve(m), { noAck: true });
      const s = await connectStompit(target);
      await sendWithReceipt(
        s.client,
        {
          destination: '/topic/cross.stomp.to.amqp',
          'content-type': 'application/json',
          'correlation-id': 'c-42',
          'reply-to': '/queue/answers',
          persistent: 'true',
          priority: '7',
          'x-tenant': 'acme',
        },
        '{"n":1}',
      );
      await disconnect(s);
      const m = await within(got.promise, 10_000, 'AMQP delivery');
      expect(m.content.toString()).toBe('{"n":1}');
      expect(m.fields.exchange).toBe('amq.topic');
      expect(m.fields.routingKey).toBe('cross.stomp.to.amqp');
      expect(m.properties.contentType).toBe('application/json');
      expect(m.properties.correlationId).toBe('c-42');
      expect(m.properties.replyTo).toBe('/queue/answers');
      expect(m.properties.deliveryMode).toBe(2);
      expect(m.properties.priority).toBe(7);
      expect(m.properties.headers?.['x-tenant']).toBe('acme');
    } finally {
      await amqp.close();
    }
  });

  it('AMQP properties and headers arrive as STOMP headers', async () => {
    const s = await connectStompit(target);
    const sub = collect(s.client, { destination: '/topic/cross.amqp.to.stomp', id: 'x' });
    await frameWithReceipt(s.client, 'SUBSCRIBE', { destination: '/topic/cross.barrier', id: 'b' });
    const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const ch = await amqp.createConfirmChannel();
      ch.publish('amq.topic', 'cross.amqp.to.stomp', Buffer.from('hello'), {
        contentType: 'text/plain',
        correlationId: 'corr-1',
        messageId: 'm-1',
        priority: 3,
        persistent: true,
        headers: { 'x-count': 5, 'x-name': 'n' },
      });
      await ch.waitForConfirms();
      const [m] = await sub.next(1);
      expect(m!.body.toString()).toBe('hello');
      expect(m!.headers).toMatchObject({
        destination: '/topic/cross.amqp.to.stomp',
        'content-type': 'text/plain',
        'correlation-id': 'corr-1',
        'amqp-message-id': 'm-1',
        priority: '3',
        persistent: 'true',
        'x-count': '5',
        'x-name': 'n',
      });
    } finally {
      await amqp.close();
      await disconnect(s);
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { collector, msg, openCore, session, settle, type Fixture } from './fixture.js';

/** Publisher flow control (src/core/publisher-flow.ts) with a backlog mark of 10 messages. */
describe('publisher flow control', () => {
  let f: Fixture;
  afterEach(() => f.close());

  async function setUp(consumer: { noAck: boolean; prefetch?: number }) {
    f = await openCore({ flowControlBacklog: 10 });
    const pub = session(f.core);
    const sub = session(f.core);
    await pub.conn.vhost.declareQueue('q');
    const c = collector();
    sub.ch.consume('q', { noAck: consumer.noAck, prefetch: consumer.prefetch ?? 0, onDelivery: c.onDelivery });
    return { pub, sub, c, q: () => pub.conn.vhost.queue('q')! };
  }

  function publishUntilThrottled(ch: { publish: (e: string, k: string, m: ReturnType<typeof msg>) => unknown }, conn: { throttled: boolean }, max: number): number {
    let n = 0;
    while (!conn.throttled && n < max) ch.publish('', 'q', msg(`m${n++}`));
    return n;
  }

  it('throttles a publisher while its queue backs up behind a consumer waiting on its socket, until it is down to half', async () => {
    const { pub, sub, c, q } = await setUp({ noAck: true });
    sub.ch.setFlow(false); // the adapter's socket is full
    const published = publishUntilThrottled(pub.ch, pub.conn, 100);
    expect(published).toBe(10);
    expect(pub.conn.throttled).toBe(true);
    expect(q().messageCount).toBe(10);
    let resumed = false;
    void pub.conn.whenUnthrottled().then(() => (resumed = true));
    sub.ch.setFlow(true); // drained: the queue delivers everything
    await settle();
    expect(c.deliveries).toHaveLength(10);
    expect(resumed).toBe(true);
    expect(pub.conn.throttled).toBe(false);
  });

  it('does not throttle for a consumer out of credit (its queue grows, as in RabbitMQ)', async () => {
    const { pub, c, q } = await setUp({ noAck: false, prefetch: 5 });
    for (let i = 0; i < 50; i++) pub.ch.publish('', 'q', msg(`m${i}`));
    await settle();
    expect(c.deliveries).toHaveLength(5);
    expect(q().messageCount).toBe(45);
    expect(pub.conn.throttled).toBe(false);
  });

  it('never throttles a connection that also consumes (its acks must be read)', async () => {
    const { sub } = await setUp({ noAck: true });
    sub.ch.setFlow(false);
    for (let i = 0; i < 50; i++) sub.ch.publish('', 'q', msg(`m${i}`));
    expect(sub.conn.throttled).toBe(false);
  });

  it('lets go of its publishers when the queue delivers nothing, and stops throttling until it delivers again', async () => {
    const { pub, sub, q } = await setUp({ noAck: true });
    sub.ch.setFlow(false); // a client that stopped reading
    publishUntilThrottled(pub.ch, pub.conn, 100);
    expect(pub.conn.throttled).toBe(true);
    await pub.conn.whenUnthrottled(); // the stall check, not a drain
    expect(q().messageCount).toBe(10);
    for (let i = 0; i < 50; i++) pub.ch.publish('', 'q', msg(`more${i}`));
    expect(pub.conn.throttled).toBe(false);
    expect(q().messageCount).toBe(60);
    sub.ch.setFlow(true);
    await settle();
    expect(q().messageCount).toBe(0);
    sub.ch.setFlow(false);
    expect(publishUntilThrottled(pub.ch, pub.conn, 100)).toBe(10); // delivering again: throttles again
  });

  it('releases the publishers of a queue that is deleted or loses its consumer, and of a closed connection', async () => {
    const { pub, sub } = await setUp({ noAck: true });
    sub.ch.setFlow(false);
    publishUntilThrottled(pub.ch, pub.conn, 100);
    await pub.conn.vhost.deleteQueue('q');
    await pub.conn.whenUnthrottled();
    expect(pub.conn.throttled).toBe(false);

    await pub.conn.vhost.declareQueue('q');
    const c2 = collector();
    const { consumerTag } = sub.ch.consume('q', { noAck: true, onDelivery: c2.onDelivery });
    publishUntilThrottled(pub.ch, pub.conn, 100);
    expect(pub.conn.throttled).toBe(true);
    sub.ch.cancel(consumerTag);
    await pub.conn.whenUnthrottled();

    const other = session(f.core);
    sub.ch.consume('q', { noAck: true, onDelivery: c2.onDelivery });
    publishUntilThrottled(other.ch, other.conn, 100);
    expect(other.conn.throttled).toBe(true);
    const released = other.conn.whenUnthrottled();
    await other.conn.close();
    await released;
  });

  it('is off with a backlog mark of 0', async () => {
    f = await openCore({ flowControlBacklog: 0 });
    const pub = session(f.core);
    const sub = session(f.core);
    await pub.conn.vhost.declareQueue('q');
    sub.ch.consume('q', { noAck: true, onDelivery: () => {} });
    sub.ch.setFlow(false);
    for (let i = 0; i < 5000; i++) pub.ch.publish('', 'q', msg(`m${i}`));
    expect(pub.conn.throttled).toBe(false);
  });
});

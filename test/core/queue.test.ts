import { describe, expect, it } from 'vitest';
import { AccessRefused, PreconditionFailed, type Delivery, type HeaderTable } from '../../src/core/index.js';
import { collector, msg, openCore, session, settle } from './fixture.js';

async function setup(args: Record<string, unknown> = {}, name = 'q') {
  const f = await openCore();
  const s = session(f.core);
  await s.conn.vhost.declareQueue(name, { durable: true, arguments: args }, s.conn.id);
  const publish = (...bodies: string[]) => {
    for (const b of bodies) s.ch.publish('', name, msg(b, { persistent: true }));
  };
  return { f, ...s, vh: s.conn.vhost, publish };
}

function deathOf(d: Delivery): Record<string, unknown> {
  const xd = d.message.headers.find((h) => h.name === 'x-death')!.value as HeaderTable[];
  return Object.fromEntries(xd[0]!.entries.map((e) => [e.name, e.value]));
}

describe('competing consumers', () => {
  it('round-robins between consumers fairly', async () => {
    const { ch, publish } = await setup();
    const a = collector();
    const b = collector();
    ch.consume('q', { onDelivery: a.onDelivery, noAck: true });
    ch.consume('q', { onDelivery: b.onDelivery, noAck: true });
    publish('1', '2', '3', '4', '5', '6');
    await settle();
    expect(a.bodies()).toEqual(['1', '3', '5']);
    expect(b.bodies()).toEqual(['2', '4', '6']);
  });

  it('limits unacked deliveries per consumer (prefetch) and continues on ack', async () => {
    const { ch, publish } = await setup();
    const a = collector();
    ch.consume('q', { onDelivery: a.onDelivery, prefetch: 2 });
    publish('1', '2', '3', '4');
    await settle();
    expect(a.bodies()).toEqual(['1', '2']);
    ch.ack(a.deliveries[1]!.deliveryTag, true);
    await settle();
    expect(a.bodies()).toEqual(['1', '2', '3', '4']);
  });

  it('shares a global credit across the consumers of a channel (qos global)', async () => {
    const { ch, vh, publish } = await setup();
    await vh.declareQueue('q2');
    ch.qos(3, true);
    const a = collector();
    const b = collector();
    ch.consume('q', { onDelivery: a.onDelivery });
    ch.consume('q2', { onDelivery: b.onDelivery });
    publish('1', '2', '3', '4');
    for (const x of ['a', 'b', 'c']) ch.publish('', 'q2', msg(x));
    await settle();
    expect(a.deliveries.length + b.deliveries.length).toBe(3);
    ch.ack(0, true);
    await settle();
    expect(a.deliveries.length + b.deliveries.length).toBe(6);
  });

  it('qos(n, false) sets the prefetch of consumers started afterwards', async () => {
    const { ch, publish } = await setup();
    ch.qos(1);
    const a = collector();
    ch.consume('q', { onDelivery: a.onDelivery });
    publish('1', '2');
    await settle();
    expect(a.bodies()).toEqual(['1']);
  });

  it('pauses deliveries while flow is off', async () => {
    const { ch, publish } = await setup();
    const a = collector();
    ch.consume('q', { onDelivery: a.onDelivery, noAck: true });
    ch.setFlow(false);
    publish('1');
    await settle();
    expect(a.deliveries).toHaveLength(0);
    ch.setFlow(true);
    await settle();
    expect(a.bodies()).toEqual(['1']);
  });

  it('gives messages to the highest-priority consumer with credit', async () => {
    const { ch, publish } = await setup();
    const lo = collector();
    const hi = collector();
    ch.consume('q', { onDelivery: lo.onDelivery, priority: 1 });
    ch.consume('q', { onDelivery: hi.onDelivery, priority: 5, prefetch: 2 });
    publish('1', '2', '3');
    await settle();
    expect(hi.bodies()).toEqual(['1', '2']);
    expect(lo.bodies()).toEqual(['3']);
  });

  it('an exclusive consumer refuses others and needs an idle queue', async () => {
    const { ch } = await setup();
    ch.consume('q', { onDelivery: () => {}, exclusive: true });
    expect(() => ch.consume('q', { onDelivery: () => {} })).toThrow(AccessRefused);
    const { ch: ch2 } = await setup();
    ch2.consume('q', { onDelivery: () => {} });
    expect(() => ch2.consume('q', { onDelivery: () => {}, exclusive: true })).toThrow(AccessRefused);
  });

  it('single active consumer: only one receives, the next takes over on cancel', async () => {
    const { ch, publish } = await setup({ 'x-single-active-consumer': true });
    const a = collector();
    const b = collector();
    const changes: string[] = [];
    const ta = ch.consume('q', { onDelivery: a.onDelivery, noAck: true, onActiveChange: (x) => changes.push(`a${x}`) });
    const tb = ch.consume('q', { onDelivery: b.onDelivery, noAck: true, onActiveChange: (x) => changes.push(`b${x}`) });
    expect(ta.active).toBe(true);
    expect(tb.active).toBe(false);
    publish('1', '2');
    await settle();
    expect(a.bodies()).toEqual(['1', '2']);
    ch.cancel(ta.consumerTag);
    publish('3');
    await settle();
    expect(b.bodies()).toEqual(['3']);
    expect(changes).toEqual(['btrue']);
  });
});

describe('acks', () => {
  it('nack with requeue puts the message back at the head, redelivered, with a higher delivery count', async () => {
    const { ch, publish } = await setup();
    publish('1', '2', '3');
    const a = collector();
    ch.consume('q', { onDelivery: a.onDelivery, prefetch: 1 });
    await settle();
    expect(a.deliveries[0]).toMatchObject({ redelivered: false, deliveryCount: 0 });
    ch.nack(a.deliveries[0]!.deliveryTag, false, true);
    await settle();
    expect(a.bodies()).toEqual(['1', '1']);
    expect(a.deliveries[1]).toMatchObject({ redelivered: true, deliveryCount: 1 });
  });

  it('ack/nack multiple cover every earlier delivery; unknown tags fail', async () => {
    const { ch, vh, publish } = await setup();
    publish('1', '2', '3', '4');
    const a = collector();
    ch.consume('q', { onDelivery: a.onDelivery });
    await settle();
    ch.ack(a.deliveries[1]!.deliveryTag, true);
    expect(vh.queue('q')!.unackedCount).toBe(2);
    ch.nack(a.deliveries[3]!.deliveryTag, true, false);
    expect(vh.queue('q')!.unackedCount).toBe(0);
    expect(vh.queue('q')!.messageCount).toBe(0);
    expect(() => ch.ack(999)).toThrow(PreconditionFailed);
    expect(() => ch.ack(999)).toThrow('unknown delivery tag 999');
  });

  it('requeued messages return in their original order', async () => {
    const { ch, publish } = await setup();
    publish('1', '2', '3', '4');
    const ds = [ch.get('q')!, ch.get('q')!, ch.get('q')!];
    ch.reject(ds[2]!.deliveryTag, true);
    ch.reject(ds[0]!.deliveryTag, true);
    ch.reject(ds[1]!.deliveryTag, true);
    const bodies = [1, 2, 3, 4].map(() => ch.get('q', { noAck: true })!.message.body.toString());
    expect(bodies).toEqual(['1', '2', '3', '4']);
  });

  it('recover requeues every unacked delivery of the channel', async () => {
    const { ch, vh, publish } = await setup();
    publish('1', '2');
    ch.get('q');
    ch.get('q');
    ch.recover(true);
    expect(vh.queue('q')!.messageCount).toBe(2);
    expect(ch.get('q')!.redelivered).toBe(true);
  });

  it('closing a channel or connection requeues its unacked deliveries', async () => {
    const { f, ch, conn, vh, publish } = await setup();
    publish('1', '2');
    ch.get('q');
    const other = conn.openChannel();
    other.get('q');
    ch.close();
    expect(vh.queue('q')!.messageCount).toBe(1);
    await conn.close();
    expect(vh.queue('q')!.messageCount).toBe(2);
    const { ch: ch2 } = session(f.core);
    expect(ch2.get('q')).toMatchObject({ redelivered: true });
  });

  it('cancel keeps unacked deliveries ackable', async () => {
    const { ch, vh, publish } = await setup();
    publish('1');
    const a = collector();
    const { consumerTag } = ch.consume('q', { onDelivery: a.onDelivery });
    await settle();
    ch.cancel(consumerTag);
    ch.ack(a.deliveries[0]!.deliveryTag);
    expect(vh.queue('q')!.unackedCount).toBe(0);
  });

  it('get returns the remaining message count and null when empty', async () => {
    const { ch, publish } = await setup();
    publish('1', '2');
    expect(ch.get('q', { noAck: true })).toMatchObject({ messageCount: 1, consumerTag: null });
    expect(ch.get('q', { noAck: true })).toMatchObject({ messageCount: 0 });
    expect(ch.get('q', { noAck: true })).toBeNull();
  });
});

describe('TTL and expiry', () => {
  it('never delivers a message past the queue TTL', async () => {
    const { f, ch, publish } = await setup({ 'x-message-ttl': 1000 });
    publish('old');
    f.clock.advance(1001);
    publish('new');
    expect(ch.get('q', { noAck: true })!.message.body.toString()).toBe('new');
  });

  it('honours per-message expiration (the lower of both) and reports the deadline', async () => {
    const { f, ch } = await setup({ 'x-message-ttl': 10_000 });
    ch.publish('', 'q', msg('short', { expiration: 100 }));
    ch.publish('', 'q', msg('long', { expiration: 60_000 }));
    const now = f.clock.t;
    f.clock.advance(200);
    const d = ch.get('q', { noAck: true })!;
    expect(d.message.body.toString()).toBe('long');
    expect(d.expiresAt).toBe(now + 10_000);
  });

  it('TTL 0 delivers only to a consumer ready at arrival, else expires at once (RabbitMQ)', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareQueue('dlq');
    await vh.declareQueue('z', { arguments: { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' } });
    ch.publish('', 'z', msg('nobody'));
    expect(vh.queue('z')!.messageCount).toBe(0);
    expect(ch.get('dlq', { noAck: true })!.message.headers.find((h) => h.name === 'x-first-death-reason')!.value).toBe('expired');
    const c = collector();
    ch.consume('z', { onDelivery: c.onDelivery, prefetch: 1 });
    await settle();
    ch.publish('', 'z', msg('taken'));
    ch.publish('', 'z', msg('no-credit'));
    await settle();
    expect(c.bodies()).toEqual(['taken']);
    expect(vh.queue('z')!.messageCount).toBe(0);
    expect(ch.get('dlq', { noAck: true })!.message.body.toString()).toBe('no-credit');
    // A per-message expiration of 0 behaves the same.
    await vh.declareQueue('plain');
    ch.publish('', 'plain', msg('gone', { expiration: 0 }));
    expect(ch.get('plain')).toBeNull();
  });

  it('the sweep removes expired messages anywhere in the queue', async () => {
    const { f, ch, vh } = await setup();
    ch.publish('', 'q', msg('keep'));
    ch.publish('', 'q', msg('drop', { expiration: 10 }));
    f.clock.advance(20);
    await f.core.sweep();
    expect(vh.queue('q')!.messageCount).toBe(1);
  });

  it('deletes a queue unused for x-expires', async () => {
    const { f, vh } = await setup({ 'x-expires': 5000 });
    f.clock.advance(4000);
    await f.core.sweep();
    expect(vh.queue('q')).not.toBeNull();
    f.clock.advance(1000);
    await f.core.sweep();
    expect(vh.queue('q')).toBeNull();
  });
});

describe('length limits', () => {
  it('drop-head drops the oldest messages', async () => {
    const { ch, vh, publish } = await setup({ 'x-max-length': 2 });
    publish('1', '2', '3');
    expect(vh.queue('q')!.messageCount).toBe(2);
    expect(ch.get('q', { noAck: true })!.message.body.toString()).toBe('2');
  });

  it('drop-head also applies after a requeue (RabbitMQ maybe_drop_head)', async () => {
    const { ch, vh, publish } = await setup({ 'x-max-length': 2 });
    publish('1', '2');
    const d = ch.get('q')!;
    publish('3');
    ch.nack(d.deliveryTag, false, true);
    expect(vh.queue('q')!.messageCount).toBe(2);
    expect(ch.get('q', { noAck: true })!.message.body.toString()).toBe('2');
  });

  it('max-length-bytes counts body bytes', async () => {
    const { vh, publish } = await setup({ 'x-max-length-bytes': 5 });
    publish('aa', 'bb', 'cc');
    expect(vh.queue('q')).toMatchObject({ messageCount: 2, messageBytes: 4 });
  });

  it('reject-publish refuses new messages (publish status rejected)', async () => {
    const { ch, vh } = await setup({ 'x-max-length': 1, 'x-overflow': 'reject-publish' });
    expect(ch.publish('', 'q', msg('1')).status).toBe('routed');
    expect(ch.publish('', 'q', msg('2')).status).toBe('rejected');
    expect(vh.queue('q')!.messageCount).toBe(1);
  });

  it('reject-publish-dlx refuses and dead-letters the new message', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareQueue('dlq');
    await vh.declareQueue('q', { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' } });
    ch.publish('', 'q', msg('1'));
    expect(ch.publish('', 'q', msg('2')).status).toBe('rejected');
    const d = ch.get('dlq', { noAck: true })!;
    expect(d.message.body.toString()).toBe('2');
    expect(deathOf(d)).toMatchObject({ reason: 'maxlen', queue: 'q' });
  });
});

describe('dead-lettering', () => {
  async function dl(args: Record<string, unknown> = {}) {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareExchange('dlx', { type: 'fanout' });
    await vh.declareQueue('dlq', { durable: true });
    await vh.bindQueue('dlq', 'dlx', '');
    await vh.declareQueue('q', { durable: true, arguments: { 'x-dead-letter-exchange': 'dlx', ...args } });
    return { f, ch, vh };
  }

  it('on reject without requeue, with an x-death entry as RabbitMQ writes it', async () => {
    const { f, ch } = await dl();
    ch.publish('', 'q', msg('m', { expiration: 60_000, persistent: true }, [{ name: 'CC', value: ['nobody'] }]));
    ch.reject(ch.get('q')!.deliveryTag, false);
    const d = ch.get('dlq', { noAck: true })!;
    expect(deathOf(d)).toEqual({
      count: 1,
      reason: 'rejected',
      queue: 'q',
      time: new Date(Math.floor(f.clock.t / 1000) * 1000),
      exchange: '',
      'routing-keys': ['q', 'nobody'],
      'original-expiration': '60000',
    });
    const names = d.message.headers.map((h) => h.name);
    expect(names).toEqual(expect.arrayContaining(['x-first-death-reason', 'x-first-death-queue', 'x-first-death-exchange', 'x-last-death-reason']));
    expect(d.message.properties.expiration).toBeUndefined();
    expect(d.message.native).toBeNull();
  });

  it('on expiry and on overflow', async () => {
    const { f, ch } = await dl({ 'x-message-ttl': 100, 'x-max-length': 1 });
    ch.publish('', 'q', msg('a'));
    ch.publish('', 'q', msg('b'));
    f.clock.advance(101);
    await f.core.sweep();
    expect(deathOf(ch.get('dlq', { noAck: true })!)).toMatchObject({ reason: 'maxlen' });
    expect(deathOf(ch.get('dlq', { noAck: true })!)).toMatchObject({ reason: 'expired' });
  });

  it('uses x-dead-letter-routing-key when set', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('target');
    await conn.vhost.declareQueue('q', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'target' } });
    ch.publish('', 'q', msg('x'));
    ch.nack(ch.get('q')!.deliveryTag, false, false);
    expect(ch.get('target', { noAck: true })!.message.routingKey).toBe('target');
  });

  it('dead-letters poison messages past the delivery limit', async () => {
    const { ch, vh } = await dl({ 'x-delivery-limit': 1 });
    ch.publish('', 'q', msg('poison'));
    ch.nack(ch.get('q')!.deliveryTag, false, true);
    expect(vh.queue('q')!.messageCount).toBe(1);
    ch.nack(ch.get('q')!.deliveryTag, false, true);
    expect(vh.queue('q')!.messageCount).toBe(0);
    expect(deathOf(ch.get('dlq', { noAck: true })!)).toMatchObject({ reason: 'delivery_limit' });
  });

  it('counts repeated deaths in the same queue and drops expiry cycles', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    // Retry loop: q -> (reject) -> retry (ttl) -> back to q.
    await vh.declareQueue('q', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' } });
    await vh.declareQueue('retry', { arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'q' } });
    ch.publish('', 'q', msg('x'));
    for (let i = 0; i < 2; i++) {
      ch.reject(ch.get('q')!.deliveryTag, false);
      f.clock.advance(11);
      await f.core.sweep();
    }
    const d = ch.get('q', { noAck: true })!;
    const xd = d.message.headers.find((h) => h.name === 'x-death')!.value as HeaderTable[];
    const summary = xd.map((t) => Object.fromEntries(t.entries.filter((e) => ['queue', 'reason', 'count'].includes(e.name)).map((e) => [e.name, e.value])));
    expect(summary).toEqual([
      { count: 2, reason: 'expired', queue: 'retry' },
      { count: 2, reason: 'rejected', queue: 'q' },
    ]);
    // A pure expiry cycle (no rejection) is dropped at once, as RabbitMQ's detect_cycles does.
    await vh.declareQueue('loop', { arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop' } });
    ch.publish('', 'loop', msg('y'));
    f.clock.advance(11);
    await f.core.sweep();
    expect(vh.queue('loop')!.messageCount).toBe(0);
  });

  it('without a dead-letter exchange the message is dropped', async () => {
    const { ch, vh } = await setup();
    ch.publish('', 'q', msg('x'));
    ch.reject(ch.get('q')!.deliveryTag, false);
    expect(vh.queue('q')!.messageCount).toBe(0);
  });
});

describe('priority queues', () => {
  it('deliver higher priorities first, FIFO within a priority, capped at x-max-priority', async () => {
    const { ch } = await setup({ 'x-max-priority': 10 });
    const p = (b: string, priority?: number) => ch.publish('', 'q', msg(b, priority === undefined ? {} : { priority }));
    p('none');
    p('p5a', 5);
    p('p200', 200);
    p('p5b', 5);
    p('p1', 1);
    const out: string[] = [];
    for (let d = ch.get('q', { noAck: true }); d; d = ch.get('q', { noAck: true })) out.push(d.message.body.toString());
    expect(out).toEqual(['p200', 'p5a', 'p5b', 'p1', 'none']);
  });

  it('supports up to 255 levels', async () => {
    const { ch } = await setup({ 'x-max-priority': 255 });
    ch.publish('', 'q', msg('low', { priority: 0 }));
    ch.publish('', 'q', msg('top', { priority: 255 }));
    expect(ch.get('q', { noAck: true })!.message.body.toString()).toBe('top');
  });
});

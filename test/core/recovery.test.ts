import { describe, expect, it } from 'vitest';
import { collector, msg, openCore, session, settle, type Fixture } from './fixture.js';

async function populate(f: Fixture) {
  const { ch, conn } = session(f.core);
  const vh = conn.vhost;
  await vh.declareExchange('events', { type: 'topic', durable: true });
  await vh.declareExchange('transient-x', { type: 'fanout', durable: false });
  await vh.declareQueue('dq', { durable: true, arguments: { 'x-max-length': 100 } });
  await vh.declareQueue('tq', { durable: false });
  await vh.bindQueue('dq', 'events', 'a.#');
  await vh.bindQueue('tq', 'events', 'a.#');
  await vh.setPolicy({ name: 'p', pattern: '^dq$', applyTo: 'queues', definition: { 'message-ttl': 60_000 } });
  const confirms = ['1', '2', '3', '4'].map((b) => ch.publish('events', 'a.b', msg(b, { persistent: true })).durable);
  ch.publish('events', 'a.b', msg('transient-msg', { persistent: false }));
  // Only confirmed publishes are promised to survive a crash.
  await Promise.all(confirms);
  await settle();
  return { ch, conn, vh };
}

describe.each(['memory', 'log'] as const)('recovery (%s store)', (kind) => {
  for (const mode of ['restart', 'crash'] as const) {
    it(`keeps durable definitions and persistent messages, drops transient ones (${mode})`, async () => {
      const f = await openCore({}, kind);
      const { ch } = await populate(f);
      ch.ack(ch.get('dq')!.deliveryTag); // '1' acked
      const unacked = ch.get('dq')!; // '2' unacked at restart
      expect(unacked.redelivered).toBe(false);
      await settle();
      await f[mode]();
      const vh = f.core.vhost('/');
      expect(vh.exchange('events')).toMatchObject({ type: 'topic' });
      expect(vh.exchange('transient-x')).toBeNull();
      expect(vh.queue('tq')).toBeNull();
      expect(vh.queue('dq')).toMatchObject({ durable: true, arguments: { 'x-max-length': 100 }, effectiveArguments: { 'x-message-ttl': 60_000 } });
      expect(vh.bindings().filter((b) => b.source === 'events')).toEqual([
        { source: 'events', destination: 'dq', destinationKind: 'queue', routingKey: 'a.#', arguments: {} },
      ]);
      expect(vh.policies().map((p) => p.name)).toEqual(['p']);
      const { ch: ch2 } = session(f.core);
      const c = collector();
      ch2.consume('dq', { onDelivery: c.onDelivery });
      await settle();
      expect(c.bodies()).toEqual(['2', '3', '4']);
      // The unacked one comes back flagged redelivered; never-delivered ones do not.
      expect(c.deliveries.map((d) => d.redelivered)).toEqual([true, false, false]);
      await f.close();
    });
  }

  it('acks before restart stay acked and the cursor survives snapshots', async () => {
    const f = await openCore({ snapshotEvery: 3 }, kind);
    const { ch, vh } = await populate(f);
    for (let i = 0; i < 3; i++) ch.ack(ch.get('dq')!.deliveryTag);
    await settle();
    await vh.declareQueue('more', { durable: true });
    await f.restart();
    const { ch: ch2 } = session(f.core);
    expect(ch2.get('dq', { noAck: true })!.message.body.toString()).toBe('4');
    expect(ch2.get('dq', { noAck: true })).toBeNull();
  });

  it('acks out of order leave the right messages', async () => {
    const f = await openCore({}, kind);
    const { ch } = await populate(f);
    const ds = [ch.get('dq')!, ch.get('dq')!, ch.get('dq')!, ch.get('dq')!];
    ch.ack(ds[1]!.deliveryTag);
    ch.ack(ds[3]!.deliveryTag);
    await settle();
    await f.crash();
    const { ch: ch2 } = session(f.core);
    const bodies = [ch2.get('dq', { noAck: true }), ch2.get('dq', { noAck: true }), ch2.get('dq', { noAck: true })].map((d) => d?.message.body.toString() ?? null);
    expect(bodies).toEqual(['1', '3', null]);
  });

  it('recovered messages keep properties, headers and native bytes', async () => {
    const f = await openCore({}, kind);
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true });
    const m = msg('body', { persistent: true, contentType: 'text/plain', correlationId: Buffer.from([1, 2]), priority: 3 }, [
      { name: 'n', value: 42 },
      { name: 's', value: 'str' },
    ]);
    m.native = { protocol: 'amqp', bytes: Buffer.from([9, 9, 9]) };
    m.key = Buffer.from('key');
    await ch.publish('', 'q', m).durable;
    await f.crash();
    const got = session(f.core).ch.get('q', { noAck: true })!.message;
    expect(got.properties).toEqual({ persistent: true, contentType: 'text/plain', correlationId: Buffer.from([1, 2]), priority: 3 });
    expect(got.headers).toEqual([{ name: 'n', value: 42 }, { name: 's', value: 'str' }]);
    expect(got.native).toEqual({ protocol: 'amqp', bytes: Buffer.from([9, 9, 9]) });
    expect(got.key).toEqual(Buffer.from('key'));
    expect(got.origin).toMatchObject({ protocol: 'amqp', user: 'guest' });
  });

  it('a deleted queue stays deleted and its messages are gone', async () => {
    const f = await openCore({}, kind);
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true });
    ch.publish('', 'q', msg('x', { persistent: true }));
    await conn.vhost.deleteQueue('q');
    await conn.vhost.declareQueue('q2', { durable: true });
    await f.crash();
    expect(f.core.vhost('/').queue('q')).toBeNull();
    expect(f.core.vhost('/').queue('q2')!.messageCount).toBe(0);
  });
});

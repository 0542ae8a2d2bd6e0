import { describe, expect, it } from 'vitest';
import { NotFound } from '../../src/core/index.js';
import { collector, msg, openCore, session, settle } from './fixture.js';

describe('more rules', () => {
  it('cancel with requeueUnacked returns the consumer\'s deliveries at once', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q');
    for (const b of ['1', '2']) ch.publish('', 'q', msg(b));
    const c = collector();
    const { consumerTag } = ch.consume('q', { onDelivery: c.onDelivery });
    await settle();
    expect(conn.vhost.queue('q')!.unackedCount).toBe(2);
    ch.cancel(consumerTag, { requeueUnacked: true });
    expect(conn.vhost.queue('q')).toMatchObject({ unackedCount: 0, messageCount: 2 });
    expect(ch.unackedCount).toBe(0);
  });

  it('keeps vhosts apart and deletes a vhost with its contents', async () => {
    const f = await openCore();
    await f.core.declareVhost('a');
    await f.core.declareVhost('b');
    await f.core.vhost('a').declareQueue('q');
    expect(f.core.vhost('b').queue('q')).toBeNull();
    const { ch } = session(f.core, 'b');
    expect(ch.publish('', 'q', msg('x')).status).toBe('unroutable');
    await f.core.deleteVhost('a');
    expect(f.core.hasVhost('a')).toBe(false);
    expect(() => f.core.vhost('a')).toThrow(NotFound);
    await f.restart();
    expect(f.core.vhostNames().sort()).toEqual(['/', 'b']);
  });

  it('exchange-to-exchange bindings route by the same routing key rules', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareExchange('edge', { type: 'topic' });
    await vh.declareExchange('inner', { type: 'direct' });
    await vh.bindExchange('inner', 'edge', 'orders.*');
    await vh.declareQueue('q');
    await vh.bindQueue('q', 'inner', 'orders.new');
    expect(ch.publish('edge', 'orders.new', msg('1')).destinations).toBe(1);
    expect(ch.publish('edge', 'orders.old', msg('2')).status).toBe('unroutable');
    await vh.unbindExchange('inner', 'edge', 'orders.*');
    expect(ch.publish('edge', 'orders.new', msg('3')).status).toBe('unroutable');
  });

  it('releases acked entries to the store, the newest one too (a drained queue holds nothing)', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true });
    for (let i = 0; i < 3; i++) ch.publish('', 'q', msg(String(i), { persistent: true }));
    const one = f.disk.bytes / 3;
    for (let i = 0; i < 3; i++) ch.ack(ch.get('q')!.deliveryTag);
    expect(f.disk.bytes).toBe(0);
    ch.publish('', 'q', msg('3', { persistent: true }));
    expect(f.disk.bytes).toBe(one);
    ch.ack(ch.get('q')!.deliveryTag);
    expect(f.disk.bytes).toBe(0);
  });

  it('re-releases settled entries to the store after a restart (it keeps only its released head)', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true });
    for (let i = 0; i < 4; i++) ch.publish('', 'q', msg(String(i), { persistent: true }));
    const one = f.disk.bytes / 4;
    const ds = [ch.get('q')!, ch.get('q')!, ch.get('q')!];
    ch.ack(ds[0]!.deliveryTag);
    ch.ack(ds[2]!.deliveryTag);
    await settle();
    // A store that forgot releases: what the core settled is released again on open.
    for (const p of f.disk.partitions.values()) for (const u of (p as unknown as { units: { released: boolean }[] }).units) u.released = false;
    f.disk.bytes = 4 * one;
    await f.crash();
    expect(f.disk.bytes).toBe(2 * one);
  });

  it('single active consumer fails over when the active consumer\'s connection closes', async () => {
    const f = await openCore();
    const a = session(f.core);
    const b = session(f.core);
    await a.conn.vhost.declareQueue('sac', { durable: true, arguments: { 'x-single-active-consumer': true } });
    const ca = collector();
    const cb = collector();
    a.ch.consume('sac', { onDelivery: ca.onDelivery });
    b.ch.consume('sac', { onDelivery: cb.onDelivery });
    a.ch.publish('', 'sac', msg('1'));
    await settle();
    expect(ca.bodies()).toEqual(['1']);
    await a.conn.close();
    await settle();
    // The unacked message goes back and the next consumer gets it, redelivered.
    expect(cb.bodies()).toEqual(['1']);
    expect(cb.deliveries[0]!.redelivered).toBe(true);
  });

  it('x-expires counts from the last use (consume, get, redeclare, passive declare)', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('p', { arguments: { 'x-expires': 1000 } });
    f.clock.advance(900);
    await conn.vhost.declareQueue('p', { passive: true });
    f.clock.advance(900);
    await f.core.sweep();
    expect(conn.vhost.queue('p')).not.toBeNull();
    f.clock.advance(100);
    await f.core.sweep();
    expect(conn.vhost.queue('p')).toBeNull();
    await conn.vhost.declareQueue('e', { arguments: { 'x-expires': 1000 } });
    f.clock.advance(900);
    ch.get('e');
    f.clock.advance(900);
    await f.core.sweep();
    expect(conn.vhost.queue('e')).not.toBeNull();
    const { consumerTag } = ch.consume('e', { onDelivery: () => {} });
    f.clock.advance(5000);
    await f.core.sweep();
    expect(conn.vhost.queue('e')).not.toBeNull();
    ch.cancel(consumerTag);
    f.clock.advance(1000);
    await f.core.sweep();
    expect(conn.vhost.queue('e')).toBeNull();
  });

  it('dead-letter copies to durable queues survive a crash, the source is settled once they are stored', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareQueue('dlq', { durable: true });
    await vh.declareQueue('q', { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' } });
    await ch.publish('', 'q', msg('x', { persistent: true })).durable;
    ch.reject(ch.get('q')!.deliveryTag, false);
    await settle();
    await f.crash();
    const v2 = f.core.vhost('/');
    expect(v2.queue('q')!.messageCount).toBe(0);
    expect(v2.queue('dlq')!.messageCount).toBe(1);
  });
});

describe('alarms and definitions, more', () => {
  it('raises the disk alarm when free space is below the limit', async () => {
    const f = await openCore({ diskFreeLimitBytes: Number.MAX_SAFE_INTEGER }, 'log');
    await f.core.checkResources();
    expect(f.core.alarms.has('disk')).toBe(true);
    expect(f.core.blocked).toBe(true);
    await f.close();
  });

  it('YAML: a conflicting exchange type names both definitions; streams can be binding destinations', async () => {
    const { applyVhostDefinitions } = await import('../../src/core/index.js');
    const f = await openCore();
    await f.core.vhost('/').declareExchange('events', { type: 'fanout' });
    await expect(applyVhostDefinitions(f.core, { '/': { exchanges: [{ name: 'events', type: 'topic' }] } })).rejects.toThrow(
      /exchange 'events' in vhost '\/' as .*"topic".*conflicts with the existing definition .*"fanout"/,
    );
    await applyVhostDefinitions(f.core, {
      '/': {
        exchanges: [{ name: 'audit', type: 'fanout' }],
        streams: [{ name: 'log', partitions: 1, bindToTopicExchange: false }],
        bindings: [{ source: 'audit', destination: 'log', destinationType: 'stream' }],
      },
    });
    const { ch } = session(f.core);
    expect(ch.publish('audit', 'x', msg('entry')).destinations).toBe(1);
    expect(f.core.vhost('/').partitionOffsets('log', 0).highWatermark).toBe(1);
  });
});

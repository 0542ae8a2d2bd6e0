import { describe, expect, it } from 'vitest';
import { AccessRefused, applyVhostDefinitions, NotAllowed, NotFound, PreconditionFailed, ResourceError, ResourceLocked, vhostsSchema } from '../../src/core/index.js';
import { collector, msg, openCore, session, settle } from './fixture.js';

describe('exchange declarations', () => {
  it('passive declare checks existence', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await expect(vh.declareExchange('nope', { type: 'direct', passive: true })).rejects.toThrow(NotFound);
    await vh.declareExchange('x', { type: 'topic' });
    await expect(vh.declareExchange('x', { type: 'direct', passive: true })).resolves.toMatchObject({ type: 'topic' });
  });

  it('redeclaring with different properties fails naming the property', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareExchange('x', { type: 'topic', durable: true });
    await expect(vh.declareExchange('x', { type: 'topic', durable: true })).resolves.toBeTruthy();
    await expect(vh.declareExchange('x', { type: 'fanout' })).rejects.toThrow(/inequivalent arg 'type'.*received 'fanout' but current is 'topic'/);
    await expect(vh.declareExchange('x', { type: 'topic', durable: false })).rejects.toThrow(/'durable'/);
    await expect(vh.declareExchange('x', { type: 'topic', autoDelete: true })).rejects.toThrow(/'auto_delete'/);
    await expect(vh.declareExchange('x', { type: 'topic', arguments: { 'alternate-exchange': 'ae' } })).rejects.toThrow(PreconditionFailed);
  });

  it('reserves amq. names and the default exchange', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await expect(vh.declareExchange('amq.custom', { type: 'direct' })).rejects.toThrow(AccessRefused);
    await expect(vh.declareExchange('amq.topic', { type: 'topic' })).resolves.toBeTruthy();
    await expect(vh.deleteExchange('amq.direct')).rejects.toThrow(AccessRefused);
    await vh.declareQueue('q');
    await expect(vh.bindQueue('q', '', 'q')).rejects.toThrow(AccessRefused);
  });

  it('delete if-unused refuses an exchange with bindings; auto-delete goes with its last binding', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareExchange('x', { type: 'direct' });
    await vh.declareQueue('q');
    await vh.bindQueue('q', 'x', 'k');
    await expect(vh.deleteExchange('x', { ifUnused: true })).rejects.toThrow(PreconditionFailed);
    await vh.declareExchange('ad', { type: 'fanout', autoDelete: true });
    await vh.bindQueue('q', 'ad', '');
    await vh.unbindQueue('q', 'ad', '');
    expect(vh.exchange('ad')).toBeNull();
  });
});

describe('queue declarations', () => {
  it('server-names queues declared with an empty name', async () => {
    const f = await openCore();
    const r = await f.core.vhost('/').declareQueue('', { exclusive: true });
    expect(r.name).toMatch(/^amq\.gen-/);
  });

  it('passive declare returns counts or NotFound', async () => {
    const f = await openCore();
    const { ch, vh } = { ...session(f.core), vh: f.core.vhost('/') };
    await expect(vh.declareQueue('q', { passive: true })).rejects.toThrow(/no queue 'q' in vhost '\/'/);
    await vh.declareQueue('q');
    ch.publish('', 'q', msg('a'));
    expect(await vh.declareQueue('q', { passive: true })).toEqual({ name: 'q', messageCount: 1, consumerCount: 0 });
  });

  it('equivalence checks name durable, exclusive, auto_delete and arguments', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareQueue('q', { durable: true, arguments: { 'x-message-ttl': 1000 } });
    await expect(vh.declareQueue('q', { durable: true, arguments: { 'x-message-ttl': 1000 } })).resolves.toBeTruthy();
    await expect(vh.declareQueue('q', { durable: false, arguments: { 'x-message-ttl': 1000 } })).rejects.toThrow(/inequivalent arg 'durable'/);
    await expect(vh.declareQueue('q', { durable: true, arguments: { 'x-message-ttl': 2000 } })).rejects.toThrow(
      "inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but current is '1000'",
    );
    await expect(vh.declareQueue('q', { durable: true, autoDelete: true, arguments: { 'x-message-ttl': 1000 } })).rejects.toThrow(/'auto_delete'/);
  });

  it('rejects invalid arguments naming them', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await expect(vh.declareQueue('q', { arguments: { 'x-max-priority': 300 } })).rejects.toThrow(/x-max-priority/);
    await expect(vh.declareQueue('q', { arguments: { 'x-message-ttl': -1 } })).rejects.toThrow(/x-message-ttl/);
    await expect(vh.declareQueue('q', { arguments: { 'x-overflow': 'explode' } })).rejects.toThrow(/x-overflow/);
  });

  it('exclusive queues belong to one connection and die with it', async () => {
    const f = await openCore();
    const a = session(f.core);
    const b = session(f.core);
    await a.conn.vhost.declareQueue('ex', { exclusive: true }, a.conn.id);
    await expect(b.conn.vhost.declareQueue('ex', { exclusive: true }, b.conn.id)).rejects.toThrow(ResourceLocked);
    expect(() => b.ch.consume('ex', { onDelivery: () => {} })).toThrow(ResourceLocked);
    expect(() => b.ch.get('ex')).toThrow(ResourceLocked);
    await expect(b.conn.vhost.deleteQueue('ex', {}, b.conn.id)).rejects.toThrow(ResourceLocked);
    await expect(b.conn.vhost.purgeQueue('ex', b.conn.id)).rejects.toThrow(ResourceLocked);
    await a.conn.close();
    expect(f.core.vhost('/').queue('ex')).toBeNull();
  });

  it('auto-delete queues go when their last consumer is cancelled', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('ad', { autoDelete: true });
    const t1 = ch.consume('ad', { onDelivery: () => {} }).consumerTag;
    const t2 = ch.consume('ad', { onDelivery: () => {} }).consumerTag;
    ch.cancel(t1);
    expect(conn.vhost.queue('ad')).not.toBeNull();
    ch.cancel(t2);
    await settle();
    expect(conn.vhost.queue('ad')).toBeNull();
  });

  it('delete if-unused / if-empty, returning the message count; consumers are told', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareQueue('q');
    ch.publish('', 'q', msg('1'));
    ch.publish('', 'q', msg('2'));
    await expect(vh.deleteQueue('q', { ifEmpty: true })).rejects.toThrow(/not empty/);
    const reasons: string[] = [];
    ch.consume('q', { prefetch: 1, onDelivery: () => {}, onCancel: (r) => reasons.push(r) });
    await expect(vh.deleteQueue('q', { ifUnused: true })).rejects.toThrow(/in use/);
    await settle();
    expect(await vh.deleteQueue('q')).toBe(1);
    expect(reasons).toEqual(['queue deleted']);
  });

  it('purge removes ready messages but not unacked ones', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q');
    for (let i = 0; i < 5; i++) ch.publish('', 'q', msg(String(i)));
    const d = ch.get('q')!;
    expect(await conn.vhost.purgeQueue('q')).toBe(4);
    ch.nack(d.deliveryTag, false, true);
    expect(conn.vhost.queue('q')!.messageCount).toBe(1);
  });

  it('enforces per-vhost queue and connection limits', async () => {
    const f = await openCore();
    await f.core.declareVhost('small', { limits: { maxQueues: 1, maxConnections: 1 } });
    const vh = f.core.vhost('small');
    await vh.declareQueue('a');
    await expect(vh.declareQueue('b')).rejects.toThrow(ResourceError);
    f.core.connect({ vhost: 'small', protocol: 'mqtt' });
    expect(() => f.core.connect({ vhost: 'small', protocol: 'mqtt' })).toThrow(ResourceError);
    expect(() => f.core.connect({ vhost: 'nope', protocol: 'mqtt' })).toThrow(NotAllowed);
  });

  it('enforces the max message size', async () => {
    const f = await openCore({ maxMessageBytes: 10 });
    const { ch } = session(f.core);
    expect(() => ch.publish('', 'x', msg('01234567890'))).toThrow(/exceeds the max message size/);
  });
});

describe('policies', () => {
  it('apply arguments to matching queues by priority; declared arguments win', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.setPolicy({ name: 'low', pattern: '^tmp\\.', applyTo: 'queues', priority: 0, definition: { 'max-length': 5 } });
    await vh.setPolicy({ name: 'high', pattern: '^tmp\\.big', applyTo: 'queues', priority: 10, definition: { 'max-length': 50 } });
    await vh.declareQueue('tmp.small');
    await vh.declareQueue('tmp.big');
    await vh.declareQueue('tmp.own', { arguments: { 'x-max-length': 1 } });
    await vh.declareQueue('other');
    expect(vh.queue('tmp.small')!.effectiveArguments['x-max-length']).toBe(5);
    expect(vh.queue('tmp.big')!.effectiveArguments['x-max-length']).toBe(50);
    expect(vh.queue('tmp.own')!.effectiveArguments['x-max-length']).toBe(1);
    expect(vh.queue('other')!.effectiveArguments['x-max-length']).toBeUndefined();
    await vh.deletePolicy('high');
    expect(vh.queue('tmp.big')!.effectiveArguments['x-max-length']).toBe(5);
  });

  it('a policy TTL expires messages of existing queues', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('p.q');
    await conn.vhost.setPolicy({ name: 'ttl', pattern: '^p\\.', applyTo: 'queues', definition: { 'message-ttl': 100 } });
    ch.publish('', 'p.q', msg('x'));
    f.clock.advance(200);
    expect(ch.get('p.q')).toBeNull();
  });
});

describe('YAML vhost definitions', () => {
  const section = {
    '/': {
      exchanges: [{ name: 'events', type: 'topic' as const }],
      queues: [{ name: 'orders', arguments: { 'x-max-length': 10 } }],
      streams: [{ name: 'clicks', partitions: 3 }],
      bindings: [{ source: 'events', destination: 'orders', routingKey: 'order.#' }],
      policies: [{ name: 'ttl', pattern: '^orders$', definition: { 'message-ttl': 1000 } }],
    },
    tenant: { limits: { maxQueues: 10 }, queues: [{ name: 'inbox' }] },
  };

  it('are applied idempotently and survive restart', async () => {
    const f = await openCore();
    await applyVhostDefinitions(f.core, section);
    await applyVhostDefinitions(f.core, section);
    await f.restart();
    await applyVhostDefinitions(f.core, section);
    const vh = f.core.vhost('/');
    expect(vh.queue('orders')).toMatchObject({ durable: true, effectiveArguments: { 'x-max-length': 10, 'x-message-ttl': 1000 } });
    expect(vh.stream('clicks')!.partitions).toBe(3);
    expect(vh.bindings().filter((b) => b.source === 'events')).toHaveLength(1);
    expect(f.core.vhost('tenant').queue('inbox')).not.toBeNull();
    expect(f.core.vhost('tenant').options.limits).toEqual({ maxQueues: 10 });
    const { ch } = session(f.core);
    ch.publish('events', 'order.new', msg('x'));
    expect(vh.queue('orders')!.messageCount).toBe(1);
  });

  it('a conflicting definition names both definitions', async () => {
    const f = await openCore();
    await f.core.vhost('/').declareQueue('orders', { durable: true, arguments: { 'x-max-length': 99 } });
    await expect(applyVhostDefinitions(f.core, section)).rejects.toThrow(/queue 'orders' in vhost '\/' as .*x-max-length.*10.*conflicts with the existing definition .*99/);
  });

  it('exports a JSON schema fragment that ajv compiles', async () => {
    const { default: Ajv } = await import('ajv');
    const ajv = new Ajv.default ? new (Ajv as unknown as { default: new () => import('ajv').default }).default() : new (Ajv as unknown as new () => import('ajv').default)();
    const validate = ajv.compile(vhostsSchema);
    expect(validate(section)).toBe(true);
    expect(validate({ '/': { queues: [{ durable: true }] } })).toBe(false);
  });
});

describe('alarms', () => {
  it('raise and clear events that adapters subscribe to', async () => {
    const f = await openCore();
    const events: unknown[] = [];
    const off = f.core.onAlarm((e) => events.push(e));
    f.core.setAlarm('memory', true);
    expect(f.core.blocked).toBe(true);
    f.core.setAlarm('disk', true);
    f.core.setAlarm('memory', false);
    expect(f.core.blocked).toBe(true);
    f.core.setAlarm('disk', false);
    expect(f.core.blocked).toBe(false);
    off();
    f.core.setAlarm('memory', true);
    expect(events).toEqual([
      { kind: 'memory', active: true, blocked: true },
      { kind: 'disk', active: true, blocked: true },
      { kind: 'memory', active: false, blocked: true },
      { kind: 'disk', active: false, blocked: false },
    ]);
  });

  it('the memory watermark raises the memory alarm', async () => {
    const f = await openCore({ memoryHighWatermarkBytes: 1 });
    await f.core.checkResources();
    expect([...f.core.alarms]).toEqual(['memory']);
  });
});

void collector;

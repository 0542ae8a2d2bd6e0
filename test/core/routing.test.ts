import { describe, expect, it } from 'vitest';
import { AccessRefused, NotAllowed, NotFound } from '../../src/core/index.js';
import { collector, msg, openCore, session, settle } from './fixture.js';

async function setup() {
  const f = await openCore();
  const { conn, ch } = session(f.core);
  return { f, conn, ch, vh: conn.vhost };
}

describe('routing', () => {
  it('has the default and amq.* exchanges in every vhost', async () => {
    const { f } = await setup();
    await f.core.declareVhost('other');
    for (const v of ['/', 'other']) {
      const names = f.core.vhost(v).exchanges().map((e) => e.name).sort();
      expect(names).toEqual(['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.topic']);
    }
  });

  it('direct exchange routes by exact routing key', async () => {
    const { vh, ch } = await setup();
    await vh.declareQueue('a');
    await vh.declareQueue('b');
    await vh.bindQueue('a', 'amq.direct', 'k1');
    await vh.bindQueue('b', 'amq.direct', 'k2');
    expect(ch.publish('amq.direct', 'k1', msg('1')).destinations).toBe(1);
    expect(ch.publish('amq.direct', 'k3', msg('3')).status).toBe('unroutable');
    expect(vh.queue('a')!.messageCount).toBe(1);
    expect(vh.queue('b')!.messageCount).toBe(0);
  });

  it('fanout exchange routes to every bound queue', async () => {
    const { vh, ch } = await setup();
    for (const q of ['a', 'b', 'c']) {
      await vh.declareQueue(q);
      await vh.bindQueue(q, 'amq.fanout', '');
    }
    expect(ch.publish('amq.fanout', 'whatever', msg('x')).destinations).toBe(3);
  });

  it('topic exchange routes with * and #', async () => {
    const { vh, ch } = await setup();
    await vh.declareQueue('eu');
    await vh.declareQueue('all');
    await vh.bindQueue('eu', 'amq.topic', 'orders.eu.*');
    await vh.bindQueue('all', 'amq.topic', 'orders.#');
    ch.publish('amq.topic', 'orders.eu.de', msg('1'));
    ch.publish('amq.topic', 'orders', msg('2'));
    ch.publish('amq.topic', 'orders.us.ny', msg('3'));
    expect(vh.queue('eu')!.messageCount).toBe(1);
    expect(vh.queue('all')!.messageCount).toBe(3);
  });

  it('delivers once to a queue bound twice with matching keys', async () => {
    const { vh, ch } = await setup();
    await vh.declareQueue('q');
    await vh.bindQueue('q', 'amq.topic', 'a.#');
    await vh.bindQueue('q', 'amq.topic', '#.b');
    expect(ch.publish('amq.topic', 'a.b', msg('x')).destinations).toBe(1);
    expect(vh.queue('q')!.messageCount).toBe(1);
  });

  it('headers exchange: x-match all, any, all-with-x, any-with-x', async () => {
    const { vh, ch } = await setup();
    for (const q of ['all', 'any', 'allx', 'anyx']) await vh.declareQueue(q);
    await vh.bindQueue('all', 'amq.headers', '', { 'x-match': 'all', format: 'pdf', type: 'report' });
    await vh.bindQueue('any', 'amq.headers', '', { 'x-match': 'any', format: 'pdf', type: 'report' });
    await vh.bindQueue('allx', 'amq.headers', '', { 'x-match': 'all-with-x', 'x-tenant': 't1' });
    await vh.bindQueue('anyx', 'amq.headers', '', { 'x-match': 'any-with-x', 'x-tenant': 't1', other: 1 });
    ch.publish('amq.headers', '', msg('1', {}, [{ name: 'format', value: 'pdf' }, { name: 'type', value: 'report' }]));
    ch.publish('amq.headers', '', msg('2', {}, [{ name: 'format', value: 'pdf' }]));
    ch.publish('amq.headers', '', msg('3', {}, [{ name: 'x-tenant', value: 't1' }]));
    expect(vh.queue('all')!.messageCount).toBe(1);
    expect(vh.queue('any')!.messageCount).toBe(2);
    expect(vh.queue('allx')!.messageCount).toBe(1);
    expect(vh.queue('anyx')!.messageCount).toBe(1);
  });

  it('headers exchange: all ignores x- arguments; a void value matches on presence', async () => {
    const { vh, ch } = await setup();
    await vh.declareQueue('q');
    await vh.bindQueue('q', 'amq.match', '', { 'x-match': 'all', 'x-ignored': 'yes', tag: null });
    ch.publish('amq.match', '', msg('1', {}, [{ name: 'tag', value: 'anything' }]));
    ch.publish('amq.match', '', msg('2', {}, []));
    expect(vh.queue('q')!.messageCount).toBe(1);
  });

  it('routes through exchange-to-exchange bindings without loops or duplicates', async () => {
    const { vh, ch } = await setup();
    await vh.declareExchange('x1', { type: 'fanout' });
    await vh.declareExchange('x2', { type: 'fanout' });
    await vh.declareExchange('x3', { type: 'fanout' });
    await vh.bindExchange('x2', 'x1', '');
    await vh.bindExchange('x3', 'x1', '');
    await vh.bindExchange('x3', 'x2', '');
    await vh.bindExchange('x1', 'x3', ''); // loop back
    await vh.declareQueue('q');
    await vh.bindQueue('q', 'x2', '');
    await vh.bindQueue('q', 'x3', '');
    const r = ch.publish('x1', 'k', msg('x'));
    expect(r.destinations).toBe(1);
    expect(vh.queue('q')!.messageCount).toBe(1);
  });

  it('sends unroutable messages to the alternate exchange', async () => {
    const { vh, ch } = await setup();
    await vh.declareExchange('ae', { type: 'fanout' });
    await vh.declareExchange('main', { type: 'direct', arguments: { 'alternate-exchange': 'ae' } });
    await vh.declareQueue('lost');
    await vh.declareQueue('normal');
    await vh.bindQueue('lost', 'ae', '');
    await vh.bindQueue('normal', 'main', 'ok');
    ch.publish('main', 'ok', msg('1'));
    const r = ch.publish('main', 'nope', msg('2'));
    expect(r.status).toBe('routed');
    expect(vh.queue('normal')!.messageCount).toBe(1);
    expect(vh.queue('lost')!.messageCount).toBe(1);
  });

  it('reports unroutable publishes (mandatory) and refuses internal exchanges and missing ones', async () => {
    const { vh, ch } = await setup();
    expect(ch.publish('amq.direct', 'none', msg('x'), { mandatory: true }).status).toBe('unroutable');
    await vh.declareExchange('int', { type: 'fanout', internal: true });
    expect(() => ch.publish('int', '', msg('x'))).toThrow(AccessRefused);
    expect(() => ch.publish('missing', '', msg('x'))).toThrow(NotFound);
    expect(() => ch.publish('missing', '', msg('x'))).toThrow(/exchange 'missing' in vhost '\/'/);
  });

  it('honours CC and BCC headers; BCC is removed before storing', async () => {
    const { vh, ch } = await setup();
    for (const q of ['a', 'b', 'c']) await vh.declareQueue(q);
    const r = ch.publish('', 'a', msg('x', {}, [{ name: 'CC', value: ['b'] }, { name: 'BCC', value: ['c'] }]));
    expect(r.destinations).toBe(3);
    const c = collector();
    ch.consume('c', { onDelivery: c.onDelivery, noAck: true });
    await settle();
    expect(c.deliveries[0]!.message.headers.map((h) => h.name)).toEqual(['CC']);
  });

  it('stores a fan-out message once (one append for N queues)', async () => {
    const { f, vh, ch } = await setup();
    for (let i = 0; i < 10; i++) {
      await vh.declareQueue(`q${i}`, { durable: true });
      await vh.bindQueue(`q${i}`, 'amq.fanout', '');
    }
    const before = f.store.appends;
    ch.publish('amq.fanout', '', msg('x', { persistent: true }));
    expect(f.store.appends - before).toBe(1);
  });

  it('stamps exchange, routing key and origin on the message', async () => {
    const { vh, ch, conn } = await setup();
    await vh.declareQueue('q');
    ch.publish('', 'q', msg('x'));
    const got = ch.get('q', { noAck: true })!;
    expect(got.message.exchange).toBe('');
    expect(got.message.routingKey).toBe('q');
    expect(got.message.origin).toEqual({ protocol: 'amqp', clientId: 'test', user: 'guest', connectionId: conn.id });
  });

  it('publishes on behalf of another identity only from the broker\'s own connections', async () => {
    const { f, vh, ch } = await setup();
    await vh.declareQueue('q');
    const device = { protocol: 'mqtt' as const, clientId: 'dev-1', user: 'alice', connectionId: 'c-gone' };
    expect(() => ch.publish('', 'q', msg('x'), { onBehalfOf: device })).toThrow(NotAllowed);
    const system = f.core.connect({ vhost: '/', protocol: 'mqtt', clientId: '$broker', user: '', internal: true }).openChannel();
    system.publish('', 'q', msg('will'), { onBehalfOf: device });
    expect(ch.get('q', { noAck: true })!.message.origin).toEqual(device);
  });
});

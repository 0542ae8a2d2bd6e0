import { describe, expect, it } from 'vitest';
import { InvalidArgument, type Delivery } from '../../src/core/index.js';
import { collector, msg, openCore, session, settle, type Fixture } from './fixture.js';

const half = (body: string, id: string, checkTo = 'checks', extra: { name: string; value: string }[] = []) =>
  msg(body, { persistent: true }, [
    { name: 'x-transaction', value: 'half' },
    { name: 'x-transaction-id', value: id },
    { name: 'x-transaction-check-to', value: checkTo },
    ...extra,
  ]);
const control = (id: string) => msg('', {}, [{ name: 'x-transaction-id', value: id }]);

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await settle();
}

async function setup(f: Fixture) {
  const { ch, conn } = session(f.core);
  await conn.vhost.declareQueue('orders', { durable: true });
  await conn.vhost.declareQueue('checks', { durable: true });
  return { ch, conn, vh: conn.vhost };
}

function headerOf(d: Delivery, name: string) {
  return d.message.headers.find((h) => h.name === name)?.value;
}

describe('half messages', () => {
  it('are stored and delivered to no one until committed; the commit routes them as published then', async () => {
    const f = await openCore();
    const { ch, vh } = await setup(f);
    const r = ch.publish('', 'orders', half('order-1', 'tx-1'));
    expect(r.status).toBe('routed');
    await r.durable;
    expect(vh.queue('orders')!.messageCount).toBe(0);
    f.clock.advance(1000);
    const c = ch.publish('amq.transaction', 'commit', control('tx-1'));
    expect(c.status).toBe('routed');
    await c.durable;
    const got = collector();
    ch.consume('orders', { onDelivery: got.onDelivery });
    await waitUntil(() => got.deliveries.length === 1);
    const d = got.deliveries[0]!;
    expect(d.message.body.toString()).toBe('order-1');
    expect(d.message.timestamp).toBe(f.clock.t);
    expect(headerOf(d, 'x-transaction')).toBeUndefined();
    expect(headerOf(d, 'x-transaction-check-to')).toBeUndefined();
    expect(headerOf(d, 'x-transaction-id')).toBe('tx-1');
    // A second commit (or a rollback after it) finds nothing.
    expect(ch.publish('amq.transaction', 'commit', control('tx-1')).status).toBe('unroutable');
    expect(ch.publish('amq.transaction', 'rollback', control('tx-1')).status).toBe('unroutable');
    await settle();
    expect(vh.queue('amq.transaction.half')!.messageCount).toBe(0);
    await f.close();
  });

  it('a rollback discards the half message; the id may come as the body (MQTT $transaction/rollback)', async () => {
    const f = await openCore();
    const { ch, vh } = await setup(f);
    await ch.publish('', 'orders', half('x', 'tx-2')).durable;
    await ch.publish('amq.topic', '$transaction.rollback', msg('tx-2')).durable;
    await settle();
    expect(vh.queue('amq.transaction.half')!.messageCount).toBe(0);
    expect(ch.publish('amq.transaction', 'commit', control('tx-2')).status).toBe('unroutable');
    expect(vh.queue('orders')!.messageCount).toBe(0);
    await f.close();
  });

  it('refuses a half message without an id, a duplicate id and an unknown action', async () => {
    const f = await openCore();
    const { ch } = await setup(f);
    expect(() => ch.publish('', 'orders', msg('x', {}, [{ name: 'x-transaction', value: 'half' }]))).toThrow(InvalidArgument);
    ch.publish('', 'orders', half('x', 'dup'));
    expect(() => ch.publish('', 'orders', half('y', 'dup'))).toThrow(/already has a half message/);
    expect(() => ch.publish('amq.transaction', 'prepare', control('dup'))).toThrow(/unknown transaction action/);
    await f.close();
  });

  it('sends check requests after the timeout and every interval, then rolls back after max-checks', async () => {
    const f = await openCore({ halfMessages: { timeoutMs: 6000, checkIntervalMs: 60_000, maxChecks: 2 } });
    const { ch, vh } = await setup(f);
    await ch.publish('', 'orders', half('pay', 'tx-3', '/queue/checks', [{ name: 'order', value: '17' }])).durable;
    const checks = collector();
    ch.consume('checks', { onDelivery: checks.onDelivery });
    f.clock.advance(5999);
    await f.core.sweep();
    await settle();
    expect(checks.deliveries).toHaveLength(0);
    f.clock.advance(1);
    await f.core.sweep();
    await waitUntil(() => checks.deliveries.length === 1);
    const c1 = checks.deliveries[0]!;
    expect(c1.message.body.toString()).toBe('pay');
    expect(headerOf(c1, 'x-transaction')).toBe('check');
    expect(headerOf(c1, 'x-transaction-id')).toBe('tx-3');
    expect(headerOf(c1, 'x-transaction-check-count')).toBe('1');
    expect(headerOf(c1, 'order')).toBe('17');
    f.clock.advance(60_000);
    await f.core.sweep();
    await waitUntil(() => checks.deliveries.length === 2);
    expect(headerOf(checks.deliveries[1]!, 'x-transaction-check-count')).toBe('2');
    f.clock.advance(60_000);
    await f.core.sweep();
    await waitUntil(() => vh.queue('amq.transaction.half')!.messageCount === 0);
    expect(checks.deliveries).toHaveLength(2);
    expect(ch.publish('amq.transaction', 'commit', control('tx-3')).status).toBe('unroutable');
    expect(vh.queue('orders')!.messageCount).toBe(0);
    await f.close();
  });

  it('dead-letters an exhausted half message when configured', async () => {
    const f = await openCore({ halfMessages: { timeoutMs: 10, checkIntervalMs: 10, maxChecks: 1, onExhausted: 'dead-letter', deadLetterExchange: 'amq.direct' } });
    const { ch, vh } = await setup(f);
    await vh.declareQueue('dead', { durable: true });
    await vh.bindQueue('dead', 'amq.direct', 'orders');
    await ch.publish('', 'orders', half('lost', 'tx-4')).durable;
    for (let i = 0; i < 2; i++) {
      f.clock.advance(10);
      await f.core.sweep();
    }
    await waitUntil(() => vh.queue('dead')!.messageCount === 1);
    expect(vh.queue('orders')!.messageCount).toBe(0);
    await f.close();
  });

  it('survives a restart: pending half messages and their check counts; a commit after it routes once', async () => {
    const f = await openCore({ halfMessages: { timeoutMs: 1000, checkIntervalMs: 5000, maxChecks: 5 } }, 'log');
    let { ch, vh } = await setup(f);
    await ch.publish('', 'orders', half('a', 'tx-a')).durable;
    await ch.publish('', 'orders', half('b', 'tx-b')).durable;
    f.clock.advance(1000);
    await f.core.sweep();
    await f.core.flush();
    await f.restart();
    ({ ch, conn: { vhost: vh } } = session(f.core));
    expect(vh.queue('amq.transaction.half')!.messageCount).toBe(2);
    const checks = collector();
    ch.consume('checks', { onDelivery: checks.onDelivery });
    await waitUntil(() => checks.deliveries.length === 2);
    // The next check is due one interval after the first, not a timeout after the restart.
    f.clock.advance(4999);
    await f.core.sweep();
    await settle();
    expect(checks.deliveries).toHaveLength(2);
    f.clock.advance(1);
    await f.core.sweep();
    await waitUntil(() => checks.deliveries.length === 4);
    expect(checks.deliveries.slice(2).map((d) => headerOf(d, 'x-transaction-check-count'))).toEqual(['2', '2']);
    await ch.publish('amq.transaction', 'commit', control('tx-a')).durable;
    await ch.publish('amq.transaction', 'rollback', control('tx-b')).durable;
    await f.core.flush();
    await f.restart();
    ({ conn: { vhost: vh } } = session(f.core));
    expect(vh.queue('orders')!.messageCount).toBe(1);
    expect(vh.queue('amq.transaction.half')!.messageCount).toBe(0);
    await f.close();
  });

  it.each(['memory', 'log'] as const)('a crash right after a durable commit routes the message exactly once (%s store)', async (kind) => {
    const f = await openCore({}, kind);
    const { ch } = await setup(f);
    await ch.publish('', 'orders', half('once', 'tx-c')).durable;
    await ch.publish('amq.transaction', 'commit', control('tx-c')).durable;
    await f.crash();
    const { ch: ch2, conn } = session(f.core);
    expect(conn.vhost.queue('orders')!.messageCount).toBe(1);
    expect(conn.vhost.queue('amq.transaction.half')!.messageCount).toBe(0);
    expect(ch2.publish('amq.transaction', 'commit', control('tx-c')).status).toBe('unroutable');
    f.clock.advance(3_600_000);
    await f.core.sweep();
    await settle();
    expect(conn.vhost.queue('orders')!.messageCount).toBe(1);
    await f.close();
  });

  it('lists pending half messages and lets an operator resolve them', async () => {
    const f = await openCore({ halfMessages: { timeoutMs: 100 } });
    const { ch, vh } = await setup(f);
    await ch.publish('', 'orders', half('one', 'op-1')).durable;
    f.clock.advance(10);
    await ch.publish('amq.direct', 'x', half('two', 'op-2')).durable;
    expect(vh.halfMessages().map((p) => [p.transactionId, p.exchange, p.routingKey, p.checks, p.nextCheckAt - p.storedAt, p.bytes])).toEqual([
      ['op-1', '', 'orders', 0, 100, 3],
      ['op-2', 'amq.direct', 'x', 0, 100, 3],
    ]);
    expect(vh.resolveHalfMessage('op-1', 'commit').status).toBe('routed');
    expect(vh.resolveHalfMessage('nope', 'rollback').status).toBe('unroutable');
    await settle();
    expect(vh.halfMessages().map((p) => p.transactionId)).toEqual(['op-2']);
    expect(vh.queue('orders')!.messageCount).toBe(1);
    await f.close();
  });

  it('internal queues cannot be consumed', async () => {
    const f = await openCore();
    const { ch } = await setup(f);
    ch.publish('', 'orders', half('x', 'tx-i'));
    expect(() => ch.consume('amq.transaction.half', { onDelivery: () => {} })).toThrow(/internal/);
    await f.close();
  });
});

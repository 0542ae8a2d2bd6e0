/**
 * Delayed delivery, retry with backoff and redrive through the core API on the real LogStore,
 * with the timer on a ManualClock: hours pass by moving the clock, not by waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogStore } from '../../storage/log-store.js';
import { ManualClock } from '../../storage/timer/index.js';
import { createCore, headerValue, isCoreError, type Core, type HeaderTable } from '../../src/core/index.js';
import { collector, msg, openCore, session, type Fixture } from './fixture.js';

const T0 = 1_700_000_000_000;
const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close().catch(() => {});
});

async function open(): Promise<{ f: Fixture; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const f = await openCore({ timerClock: clock, now: () => clock.now() }, 'log');
  fixtures.push(f);
  return { f, clock };
}

/** Waits (polling the event loop, no fixed sleep) until `cond` holds. */
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const persistent = { persistent: true };

describe('delayed delivery (core)', () => {
  it('holds a delayed publish invisible until its due time, then routes it as if published then', async () => {
    const { f, clock } = await open();
    const { conn, ch } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true });
    const r = ch.publish('', 'q', msg('later', persistent), { delayMs: 1500 });
    expect(r.status).toBe('routed');
    await r.durable;
    expect(conn.vhost.delayedCount()).toBe(1);
    expect(ch.get('q')).toBeNull();
    clock.advance(1499);
    await new Promise((res) => setTimeout(res, 20));
    expect(conn.vhost.queue('q')!.messageCount).toBe(0);
    clock.advance(1);
    await until(() => conn.vhost.queue('q')!.messageCount === 1, 'delivery');
    const d = ch.get('q', { noAck: true })!;
    expect(d.message.body.toString()).toBe('later');
    expect(d.message.timestamp).toBe(T0 + 1500);
    expect(headerValue(d.message.headers, 'x-pb-due')).toBeUndefined();
    await until(() => conn.vhost.delayedCount() === 0, 'timer finished');
  });

  it('x-delayed-message exchange: x-delay header delays, no header routes at once, x-delayed-type is required', async () => {
    const { f, clock } = await open();
    const { conn, ch } = session(f.core);
    const v = conn.vhost;
    await expect(v.declareExchange('bad', { type: 'x-delayed-message' })).rejects.toThrow(/x-delayed-type/);
    await v.declareExchange('dx', { type: 'x-delayed-message', arguments: { 'x-delayed-type': 'topic' } });
    expect(v.exchange('dx')!.type).toBe('x-delayed-message');
    await v.declareQueue('q', { durable: true });
    await v.bindQueue('q', 'dx', 'a.#');
    const c = collector();
    ch.consume('q', { noAck: true, onDelivery: c.onDelivery });
    await ch.publish('dx', 'a.b', msg('now', persistent)).durable;
    await ch.publish('dx', 'a.c', msg('in 3h', persistent, [{ name: 'x-delay', value: 3 * 3_600_000 }])).durable;
    await ch.publish('dx', 'z', msg('unbound', persistent, [{ name: 'x-delay', value: 10 }])).durable;
    await until(() => c.deliveries.length === 1);
    expect(c.bodies()).toEqual(['now']);
    clock.advance(3 * 3_600_000 - 1);
    await new Promise((res) => setTimeout(res, 20));
    expect(c.bodies()).toEqual(['now']);
    clock.advance(1);
    await until(() => c.deliveries.length === 2);
    expect(c.deliveries[1]!.message.routingKey).toBe('a.c');
    expect(c.deliveries[1]!.message.exchange).toBe('dx');
    expect(headerValue(c.deliveries[1]!.message.headers, 'x-delay')).toBe(3 * 3_600_000);
  });

  it('refuses delays outside 1 ms .. one year', async () => {
    const { f } = await open();
    const { conn, ch } = session(f.core);
    await conn.vhost.declareQueue('q');
    for (const d of [0.5, 366 * 86_400_000, Number.NaN]) {
      let err: unknown;
      try {
        ch.publish('', 'q', msg('x'), { delayMs: d });
      } catch (e) {
        err = e;
      }
      expect(isCoreError(err) && err.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('counts, lists and cancels pending delayed messages', async () => {
    const { f, clock } = await open();
    const { conn, ch } = session(f.core);
    const v = conn.vhost;
    await v.declareQueue('q', { durable: true });
    for (const [body, delay] of [['a', 5000], ['b', 1000], ['c', 86_400_000]] as const) await ch.publish('', 'q', msg(body, persistent), { delayMs: delay }).durable;
    expect(v.delayedCount()).toBe(3);
    const list = await v.listDelayed();
    expect(list.map((x) => [x.dueAt - T0, x.routingKey, x.bodySize])).toEqual([[1000, 'q', 1], [5000, 'q', 1], [86_400_000, 'q', 1]]);
    expect(await v.cancelDelayed(list[1]!.id)).toBe(true);
    expect(await v.cancelDelayed(list[1]!.id)).toBe(false);
    expect(await v.cancelDelayed('999')).toBe(false);
    expect(v.delayedCount()).toBe(2);
    clock.advance(86_400_000);
    await until(() => v.queue('q')!.messageCount === 2);
    const got = [ch.get('q', { noAck: true })!, ch.get('q', { noAck: true })!].map((d) => d.message.body.toString());
    expect(got).toEqual(['b', 'c']);
    expect(await v.cancelDelayed(list[0]!.id)).toBe(false);
  });

  it('survives a restart: pending ones fire after it, ones due during the downtime fire at once, none twice', async () => {
    const { f, clock } = await open();
    let { conn, ch } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true });
    await ch.publish('', 'q', msg('due-while-down', persistent), { delayMs: 60_000 }).durable;
    await ch.publish('', 'q', msg('after', persistent), { delayMs: 7_200_000 }).durable;
    await ch.publish('', 'q', msg('fired-before', persistent), { delayMs: 10 }).durable;
    clock.advance(10);
    await until(() => conn.vhost.queue('q')!.messageCount === 1);
    await f.restart();
    clock.advance(120_000);
    ({ conn, ch } = session(f.core));
    await until(() => conn.vhost.queue('q')!.messageCount === 2);
    await until(() => conn.vhost.delayedCount() === 1);
    clock.advance(7_200_000);
    await until(() => conn.vhost.queue('q')!.messageCount === 3);
    const bodies: string[] = [];
    for (let d = ch.get('q', { noAck: true }); d; d = ch.get('q', { noAck: true })) bodies.push(d.message.body.toString());
    expect(bodies).toEqual(['fired-before', 'due-while-down', 'after']);
  });
});

describe('delayed delivery rebuilt from the commit log (core)', () => {
  it('with the timer log lost, every confirmed delayed message is scheduled again from the commit log and delivered once, at its time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-delay-rebuild-'));
    const clock = new ManualClock(T0);
    const start = async (): Promise<Core> => {
      const core = createCore(new LogStore({ dir, segmentBytes: 1 << 20, durability: 'sync', intervalMs: 100 }), { timerClock: clock, now: () => clock.now(), sweepIntervalMs: 0, alarmCheckIntervalMs: 0 });
      await core.open();
      return core;
    };
    let core = await start();
    try {
      await core.vhost('/').declareQueue('q', { durable: true });
      const ch = core.connect({ vhost: '/', protocol: 'amqp' }).openChannel();
      const n = 300;
      // Due 1 s .. 10 s from now, 30 a second.
      await Promise.all(Array.from({ length: n }, (_, i) => ch.publish('', 'q', msg(`m${i}`, persistent), { delayMs: 1000 * (1 + (i % 10)) }).durable));
      await core.close();
      // The confirms waited for the commit log only, and this clock never reached the timer's
      // first checkpoint: a power loss could leave no timer unit at all. Its directory goes.
      rmSync(join(dir, 'timer'), { recursive: true, force: true });
      core = await start();
      const vh = core.vhost('/');
      expect(vh.delayedCount()).toBe(n);
      for (let s = 1; s <= 10; s++) {
        clock.advance(999);
        await new Promise((r) => setTimeout(r, 10));
        expect(vh.queue('q')!.messageCount).toBe(30 * (s - 1));
        clock.advance(1);
        await until(() => vh.queue('q')!.messageCount === 30 * s, `the messages due at ${s} s`);
      }
      await until(() => vh.delayedCount() === 0, 'timers finished');
      const ch2 = core.connect({ vhost: '/', protocol: 'amqp' }).openChannel();
      const bodies: string[] = [];
      for (let d = ch2.get('q', { noAck: true }); d; d = ch2.get('q', { noAck: true })) bodies.push(d.message.body.toString());
      expect(bodies.sort()).toEqual(Array.from({ length: n }, (_, i) => `m${i}`).sort());
    } finally {
      await core.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('delayed delivery and vhost deletion (core)', () => {
  it('drops the delayed messages of a deleted vhost, also when a vhost of the same name comes back', async () => {
    const { f, clock } = await open();
    await f.core.declareVhost('v1');
    let s = session(f.core, 'v1');
    await s.conn.vhost.declareQueue('q', { durable: true });
    await s.ch.publish('', 'q', msg('old', persistent), { delayMs: 60_000 }).durable;
    await f.core.deleteVhost('v1');
    await f.core.declareVhost('v1');
    s = session(f.core, 'v1');
    await s.conn.vhost.declareQueue('q', { durable: true });
    await s.ch.publish('', 'q', msg('new', persistent), { delayMs: 120_000 }).durable;
    expect(s.conn.vhost.delayedCount()).toBe(1);
    await f.restart();
    clock.advance(120_000);
    const v = f.core.vhost('v1');
    await until(() => v.queue('q')!.messageCount === 1);
    await new Promise((res) => setTimeout(res, 50));
    const ch = session(f.core, 'v1').ch;
    expect(ch.get('q', { noAck: true })!.message.body.toString()).toBe('new');
    expect(v.queue('q')!.messageCount).toBe(0);
  });
});

describe('retry with backoff and dead letters (core)', () => {
  it('turns nacks into delayed redeliveries at growing delays, then dead-letters with the history', async () => {
    const { f, clock } = await open();
    const { conn, ch } = session(f.core);
    const v = conn.vhost;
    await v.declareExchange('dlx', { type: 'fanout' });
    await v.declareQueue('dlq', { durable: true });
    await v.bindQueue('dlq', 'dlx', '');
    await v.declareQueue('work', { durable: true, arguments: { 'x-retry-delays': '1s 5s 30s', 'x-max-retries': 3, 'x-dead-letter-exchange': 'dlx' } });
    const c = collector();
    ch.consume('work', { onDelivery: c.onDelivery });
    await ch.publish('', 'work', msg('job', persistent)).durable;
    const seen: { at: number; retry: unknown }[] = [];
    for (const delay of [1000, 5000, 30_000]) {
      await until(() => c.deliveries.length === seen.length + 1);
      const d = c.deliveries[seen.length]!;
      seen.push({ at: clock.now(), retry: headerValue(d.message.headers, 'x-retry-count') });
      ch.nack(d.deliveryTag, false, false);
      await until(() => v.delayedCount() === 1, 'retry scheduled');
      clock.advance(delay - 1);
      await new Promise((res) => setTimeout(res, 10));
      expect(c.deliveries).toHaveLength(seen.length);
      clock.advance(1);
    }
    await until(() => c.deliveries.length === 4);
    seen.push({ at: clock.now(), retry: headerValue(c.deliveries[3]!.message.headers, 'x-retry-count') });
    expect(seen.map((s) => s.at - T0)).toEqual([0, 1000, 6000, 36_000]);
    expect(seen.map((s) => s.retry)).toEqual([undefined, 1, 2, 3]);
    ch.nack(c.deliveries[3]!.deliveryTag, false, false);
    await until(() => v.queue('dlq')!.messageCount === 1, 'dead-lettered');
    const dead = ch.get('dlq', { noAck: true })!;
    expect(headerValue(dead.message.headers, 'x-retry-count')).toBe(3);
    const death = (headerValue(dead.message.headers, 'x-death') as HeaderTable[])[0]!;
    expect(headerValue(death.entries, 'count')).toBe(4);
    expect(headerValue(death.entries, 'reason')).toBe('rejected');
    expect(headerValue(death.entries, 'queue')).toBe('work');
    expect(headerValue(dead.message.headers, 'x-first-death-queue')).toBe('work');
  });

  it('counts a channel closed with unacked deliveries as a failed attempt only with x-retry-on-disconnect', async () => {
    const { f, clock } = await open();
    const v = f.core.vhost('/');
    await v.declareQueue('plain', { durable: true, arguments: { 'x-retry-delays': '1m' } });
    await v.declareQueue('strict', { durable: true, arguments: { 'x-retry-delays': '1m', 'x-retry-on-disconnect': true } });
    const a = session(f.core);
    await a.ch.publish('', 'plain', msg('p', persistent)).durable;
    await a.ch.publish('', 'strict', msg('s', persistent)).durable;
    const c = collector();
    a.ch.consume('plain', { onDelivery: c.onDelivery });
    a.ch.consume('strict', { onDelivery: c.onDelivery });
    await until(() => c.deliveries.length === 2);
    await a.conn.close();
    expect(v.queue('plain')!.messageCount).toBe(1);
    await until(() => v.delayedCount() === 1);
    expect(v.queue('strict')!.messageCount).toBe(0);
    clock.advance(60_000);
    await until(() => v.queue('strict')!.messageCount === 1);
  });

  it('redrives dead-lettered messages to their origin queue, all or by filter', async () => {
    const { f } = await open();
    const { conn, ch } = session(f.core);
    const v = conn.vhost;
    await v.declareExchange('dlx', { type: 'fanout' });
    await v.declareQueue('dlq', { durable: true });
    await v.bindQueue('dlq', 'dlx', '');
    await v.declareQueue('work', { durable: true, arguments: { 'x-dead-letter-exchange': 'dlx' } });
    for (const b of ['1', '2', '3', '4']) await ch.publish('', 'work', msg(b, persistent)).durable;
    for (let i = 0; i < 4; i++) ch.reject(ch.get('work')!.deliveryTag, false);
    await until(() => v.queue('dlq')!.messageCount === 4);
    expect(await v.redrive('dlq', { filter: (m) => Number(m.body.toString()) % 2 === 0 })).toEqual({ moved: 2, skipped: 0 });
    expect(v.queue('dlq')!.messageCount).toBe(2);
    expect(v.queue('work')!.messageCount).toBe(2);
    const d = ch.get('work', { noAck: true })!;
    expect(d.message.body.toString()).toBe('2');
    expect(headerValue(d.message.headers, 'x-redriven-from')).toBe('dlq');
    expect(await v.redrive('dlq')).toEqual({ moved: 2, skipped: 0 });
    await f.restart();
    const v2 = f.core.vhost('/');
    expect(v2.queue('dlq')!.messageCount).toBe(0);
    expect(v2.queue('work')!.messageCount).toBe(3);
  });
});

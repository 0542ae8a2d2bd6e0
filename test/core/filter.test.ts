import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../src/core/index.js';
import { encodeRecordBatch } from '../../storage/record-batch.js';
import { tagHash, TAG_NONE, TAG_UNKNOWN } from '../../src/core/filter-tag.js';
import { collector, msg, openCore, session, settle } from './fixture.js';

const tagged = (body: string, value: string) => msg(body, {}, [{ name: 'x-stream-filter-value', value }]);

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await settle();
}

describe('server-side filters on queues', () => {
  it('gives each consumer the tagged messages it asked for and leaves the rest queued', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true });
    const red = collector();
    const blue = collector();
    ch.consume('q', { arguments: { 'x-stream-filter': 'red' }, onDelivery: red.onDelivery });
    ch.consume('q', { arguments: { 'x-stream-filter': ['blue', 'green'] }, onDelivery: blue.onDelivery });
    for (const [b, v] of [['r1', 'red'], ['b1', 'blue'], ['y1', 'yellow'], ['g1', 'green'], ['r2', 'red']] as const) ch.publish('', 'q', tagged(b, v));
    ch.publish('', 'q', msg('plain'));
    await waitUntil(() => red.deliveries.length + blue.deliveries.length === 4);
    await settle();
    expect(red.bodies()).toEqual(['r1', 'r2']);
    expect(blue.bodies()).toEqual(['b1', 'g1']);
    expect(conn.vhost.queue('q')!.messageCount).toBe(2);
    // A consumer without a filter takes what nobody else wanted, in order.
    const any = collector();
    ch.consume('q', { onDelivery: any.onDelivery });
    await waitUntil(() => any.deliveries.length === 2);
    expect(any.bodies()).toEqual(['y1', 'plain']);
    await f.close();
  });

  it('x-stream-match-unfiltered also takes messages without a filter value', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q');
    const c = collector();
    ch.consume('q', { arguments: { 'x-stream-filter': 'red', 'x-stream-match-unfiltered': true }, onDelivery: c.onDelivery });
    ch.publish('', 'q', tagged('r', 'red'));
    ch.publish('', 'q', tagged('b', 'blue'));
    ch.publish('', 'q', msg('u'));
    await waitUntil(() => c.deliveries.length === 2);
    expect(c.bodies()).toEqual(['r', 'u']);
    await f.close();
  });

  it('a selector consumer takes matching messages; others stay for other consumers', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q');
    const big = collector();
    ch.consume('q', { prefetch: 10, arguments: { 'x-selector': "amount > 100 AND region IN ('eu', 'us')" }, onDelivery: big.onDelivery });
    for (const [body, amount, region] of [['a', 50, 'eu'], ['b', 150, 'eu'], ['c', 500, 'ap'], ['d', 101, 'us']] as const) {
      ch.publish('', 'q', msg(body, {}, [{ name: 'amount', value: amount }, { name: 'region', value: region }]));
    }
    await waitUntil(() => big.deliveries.length === 2);
    expect(big.bodies()).toEqual(['b', 'd']);
    expect(conn.vhost.queue('q')!.messageCount).toBe(2);
    // Credit is respected: acking lets the next match through.
    await f.close();
  });

  it('respects credit: a filtered consumer with prefetch 1 gets the next match after an ack', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q');
    const c = collector();
    ch.consume('q', { prefetch: 1, arguments: { 'x-stream-filter': 'x' }, onDelivery: c.onDelivery });
    for (const b of ['1', '2', '3']) {
      ch.publish('', 'q', tagged(b, 'x'));
      ch.publish('', 'q', tagged('n' + b, 'n'));
    }
    await waitUntil(() => c.deliveries.length === 1);
    await settle();
    expect(c.deliveries).toHaveLength(1);
    ch.ack(c.deliveries[0]!.deliveryTag);
    await waitUntil(() => c.deliveries.length === 2);
    ch.ack(c.deliveries[1]!.deliveryTag);
    await waitUntil(() => c.deliveries.length === 3);
    expect(c.bodies()).toEqual(['1', '2', '3']);
    expect(conn.vhost.queue('q')!.messageCount).toBe(3);
    await f.close();
  });

  it('refuses a selector that does not parse with the parser message and position', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('q');
    let err: unknown;
    try {
      ch.consume('q', { arguments: { 'x-selector': 'a = = 1' }, onDelivery: () => {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as Error).message).toMatch(/invalid selector 'a = = 1'.*unexpected '='.*at position 4/);
    expect(() => ch.consume('q', { arguments: { 'x-stream-filter': [1] }, onDelivery: () => {} })).toThrow(InvalidArgument);
    await f.close();
  });
});

describe('server-side filters on streams', () => {
  it('skips non-matching messages for the filtered consumer only (log store)', async () => {
    const f = await openCore({}, 'log');
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('s', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (let i = 0; i < 200; i++) ch.publish('', 's', tagged(`m${i}`, i % 50 === 0 ? 'rare' : 'common'));
    ch.publish('', 's', msg('untagged'));
    const rare = collector();
    const all = collector();
    ch.consume('s', { streamOffset: 'first', prefetch: 1000, arguments: { 'x-stream-filter': 'rare', 'x-stream-match-unfiltered': true }, onDelivery: rare.onDelivery });
    ch.consume('s', { streamOffset: 'first', prefetch: 1000, onDelivery: all.onDelivery });
    await waitUntil(() => rare.deliveries.length === 5 && all.deliveries.length === 201);
    expect(rare.bodies()).toEqual(['m0', 'm50', 'm100', 'm150', 'untagged']);
    expect(rare.deliveries.map((d) => d.offset)).toEqual([0, 50, 100, 150, 200]);
    // New matching appends reach the waiting filtered consumer.
    ch.publish('', 's', tagged('late', 'rare'));
    await waitUntil(() => rare.deliveries.length === 6);
    expect(rare.bodies()[5]).toBe('late');
    await f.close();
  });

  it('indexes the tag of a Kafka batch whose records share one filter value (skippable), unknown when they differ', async () => {
    const f = await openCore();
    const { conn } = session(f.core);
    await conn.vhost.declareStream('t', { partitions: 1 });
    const rec = (tag: string | null) => ({ key: null, value: Buffer.from('v'), timestamp: 1, headers: tag === null ? [] : ([['x-stream-filter-value', Buffer.from(tag)]] as [string, Buffer][]) });
    conn.vhost.produce('t', 0, encodeRecordBatch({ records: [rec('x'), rec('x')] }));
    conn.vhost.produce('t', 0, encodeRecordBatch({ records: [rec('x'), rec('y')] }));
    conn.vhost.produce('t', 0, encodeRecordBatch({ records: [rec(null)] }));
    const id = (f.core.vhost('/') as unknown as { streamsByName: Map<string, { partitionIds: number[] }> }).streamsByName.get('t')!.partitionIds[0]!;
    expect([0, 2, 4].map((o) => f.store.lookup(id, o)!.tagHash)).toEqual([tagHash('x'), TAG_UNKNOWN, TAG_NONE]);
    await f.close();
  });

  it('filters Kafka-produced records by their x-stream-filter-value header and by selector', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('k', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    const rec = (v: string, tag: string, n: number) => ({ key: null, value: Buffer.from(v), timestamp: 1, headers: [['x-stream-filter-value', Buffer.from(tag)], ['n', Buffer.from(String(n))]] as [string, Buffer][] });
    conn.vhost.produce('k', 0, encodeRecordBatch({ records: [rec('a', 'x', 1), rec('b', 'y', 2), rec('c', 'x', 3)] }));
    const x = collector();
    const sel = collector();
    ch.consume('k', { streamOffset: 'first', prefetch: 100, arguments: { 'x-stream-filter': 'x' }, onDelivery: x.onDelivery });
    ch.consume('k', { streamOffset: 'first', prefetch: 100, arguments: { 'x-selector': 'n >= 2' }, onDelivery: sel.onDelivery });
    await waitUntil(() => x.deliveries.length === 2 && sel.deliveries.length === 2);
    expect(x.bodies()).toEqual(['a', 'c']);
    expect(sel.bodies()).toEqual(['b', 'c']);
    await f.close();
  });
});

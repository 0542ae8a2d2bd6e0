import { describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../storage/record-batch.js';
import { collector, msg, openCore, session, settle } from './fixture.js';

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await settle();
}

describe('message lookup', () => {
  it('finds a message by message id, correlation id or key, with its routes and queue states', async () => {
    const f = await openCore({}, 'log');
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareQueue('a', { durable: true });
    await vh.declareQueue('b', { durable: true });
    await vh.declareStream('s', { partitions: 2 });
    await vh.bindQueue('a', 'amq.fanout', '');
    await vh.bindQueue('b', 'amq.fanout', '');
    await vh.bindQueue('s', 'amq.fanout', '');
    await ch.publish('amq.fanout', '', msg('order', { messageId: 'm-1', correlationId: Buffer.from('corr-9'), persistent: true })).durable;
    const viaId = await vh.lookupMessages('m-1');
    expect(viaId).toHaveLength(1);
    expect(viaId[0]!.message.body.toString()).toBe('order');
    expect(viaId[0]!.routes.map((r) => [r.kind, r.name, r.state])).toEqual([
      ['queue', 'a', 'ready'],
      ['queue', 'b', 'ready'],
      ['stream', 's', 'retained'],
    ]);
    expect((await vh.lookupMessages('corr-9'))[0]!.message.properties.messageId).toBe('m-1');
    // Consume a (ack) and b (no ack yet): the states follow.
    const ca = collector();
    const cb = collector();
    ch.consume('a', { onDelivery: ca.onDelivery });
    ch.consume('b', { onDelivery: cb.onDelivery });
    await waitUntil(() => ca.deliveries.length === 1 && cb.deliveries.length === 1);
    ch.ack(ca.deliveries[0]!.deliveryTag);
    const s = (await vh.lookupMessages('m-1'))[0]!.routes;
    expect(s.map((r) => r.state)).toEqual(['settled', 'delivered', 'retained']);
    const sp = s[2]!;
    await vh.commitOffset('g1', 's', sp.partition, sp.offset + 1);
    expect((await vh.lookupMessages('m-1'))[0]!.routes[2]!.consumedBy).toEqual(['g1']);
    expect(await vh.lookupMessages('nothing')).toEqual([]);
    await f.close();
  });

  it('finds Kafka records by key, and messages after a restart', async () => {
    const f = await openCore({}, 'log');
    const { ch, conn } = session(f.core);
    let vh = conn.vhost;
    await vh.declareStream('k', { partitions: 1 });
    await vh.declareQueue('q', { durable: true });
    const rec = (k: string, v: string) => ({ key: Buffer.from(k), value: Buffer.from(v), timestamp: 1 });
    await vh.produce('k', 0, encodeRecordBatch({ records: [rec('cust-1', 'v1'), rec('cust-2', 'v2'), rec('cust-1', 'v3')] })).durable;
    await ch.publish('', 'q', msg('kept', { messageId: 'keep-me', persistent: true })).durable;
    const hits = await vh.lookupMessages('cust-1');
    expect(hits.map((h) => [h.message.body.toString(), h.routes[0]!.offset])).toEqual([['v1', 0], ['v3', 2]]);
    await f.core.flush();
    await f.restart();
    vh = f.core.vhost('/');
    expect((await vh.lookupMessages('keep-me')).map((h) => h.routes[0]!.state)).toEqual(['ready']);
    expect(await vh.lookupMessages('cust-2')).toHaveLength(1);
    await f.close();
  });
});

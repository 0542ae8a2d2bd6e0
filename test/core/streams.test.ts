import { describe, expect, it } from 'vitest';
import { kafkaPartition, NotFound, PreconditionFailed } from '../../src/core/index.js';
import { decodeRecordBatch, encodeRecordBatch, patchBaseOffset } from '../../storage/record-batch.js';
import { collector, msg, openCore, session, settle } from './fixture.js';

function kafkaBatch(records: { key?: string; value: string; ts?: number }[], ts = 1_700_000_000_000): Buffer {
  return encodeRecordBatch({
    records: records.map((r) => ({ key: r.key === undefined ? null : Buffer.from(r.key), value: Buffer.from(r.value), timestamp: r.ts ?? ts })),
  });
}

describe('streams', () => {
  it('create with N partitions, produce, fetch stored bytes and read offsets', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t', { partitions: 3 });
    const b = kafkaBatch([{ value: 'a' }, { value: 'b' }]);
    const r1 = vh.produce('t', 1, b);
    const r2 = vh.produce('t', 1, kafkaBatch([{ value: 'c' }]));
    expect([r1.baseOffset, r2.baseOffset]).toEqual([0, 2]);
    await r2.durable;
    expect(vh.partitionOffsets('t', 1)).toEqual({ startOffset: 0, highWatermark: 3, lastStableOffset: 3 });
    const batches = await vh.fetch('t', 1, 2, 1 << 20);
    expect(batches.map((x) => x.baseOffset)).toEqual([2]);
    // The stored batch is the producer's bytes; patching the base offset keeps the CRC valid.
    const copy = Buffer.from(batches[0]!.batch);
    patchBaseOffset(copy, 2);
    expect(decodeRecordBatch(copy).records[0]!.offset).toBe(2);
    const all = await vh.fetch('t', 1, 0, 1);
    expect(all).toHaveLength(1);
    expect(all[0]!.batch.equals(b)).toBe(true);
  });

  it('partitions keyed records exactly as Kafka default partitioner does', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t', { partitions: 6 });
    const key = Buffer.from('customer-17');
    expect(vh.partitionFor('t', key)).toBe(kafkaPartition(key, 6));
    expect(vh.produce('t', null, kafkaBatch([{ key: 'customer-17', value: 'x' }])).partition).toBe(kafkaPartition(key, 6));
  });

  it('resolves first/last/next/offset/timestamp', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t');
    vh.produce('t', 0, kafkaBatch([{ value: 'a' }], 1000));
    vh.produce('t', 0, kafkaBatch([{ value: 'b' }], 2000));
    vh.produce('t', 0, kafkaBatch([{ value: 'c' }], 3000));
    expect(vh.resolveOffset('t', 0, 'first')).toBe(0);
    expect(vh.resolveOffset('t', 0, 'last')).toBe(2);
    expect(vh.resolveOffset('t', 0, 'next')).toBe(3);
    expect(vh.resolveOffset('t', 0, { offset: 99 })).toBe(3);
    expect(vh.resolveOffset('t', 0, { timestamp: 1500 })).toBe(1);
    expect(vh.resolveOffset('t', 0, { timestamp: 9999 })).toBe(3);
  });

  it('reads decoded messages for non-Kafka consumers', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t');
    vh.produceRecords('t', 0, [{ key: Buffer.from('k'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }] }, { key: null, value: Buffer.from('v2') }]);
    const ms = await vh.readMessages('t', 0, 1, 10);
    expect(ms.map((m) => [m.offset, m.message.body.toString()])).toEqual([[1, 'v2']]);
    const first = (await vh.readMessages('t', 0, 0, 1))[0]!.message;
    expect(first.key!.toString()).toBe('k');
    // Non-Kafka consumers see the key as a header too (docs/mapping.md "Kafka key").
    expect(first.headers).toEqual([{ name: 'h', value: Buffer.from('x') }, { name: 'x-kafka-key', value: 'k' }]);
    expect(first.routingKey).toBe('t');
  });

  it('wakes long-polling readers on append and times out otherwise', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t');
    expect(await vh.waitForData('t', 0, 0, 0)).toBe(false);
    const w = vh.waitForData('t', 0, 0, 60_000);
    vh.produce('t', 0, kafkaBatch([{ value: 'a' }]));
    expect(await w).toBe(true);
    const ac = new AbortController();
    const w2 = vh.waitForData('t', 0, 1, 60_000, ac.signal);
    ac.abort();
    expect(await w2).toBe(false);
  });

  it('is a binding target: routed messages partition by key, else routing key', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareStream('orders', { partitions: 4 });
    ch.publish('amq.topic', 'orders.eu', msg('m1'));
    ch.publish('amq.topic', 'orders', msg('m2'));
    const p = kafkaPartition(Buffer.from('orders.eu'), 4);
    expect(vh.partitionOffsets('orders', p).highWatermark).toBeGreaterThanOrEqual(1);
    const keyed = ch.publish('amq.topic', 'orders.eu', { ...msg('m3'), key: Buffer.from('K') });
    expect(keyed.destinations).toBe(1);
    const kp = kafkaPartition(Buffer.from('K'), 4);
    const got = await vh.readMessages('orders', kp, 0, 10);
    expect(got.map((m) => m.message.body.toString())).toContain('m3');
  });

  it('gives a routed message the Kafka key of its x-kafka-key header (docs/mapping.md "Kafka key"), and a Kafka key reaches queues as that header', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareStream('keys', { partitions: 4 });
    ch.publish('amq.topic', 'keys.eu', { ...msg('h'), headers: [{ name: 'x-kafka-key', value: 'dev-7' }] });
    const got = await vh.readMessages('keys', kafkaPartition(Buffer.from('dev-7'), 4), 0, 10);
    expect(got.map((m) => [m.message.body.toString(), m.message.key?.toString()])).toContainEqual(['h', 'dev-7']);

    await vh.declareStream('kk');
    await vh.declareQueue('kq');
    await vh.bindQueue('kq', 'amq.topic', 'kk');
    vh.produce('kk', 0, encodeRecordBatch({ records: [
      { key: Buffer.from('k1'), value: Buffer.from('a'), timestamp: 1, headers: [['x-kafka-key', Buffer.from('forged')]] },
      { key: Buffer.from([0xff, 0x00]), value: Buffer.from('b'), timestamp: 1 },
      { key: null, value: Buffer.from('c'), timestamp: 1 },
    ] }));
    const headersOf = () => ch.get('kq', { noAck: true })!.message.headers;
    expect(headersOf()).toEqual([{ name: 'x-kafka-key', value: 'k1' }]);
    expect(headersOf()).toEqual([{ name: 'x-kafka-key', value: Buffer.from([0xff, 0x00]) }]);
    expect(headersOf()).toEqual([]);
  });

  it('forwards Kafka produces through amq.topic to bound queues', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareStream('orders');
    await vh.declareQueue('mqtt-sub');
    await vh.bindQueue('mqtt-sub', 'amq.topic', 'orders.#');
    vh.produce('orders', 0, kafkaBatch([{ key: 'k', value: 'from-kafka' }]));
    const d = ch.get('mqtt-sub', { noAck: true })!;
    expect(d.message.body.toString()).toBe('from-kafka');
    expect(d.message.key!.toString()).toBe('k');
    expect(vh.partitionOffsets('orders', 0).highWatermark).toBe(1);
  });

  it('stores consumer group offsets with metadata and reports lag', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t', { partitions: 2 });
    vh.produce('t', 0, kafkaBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }]));
    expect(vh.lag('g', 't', 0)).toBe(3);
    await vh.commitOffset('g', 't', 0, 2, 'meta');
    expect(vh.committedOffset('g', 't', 0)).toMatchObject({ offset: 2, metadata: 'meta' });
    expect(vh.lag('g', 't', 0)).toBe(1);
    expect(vh.groups()).toEqual(['g']);
    expect(vh.groupOffsets('g').get('t')!.get(0)!.offset).toBe(2);
    await f.restart();
    const vh2 = f.core.vhost('/');
    expect(vh2.committedOffset('g', 't', 0)).toMatchObject({ offset: 2, metadata: 'meta' });
    await vh2.commitOffset('g', 't', 1, 0);
    await vh2.deleteOffset('g', 't', 0);
    expect(vh2.committedOffset('g', 't', 0)).toBeNull();
    await f.restart();
    const vh3 = f.core.vhost('/');
    expect(vh3.committedOffset('g', 't', 0)).toBeNull();
    expect(vh3.committedOffset('g', 't', 1)).toMatchObject({ offset: 0 });
    await vh3.deleteGroup('g');
    expect(vh3.committedOffset('g', 't', 1)).toBeNull();
  });

  it('grows partitions, never shrinks, and checks declared counts', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t', { partitions: 2 });
    await expect(vh.declareStream('t', { partitions: 3 })).rejects.toThrow(PreconditionFailed);
    await vh.addPartitions('t', 5);
    expect(vh.stream('t')!.partitions).toBe(5);
    await expect(vh.addPartitions('t', 1)).rejects.toThrow(/cannot shrink/);
    expect(() => vh.partitionOffsets('t', 9)).toThrow(NotFound);
    await f.restart();
    expect(f.core.vhost('/').stream('t')!.partitions).toBe(5);
  });

  it('gets and sets retention config; retention trims the log start', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t', { retentionMs: 1000 });
    expect(vh.streamConfig('t')['retention.ms']).toBe('1000');
    await vh.setStreamConfig('t', { 'retention.ms': '500', 'cleanup.policy': 'delete' });
    expect(vh.streamConfig('t')).toMatchObject({ 'retention.ms': '500', 'cleanup.policy': 'delete' });
    vh.produce('t', 0, kafkaBatch([{ value: 'old' }], f.clock.t - 10_000));
    vh.produce('t', 0, kafkaBatch([{ value: 'new' }], f.clock.t));
    await f.core.sweep();
    expect(vh.partitionOffsets('t', 0).startOffset).toBe(1);
    vh.deleteRecordsBefore('t', 0, 2);
    expect(vh.partitionOffsets('t', 0).startOffset).toBe(2);
  });

  it('deletes a stream with its offsets', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('t');
    await vh.commitOffset('g', 't', 0, 0);
    await vh.deleteStream('t');
    expect(vh.stream('t')).toBeNull();
    expect(vh.committedOffset('g', 't', 0)).toBeNull();
  });

  it('x-queue-type stream queues are consumed from an offset with credit', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareQueue('sq', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (const b of ['1', '2', '3']) ch.publish('', 'sq', msg(b));
    expect(vh.queue('sq')).toMatchObject({ type: 'stream', messageCount: 3 });
    const c = collector();
    ch.consume('sq', { streamOffset: { offset: 1 }, prefetch: 1, onDelivery: c.onDelivery });
    await waitUntil(() => c.deliveries.length === 1);
    expect(c.deliveries[0]).toMatchObject({ offset: 1 });
    ch.ack(c.deliveries[0]!.deliveryTag);
    await waitUntil(() => c.deliveries.length === 2);
    ch.ack(c.deliveries[1]!.deliveryTag);
    ch.publish('', 'sq', msg('4'));
    await waitUntil(() => c.deliveries.length === 3);
    expect(c.bodies()).toEqual(['2', '3', '4']);
    await conn.close();
  });
});

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await settle();
}

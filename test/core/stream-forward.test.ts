/**
 * A Kafka produce is routed through `amq.topic` with routing key = stream name to every other
 * destination; decoding the produced batch is the expensive part, so it happens only when a
 * binding other than the stream's own would receive the records.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeRecordBatch } from '../../storage/record-batch.js';
import { openCore, session } from './fixture.js';

const decodes = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/core/record-codec.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/core/record-codec.js')>();
  return {
    ...real,
    decodeBatchMessages: (...a: Parameters<typeof real.decodeBatchMessages>) => {
      decodes.count++;
      return real.decodeBatchMessages(...a);
    },
  };
});

function kafkaBatch(value: string): Buffer {
  return encodeRecordBatch({ records: [{ key: null, value: Buffer.from(value), timestamp: 1_700_000_000_000 }] });
}

describe('Kafka produce forwarded through amq.topic', () => {
  beforeEach(() => {
    decodes.count = 0;
  });

  it('does not decode when amq.topic has no other binding matching the stream name', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    const vh = conn.vhost;
    await vh.declareStream('orders');
    await vh.declareQueue('sensors');
    await vh.bindQueue('sensors', 'amq.topic', 'sensors.#');
    await vh.bindQueue('sensors', 'amq.topic', 'orders.eu');
    await vh.bindQueue('sensors', 'amq.topic', '*.*');
    await vh.declareExchange('x', { type: 'topic' });
    await vh.bindExchange('x', 'amq.topic', 'orders.#');
    await vh.bindQueue('sensors', 'x', 'other');
    decodes.count = 0;
    vh.produce('orders', 0, kafkaBatch('a'));
    expect(decodes.count).toBe(0);
    expect(ch.get('sensors', { noAck: true })).toBeNull();
    expect(vh.partitionOffsets('orders', 0).highWatermark).toBe(1);
    await f.close();
  });

  for (const [what, setup] of [
    ['a queue bound with the stream name', async (vh: Vh) => vh.bindQueue('sub', 'amq.topic', 'orders')],
    ['a queue bound with #', async (vh: Vh) => vh.bindQueue('sub', 'amq.topic', '#')],
    ['a queue bound with *', async (vh: Vh) => vh.bindQueue('sub', 'amq.topic', '*')],
    [
      'a queue behind an exchange-to-exchange binding',
      async (vh: Vh) => {
        await vh.declareExchange('x', { type: 'topic' });
        await vh.bindExchange('x', 'amq.topic', 'orders.#');
        await vh.bindQueue('sub', 'x', 'orders');
      },
    ],
    [
      'a queue behind a headers exchange',
      async (vh: Vh) => {
        await vh.declareExchange('h', { type: 'headers' });
        await vh.bindExchange('h', 'amq.topic', '#');
        await vh.bindQueue('sub', 'h', '', { 'x-match': 'all' });
      },
    ],
  ] as const) {
    it(`decodes and delivers to ${what}`, async () => {
      const f = await openCore();
      const { ch, conn } = session(f.core);
      const vh = conn.vhost;
      await vh.declareStream('orders');
      await vh.declareQueue('sub');
      await setup(vh);
      decodes.count = 0;
      vh.produce('orders', 0, kafkaBatch('from-kafka'));
      expect(decodes.count).toBe(1);
      expect(ch.get('sub', { noAck: true })?.message.body.toString()).toBe('from-kafka');
      await f.close();
    });
  }

  it('forwards to another stream bound with the name, never back to the stream itself', async () => {
    const f = await openCore();
    const vh = f.core.vhost('/');
    await vh.declareStream('orders');
    await vh.declareStream('audit', { bindToTopicExchange: false });
    await vh.bindQueue('audit', 'amq.topic', 'orders');
    vh.produce('orders', 0, kafkaBatch('x'));
    expect(decodes.count).toBe(1);
    expect(vh.partitionOffsets('audit', 0).highWatermark).toBe(1);
    expect(vh.partitionOffsets('orders', 0).highWatermark).toBe(1);
    await f.close();
  });
});

type Vh = ReturnType<Awaited<ReturnType<typeof openCore>>['core']['vhost']>;

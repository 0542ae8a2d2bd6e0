/**
 * The per-partition producer state machine (Kafka's ProducerAppendInfo rules): duplicates among
 * the last five batches, epochs, sequences with wrap-around, transactions' first offsets.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PartitionProducers, RETAINED_BATCHES } from '../../../protocols/kafka/producers/partition-producers.js';
import { lastSequence, type ProducerBatchHeader } from '../../../protocols/kafka/producers/batch-header.js';

const h = (baseSequence: number, recordCount = 1, producerEpoch = 0, extra: Partial<ProducerBatchHeader> = {}): ProducerBatchHeader => ({
  producerId: 1000,
  producerEpoch,
  baseSequence,
  recordCount,
  transactional: false,
  control: false,
  ...extra,
});

/** Appends when the verdict says so and returns the verdict. */
function send(p: PartitionProducers, b: ProducerBatchHeader, offset: { next: number }) {
  const v = p.check(b);
  if (v.kind === 'append') {
    p.appended(b, offset.next, 0);
    offset.next += b.recordCount;
  }
  return v;
}

describe('PartitionProducers', () => {
  it('accepts a new producer at any sequence, then only the next sequence', () => {
    const p = new PartitionProducers();
    const o = { next: 0 };
    expect(send(p, h(7, 3), o)).toEqual({ kind: 'append' });
    expect(send(p, h(10, 2), o)).toEqual({ kind: 'append' });
    expect(send(p, h(13), o)).toMatchObject({ kind: 'reject', errorCode: 45 });
    expect(send(p, h(11), o)).toMatchObject({ kind: 'reject', errorCode: 45 });
    expect(send(p, h(12), o)).toEqual({ kind: 'append' });
  });

  it('answers a retry of any of the last five batches with its original offset, not older ones', () => {
    const p = new PartitionProducers();
    const o = { next: 100 };
    for (let i = 0; i < 7; i++) send(p, h(i * 2, 2), o);
    // batches at offsets 100,102,...,112; the last five start at 104
    expect(send(p, h(4, 2), o)).toEqual({ kind: 'duplicate', baseOffset: 104 });
    expect(send(p, h(12, 2), o)).toEqual({ kind: 'duplicate', baseOffset: 112 });
    expect(send(p, h(2, 2), o)).toMatchObject({ kind: 'reject', errorCode: 45 });
    // a batch with the same first sequence but another length is not a duplicate
    expect(send(p, h(4, 1), o)).toMatchObject({ kind: 'reject', errorCode: 45 });
    expect(o.next).toBe(114);
  });

  it('refuses an older epoch with INVALID_PRODUCER_EPOCH; a newer epoch must start at sequence 0 and forgets the old batches', () => {
    const p = new PartitionProducers();
    const o = { next: 0 };
    send(p, h(0, 1, 3), o);
    expect(send(p, h(1, 1, 2), o)).toMatchObject({ kind: 'reject', errorCode: 47 });
    expect(send(p, h(5, 1, 4), o)).toMatchObject({ kind: 'reject', errorCode: 45 });
    expect(send(p, h(0, 1, 4), o)).toEqual({ kind: 'append' });
    expect(send(p, h(0, 1, 3), o)).toMatchObject({ kind: 'reject', errorCode: 47 });
    expect(send(p, h(0, 1, 4), o)).toEqual({ kind: 'duplicate', baseOffset: 1 });
  });

  it('follows sequences across the wrap from 2^31-1 to 0', () => {
    const p = new PartitionProducers();
    const o = { next: 0 };
    const max = 0x7fffffff;
    expect(lastSequence(max - 1, 3)).toBe(0);
    send(p, h(max - 2, 2), o);
    expect(send(p, h(max, 2), o)).toEqual({ kind: 'append' });
    expect(send(p, h(1), o)).toEqual({ kind: 'append' });
  });

  it('tracks the first offset of open transactions and refuses a plain write inside one (INVALID_TXN_STATE)', () => {
    const p = new PartitionProducers();
    const o = { next: 10 };
    send(p, h(0, 2, 0, { transactional: true }), o);
    send(p, h(0, 1, 0, { transactional: true, producerId: 7 }), o);
    send(p, h(2, 1, 0, { transactional: true }), o);
    expect(p.firstOpenOffset()).toBe(10);
    expect(send(p, h(3), o)).toMatchObject({ kind: 'reject', errorCode: 48 });
    expect(p.ended(1000, 0, false, 14)).toBe(10);
    expect(p.firstOpenOffset()).toBe(12);
    expect(p.ended(7, 0, true, 15)).toBe(12);
    expect(p.firstOpenOffset()).toBe(-1);
    expect(p.aborted).toEqual([{ producerId: 1000, firstOffset: 10, lastOffset: 14 }]);
    expect(p.abortedIn(0, 9)).toEqual([]);
    expect(p.abortedIn(14, 20)).toHaveLength(1);
    expect(p.abortedIn(15, 20)).toEqual([]);
  });

  it('producer.id.expiration.ms: forgets producers idle since before the cut-off, never one with an open transaction', () => {
    const p = new PartitionProducers();
    p.appended(h(0, 1, 0, { producerId: 1 }), 0, 1000);
    p.appended(h(0, 1, 0, { producerId: 2, transactional: true }), 1, 1000);
    p.appended(h(0, 1, 0, { producerId: 3 }), 2, 5000);
    expect(p.expire(2000)).toBe(1);
    expect([...p.producers.keys()]).toEqual([2, 3]);
    // Forgotten: its next batch is accepted at any sequence.
    expect(p.check(h(7, 1, 0, { producerId: 1 }))).toEqual({ kind: 'append' });
  });

  it('a stream of sends with random retries stores every sequence exactly once (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: RETAINED_BATCHES - 1 })), { maxLength: 60 }), (ops) => {
        const p = new PartitionProducers();
        const o = { next: 0 };
        const sent: ProducerBatchHeader[] = [];
        const stored: number[] = [];
        let seq = 0;
        for (const [count, retryBack] of ops) {
          const b = h(seq, count);
          const v = send(p, b, o);
          expect(v.kind).toBe('append');
          for (let i = 0; i < count; i++) stored.push(seq + i);
          sent.push(b);
          seq += count;
          const retry = sent[Math.max(0, sent.length - 1 - retryBack)]!;
          expect(send(p, retry, o).kind).toBe('duplicate');
        }
        expect(stored).toEqual(Array.from({ length: seq }, (_, i) => i));
        expect(o.next).toBe(seq);
      }),
    );
  });
});

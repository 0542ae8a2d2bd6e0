/**
 * The Store contract as one shared suite (aedes-persistence's abstract.js, STYLE.md anchor 5):
 * any implementation of storage/types.ts must pass it. `make(dir, options)` returns a new,
 * unopened store on `dir`; reopening the same dir must find what was written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeRecordBatch, decodeRecordBatch } from '../../storage/record-batch.js';
import type { AppendTarget, DurabilityMode, Store, StoreOptions } from '../../storage/types.js';

export type StoreFactory = (options: StoreOptions) => Store;

export function batchOf(values: string[], timestamp = 1_000): Buffer {
  return encodeRecordBatch({ records: values.map((v) => ({ value: Buffer.from(v), timestamp })) });
}

export function appendValues(
  store: Store,
  values: string[],
  targets: AppendTarget[],
  timestamp = 1_000,
  durability?: DurabilityMode,
) {
  return store.append({
    batch: batchOf(values, timestamp),
    recordCount: values.length,
    firstTimestamp: timestamp,
    maxTimestamp: timestamp,
    targets,
    durability,
  });
}

export function valuesOf(batch: Buffer): string[] {
  return decodeRecordBatch(batch).records.map((r) => r.value!.toString());
}

export function describeStoreContract(name: string, make: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let dir: string;
    let store: Store;
    const opts = (over: Partial<StoreOptions> = {}): StoreOptions => ({
      dir,
      segmentBytes: 64 * 1024,
      durability: 'sync',
      intervalMs: 20,
      ...over,
    });

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pb-store-'));
      store = make(opts());
      await store.open();
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('assigns consecutive offsets per partition, synchronously', async () => {
      const a = appendValues(store, ['a', 'b'], [{ partition: 1 }]);
      const b = appendValues(store, ['c'], [{ partition: 1 }, { partition: 2 }]);
      expect(a.baseOffsets).toEqual([0]);
      expect(b.baseOffsets).toEqual([2, 0]);
      expect(store.endOffset(1)).toBe(3);
      expect(store.endOffset(2)).toBe(1);
      expect(store.endOffset(3)).toBe(0);
      await Promise.all([a.durable, b.durable]);
    });

    it('shares one durability promise between the appends of one tick (group commit)', async () => {
      const a = appendValues(store, ['a'], [{ partition: 1 }]);
      const b = appendValues(store, ['b'], [{ partition: 1 }]);
      expect(a.durable).toBe(b.durable);
      await a.durable;
    });

    it('writes a message routed to N partitions once and indexes it N times', async () => {
      const r = appendValues(store, ['x'], [{ partition: 7 }, { partition: 8, tagHash: 99 }]);
      await r.durable;
      const u7 = store.lookup(7, 0)!;
      const u8 = store.lookup(8, 0)!;
      expect(u7.position).toBe(r.position);
      expect(u8.position).toBe(r.position);
      expect(u8.tagHash).toBe(99);
      const [b7] = await store.read(7, 0, 1 << 20);
      const [b8] = await store.read(8, 0, 1 << 20);
      expect(b7!.batch.equals(b8!.batch)).toBe(true);
      expect(valuesOf(b8!.batch)).toEqual(['x']);
    });

    it('looks up the batch holding any offset, and nothing outside [start, end)', async () => {
      appendValues(store, ['a', 'b', 'c'], [{ partition: 1 }]);
      await appendValues(store, ['d'], [{ partition: 1 }]).durable;
      expect(store.lookup(1, 0)!.baseOffset).toBe(0);
      expect(store.lookup(1, 2)!.baseOffset).toBe(0);
      expect(store.lookup(1, 2)!.recordCount).toBe(3);
      expect(store.lookup(1, 3)!.baseOffset).toBe(3);
      expect(store.lookup(1, 4)).toBeNull();
      expect(store.lookup(1, -1)).toBeNull();
      expect(store.lookup(9, 0)).toBeNull();
    });

    it('reads whole batches up to maxBytes, at least one', async () => {
      for (let i = 0; i < 10; i++) appendValues(store, [`v${i}`], [{ partition: 1 }]);
      await store.flush();
      const one = await store.read(1, 3, 1);
      expect(one.map((b) => b.baseOffset)).toEqual([3]);
      const all = await store.read(1, 0, 1 << 20);
      expect(all.map((b) => valuesOf(b.batch)[0])).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
      expect(await store.read(1, 10, 1 << 20)).toEqual([]);
    });

    it('serves recent appends from memory with readCached', () => {
      const r = appendValues(store, ['hot'], [{ partition: 3 }]);
      const cached = store.readCached(3, 0);
      expect(cached).not.toBeNull();
      expect(cached!.position).toBe(r.position);
      expect(valuesOf(cached!.batch)).toEqual(['hot']);
      expect(store.readCached(3, 1)).toBeNull();
    });

    it('finds the first offset at or after a timestamp', async () => {
      appendValues(store, ['a'], [{ partition: 1 }], 100);
      appendValues(store, ['b'], [{ partition: 1 }], 200);
      appendValues(store, ['c'], [{ partition: 1 }], 300);
      await store.flush();
      expect(store.offsetForTimestamp(1, 0)).toBe(0);
      expect(store.offsetForTimestamp(1, 150)).toBe(1);
      expect(store.offsetForTimestamp(1, 300)).toBe(2);
      expect(store.offsetForTimestamp(1, 301)).toBe(3);
    });

    it('keeps everything acknowledged across close and reopen', async () => {
      for (let i = 0; i < 50; i++) appendValues(store, [`m${i}`], [{ partition: i % 3 }], 1000 + i);
      await store.close();
      store = make(opts());
      const report = await store.open();
      expect(report.truncatedBytes).toBe(0);
      for (let p = 0; p < 3; p++) {
        const batches = await store.read(p, 0, 1 << 20);
        const values = batches.flatMap((b) => valuesOf(b.batch));
        expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 3 === p).map((i) => `m${i}`));
      }
      expect(appendValues(store, ['next'], [{ partition: 0 }]).baseOffsets).toEqual([17]);
    });

    it('moves the start offset with truncateBefore and keeps it after reopen', async () => {
      for (let i = 0; i < 5; i++) appendValues(store, [`m${i}`], [{ partition: 1 }]);
      store.truncateBefore(1, 3);
      expect(store.startOffset(1)).toBe(3);
      expect(store.lookup(1, 2)).toBeNull();
      expect((await store.read(1, 0, 1 << 20)).map((b) => b.baseOffset)).toEqual([3, 4]);
      await store.close();
      store = make(opts());
      await store.open();
      expect(store.startOffset(1)).toBe(3);
      expect(store.endOffset(1)).toBe(5);
    });

    it('frees the disk of a consumed queue (release) and never reuses its offsets', async () => {
      store.setPolicy(1, { kind: 'queue' });
      const value = 'q'.repeat(1000);
      let next = 0;
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 200; i++) appendValues(store, [value], [{ partition: 1 }]);
        await store.flush();
        for (; next < store.endOffset(1); next++) store.release(1, next);
        await store.reclaim();
      }
      // 5 rounds of ~200 KiB each through 64 KiB segments: only the active one(s) remain.
      expect(store.diskBytes()).toBeLessThan(3 * 64 * 1024);
      expect(store.startOffset(1)).toBe(1000);
      await store.close();
      store = make(opts());
      await store.open();
      expect(store.endOffset(1)).toBe(1000);
      expect(appendValues(store, ['after'], [{ partition: 1 }]).baseOffsets).toEqual([1000]);
    });

    it('persists a queue\'s released head at reclaim, so a reopen does not bring consumed entries back', async () => {
      store.setPolicy(4, { kind: 'queue' });
      for (let i = 0; i < 10; i++) appendValues(store, [`m${i}`], [{ partition: 4 }]);
      for (let i = 0; i < 6; i++) store.release(4, i);
      store.release(4, 8);
      expect(store.startOffset(4)).toBe(6);
      await store.reclaim();
      await store.close();
      store = make(opts());
      await store.open();
      expect(store.startOffset(4)).toBe(6);
      expect((await store.read(4, 0, 1 << 20)).map((b) => b.baseOffset)).toEqual([6, 7, 8, 9]);
    });

    it('moves a queue\'s start offset past entries whose segments were already reclaimed', async () => {
      store.setPolicy(1, { kind: 'queue' });
      const value = 'g'.repeat(1000);
      for (let i = 0; i < 200; i++) appendValues(store, [value], [{ partition: 1 }]);
      await store.flush();
      for (let i = 1; i < 199; i++) store.release(1, i);
      expect(await store.reclaim()).toBeGreaterThan(0);
      expect(store.startOffset(1)).toBe(0);
      store.release(1, 0);
      expect(store.startOffset(1)).toBe(199);
      expect((await store.read(1, 0, 1 << 20)).map((b) => b.baseOffset)).toEqual([199]);
    });

    it('keeps a segment while any partition still needs an entry in it', async () => {
      store.setPolicy(1, { kind: 'queue' });
      store.setPolicy(2, { kind: 'queue' });
      const value = 'z'.repeat(1000);
      for (let i = 0; i < 200; i++) appendValues(store, [value], [{ partition: 1 }, { partition: 2 }]);
      await store.flush();
      for (let i = 0; i < 200; i++) store.release(1, i);
      const before = store.diskBytes();
      expect(await store.reclaim()).toBe(0);
      expect(store.diskBytes()).toBe(before);
      const all = await store.read(2, 0, 1 << 30);
      expect(all.length).toBe(200);
      for (let i = 0; i < 200; i++) store.release(2, i);
      expect(await store.reclaim()).toBeGreaterThan(0);
    });

    it('applies stream retention by bytes and by time on whole segments', async () => {
      store.setPolicy(1, { kind: 'stream', retentionMs: -1, retentionBytes: 100 * 1024 });
      store.setPolicy(2, { kind: 'stream', retentionMs: 60_000, retentionBytes: -1 });
      const value = 'r'.repeat(1000);
      for (let i = 0; i < 400; i++) appendValues(store, [value], [{ partition: 1 }], 1_000 + i);
      for (let i = 0; i < 400; i++) appendValues(store, [value], [{ partition: 2 }], i < 300 ? 1_000 : 10_000_000);
      await store.flush();
      const freed = await store.reclaim(10_000_000);
      expect(freed).toBeGreaterThan(0);
      // Bytes: what remains of partition 1 is at least the retention and less than one segment more.
      const p1 = await store.read(1, 0, 1 << 30);
      const kept = p1.reduce((n, b) => n + b.batch.length, 0);
      expect(kept).toBeGreaterThanOrEqual(100 * 1024 - 64 * 1024);
      expect(store.startOffset(1)).toBeGreaterThan(0);
      expect(p1[0]!.baseOffset).toBe(store.startOffset(1));
      // Time: the old records of partition 2 go (whole segments), the new ones stay.
      expect(store.startOffset(2)).toBeGreaterThan(0);
      expect(store.startOffset(2)).toBeLessThanOrEqual(300);
      expect(store.offsetForTimestamp(2, 10_000_000)).toBe(300);
    });

    it('forgets a dropped partition', async () => {
      appendValues(store, ['a', 'b'], [{ partition: 5 }]);
      await store.dropPartition(5);
      expect(store.lookup(5, 0)).toBeNull();
      expect(await store.read(5, 0, 1 << 20)).toEqual([]);
    });

    it('keeps meta log records and snapshots across reopen', async () => {
      const m = await store.metaLog('definitions');
      await m.append(Buffer.from('one'));
      await m.append(Buffer.from('two'));
      expect(m.recordsSinceSnapshot).toBe(2);
      await m.snapshot(Buffer.from('S'));
      await m.append(Buffer.from('three'));
      await store.close();
      store = make(opts());
      await store.open();
      const again = await store.metaLog('definitions');
      const { snapshot, records } = again.replay();
      expect(snapshot!.toString()).toBe('S');
      expect(records.map(String)).toEqual(['three']);
      expect(again.recordsSinceSnapshot).toBe(1);
    });

    it('rejects a malformed append without assigning offsets', async () => {
      expect(() => appendValues(store, ['a'], [{ partition: 1 }, { partition: -1 }])).toThrow(RangeError);
      expect(() => store.append({ batch: batchOf(['a']), recordCount: 0, firstTimestamp: 1, maxTimestamp: 1, targets: [{ partition: 1 }] })).toThrow(RangeError);
      expect(() => store.append({ batch: batchOf(['a']), recordCount: 1, firstTimestamp: NaN, maxTimestamp: 1, targets: [{ partition: 1 }] })).toThrow(RangeError);
      expect(store.endOffset(1)).toBe(0);
      await appendValues(store, ['ok'], [{ partition: 1 }]).durable;
      expect(valuesOf((await store.read(1, 0, 1))[0]!.batch)).toEqual(['ok']);
    });

    it('signals backpressure under a burst and lifts it once the bytes are written', async () => {
      expect(store.writable).toBe(true);
      await store.whenWritable();
      await store.close();
      store = make(opts({ maxPendingBytes: 1024 * 1024, durability: 'none' }));
      await store.open();
      const big = 'b'.repeat(64 * 1024);
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < 64; i++) last = appendValues(store, [big], [{ partition: 1 }]).durable;
      expect(store.writable).toBe(false);
      await store.whenWritable();
      expect(store.writable).toBe(true);
      await last;
      expect(store.endOffset(1)).toBe(64);
    });

    it('reads back what was appended, for random appends over random partitions (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              values: fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 4 }),
              targets: fc.uniqueArray(fc.integer({ min: 100, max: 104 }), { minLength: 1, maxLength: 3 }),
            }),
            { minLength: 1, maxLength: 40 },
          ),
          async (appends) => {
            const model = new Map<number, string[]>();
            const base = new Map<number, number>();
            for (let p = 100; p <= 104; p++) base.set(p, store.endOffset(p));
            for (const a of appends) {
              const r = appendValues(store, a.values, a.targets.map((partition) => ({ partition })));
              a.targets.forEach((p, i) => {
                const list = model.get(p) ?? [];
                expect(r.baseOffsets[i]).toBe(base.get(p)! + list.length);
                list.push(...a.values);
                model.set(p, list);
              });
            }
            await store.flush();
            for (const [p, values] of model) {
              const got = (await store.read(p, base.get(p)!, 1 << 30)).flatMap((b) => valuesOf(b.batch));
              expect(got).toEqual(values);
              for (let i = 0; i < values.length; i++) {
                const u = store.lookup(p, base.get(p)! + i)!;
                expect(u.baseOffset).toBeLessThanOrEqual(base.get(p)! + i);
                expect(u.baseOffset + u.recordCount).toBeGreaterThan(base.get(p)! + i);
              }
            }
          },
        ),
        { numRuns: 25 },
      );
    });
  });
}

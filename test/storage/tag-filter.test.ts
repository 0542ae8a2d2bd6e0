/**
 * Filtered reads: batches whose index unit carries a refused tag hash are skipped from the
 * index alone (no commit-log read), across sealed segments (index files) and a reopen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { CommitLog } from '../../storage/commit-log.js';
import { LogStore } from '../../storage/log-store.js';
import type { StoreOptions } from '../../storage/types.js';
import { appendValues, valuesOf } from './store-contract.js';

let dir: string;
const opts = (over: Partial<StoreOptions> = {}): StoreOptions => ({ dir, segmentBytes: 8 * 1024, durability: 'none', intervalMs: 20, cacheBytes: 0, ...over });
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-tagfilter-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function readAllFiltered(store: LogStore, partition: number, accept: (h: number) => boolean, maxUnits?: number): Promise<string[]> {
  const out: string[] = [];
  let off = store.startOffset(partition);
  while (off < store.endOffset(partition)) {
    const r = await store.readFiltered(partition, off, 4096, accept, maxUnits);
    for (const b of r.batches) out.push(...valuesOf(b.batch).slice(Math.max(0, off - b.baseOffset)));
    expect(r.nextOffset).toBeGreaterThan(off);
    off = r.nextOffset;
  }
  return out;
}

describe('tag-filtered reads', () => {
  it('return exactly the batches whose tag is accepted, like a naive filter (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 300 }), fc.subarray([0, 1, 2, 3, 4]), fc.integer({ min: 1, max: 40 }), async (tags, accepted, maxUnits) => {
        rmSync(dir, { recursive: true, force: true });
        let store = new LogStore(opts());
        await store.open();
        tags.forEach((t, i) => appendValues(store, [`v${i}-${t}`], [{ partition: 1, tagHash: t }]));
        await store.flush();
        const accept = (h: number) => accepted.includes(h);
        const expected = tags.flatMap((t, i) => (accepted.includes(t) ? [`v${i}-${t}`] : []));
        expect(await readAllFiltered(store, 1, accept, maxUnits)).toEqual(expected);
        await store.close();
        store = new LogStore(opts());
        await store.open();
        expect(await readAllFiltered(store, 1, accept, maxUnits)).toEqual(expected);
        await store.close();
      }),
      { numRuns: 25 },
    );
  });

  it('never reads the commit log for skipped batches', async () => {
    const store = new LogStore(opts());
    await store.open();
    for (let i = 0; i < 500; i++) appendValues(store, ['x'.repeat(100)], [{ partition: 7, tagHash: i === 250 ? 42 : 9 }]);
    await store.flush();
    await store.close();
    const reopened = new LogStore(opts());
    await reopened.open();
    const spy = vi.spyOn(CommitLog.prototype, 'readAt');
    const many = vi.spyOn(CommitLog.prototype, 'readRanges');
    const r = await reopened.readFiltered(7, 0, 1 << 20, (h) => h === 42);
    expect(r.batches.map((b) => b.baseOffset)).toEqual([250]);
    expect(r.nextOffset).toBe(500);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]![1]).toBeLessThan(300);
    spy.mockClear();
    const none = await reopened.readFiltered(7, 0, 1 << 20, (h) => h === 43);
    expect(none).toEqual({ batches: [], nextOffset: 500 });
    expect(spy).not.toHaveBeenCalled();
    expect(many).not.toHaveBeenCalled();
    await reopened.close();
  });

  it('reads accepted batches far apart as separate small ranges of one call', async () => {
    const big = (): StoreOptions => opts({ segmentBytes: 4 << 20 });
    const store = new LogStore(big());
    await store.open();
    for (let i = 0; i < 2000; i++) appendValues(store, [`${i}`.padEnd(300, 'x')], [{ partition: 3, tagHash: i % 500 === 7 ? 42 : 9 }]);
    await store.flush();
    await store.close();
    const reopened = new LogStore(big());
    await reopened.open();
    const many = vi.spyOn(CommitLog.prototype, 'readRanges');
    const r = await reopened.readFiltered(3, 0, 1 << 20, (h) => h === 42);
    expect(r.batches.map((b) => b.baseOffset)).toEqual([7, 507, 1007, 1507]);
    expect(r.batches.map((b) => valuesOf(b.batch)[0]!.slice(0, 4))).toEqual(['7xxx', '507x', '1007', '1507']);
    expect(r.nextOffset).toBe(2000);
    expect(many).toHaveBeenCalledTimes(1);
    // Four ranges of one batch each (the 500 batches between two are never read).
    const sizes = many.mock.calls[0]![2];
    expect(sizes).toHaveLength(4);
    sizes.forEach((size, i) => expect(size - r.batches[i]!.batch.length).toBeLessThan(100));
    await reopened.close();
  });
});

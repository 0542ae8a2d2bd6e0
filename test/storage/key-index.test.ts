/**
 * The message-key index: keys given with appends are found again (newest first) before and
 * after a reopen, are rebuilt from the log through the extractor when the index file is lost
 * or behind (derived data), and never answer for a position the log no longer has.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LogStore } from '../../storage/log-store.js';
import { KEY_INDEX_DIR } from '../../storage/message-key-index.js';
import type { StoreOptions } from '../../storage/types.js';
import { batchOf, valuesOf } from './store-contract.js';

let dir: string;
const opts = (over: Partial<StoreOptions> = {}): StoreOptions => ({ dir, segmentBytes: 16 * 1024, durability: 'none', intervalMs: 20, ...over });
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The store's extractor here: a batch's values are its keys. */
const extractor = (batch: Buffer) => valuesOf(batch);

function appendKeyed(store: LogStore, value: string, partition = 1) {
  return store.append({ batch: batchOf([value], 1000), recordCount: 1, firstTimestamp: 1000, maxTimestamp: 1000, targets: [{ partition }], keys: [value] });
}

async function found(store: LogStore, key: string): Promise<string[]> {
  return (await store.lookupKey(key, 100)).flatMap((e) => valuesOf(e.batch));
}

describe('message-key index', () => {
  it('finds entries by key like a naive model, before and after reopen (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c', 'order-1', 'order-2', 'ü'), { minLength: 1, maxLength: 200 }), async (keys) => {
        rmSync(dir, { recursive: true, force: true });
        let store = new LogStore(opts());
        store.setKeyExtractor(extractor);
        await store.open();
        keys.forEach((k) => appendKeyed(store, k));
        await store.flush();
        for (const k of new Set(keys)) expect(await found(store, k)).toEqual(keys.filter((x) => x === k));
        expect(await found(store, 'missing')).toEqual([]);
        await store.close();
        store = new LogStore(opts());
        store.setKeyExtractor(extractor);
        await store.open();
        for (const k of new Set(keys)) expect(await found(store, k)).toEqual(keys.filter((x) => x === k));
        await store.close();
      }),
      { numRuns: 20 },
    );
  });

  it('returns hits with their targets and offsets, newest first, at most limit', async () => {
    const store = new LogStore(opts());
    await store.open();
    appendKeyed(store, 'k', 3);
    store.append({ batch: batchOf(['k'], 2000), recordCount: 1, firstTimestamp: 2000, maxTimestamp: 2000, targets: [{ partition: 3 }, { partition: 4 }], keys: ['k', 'other'] });
    await store.flush();
    const hits = await store.lookupKey('k', 10);
    expect(hits.map((h) => h.targets)).toEqual([[{ partition: 3, baseOffset: 1 }, { partition: 4, baseOffset: 0 }], [{ partition: 3, baseOffset: 0 }]]);
    expect(hits[0]!.timestamp).toBe(2000);
    expect(await store.lookupKey('k', 1)).toHaveLength(1);
    expect((await store.lookupKey('other', 10)).map((h) => h.position)).toEqual([hits[0]!.position]);
    await store.close();
  });

  it('is rebuilt from the log by the extractor when its files are lost (a crash before they were written)', async () => {
    let store = new LogStore(opts());
    await store.open();
    for (let i = 0; i < 300; i++) appendKeyed(store, `m${i % 30}`);
    await store.close();
    rmSync(join(dir, KEY_INDEX_DIR), { recursive: true, force: true });
    store = new LogStore(opts());
    store.setKeyExtractor(extractor);
    await store.open();
    expect(await found(store, 'm7')).toHaveLength(10);
    await store.close();
    expect(readdirSync(join(dir, KEY_INDEX_DIR)).some((f) => f.endsWith('.kix'))).toBe(true);
  });

  it('forgets keys of reclaimed segments', async () => {
    const store = new LogStore(opts({ segmentBytes: 4096 }));
    await store.open();
    store.setPolicy(1, { kind: 'queue' });
    for (let i = 0; i < 200; i++) appendKeyed(store, `q${i}`);
    await store.flush();
    expect(await found(store, 'q0')).toEqual(['q0']);
    for (let i = 0; i < 150; i++) store.release(1, i);
    await store.reclaim();
    expect(await found(store, 'q0')).toEqual([]);
    expect(await found(store, 'q199')).toEqual(['q199']);
    await store.close();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../storage/index.js';
import type { Store } from '../../storage/types.js';
import { appendValues, valuesOf } from './store-contract.js';

// Regression: a queue that drained to empty left its active run marked dead; the next
// appends went into that dead run, so later releases skipped the start offset past
// messages nobody had released (found by the core's model test on LogStore).
describe('LogStore queue partition that drains and refills', () => {
  let dir: string;
  let store: Store;
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps unreleased entries readable after the queue drained once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pb-refill-'));
    store = createStore({ dir, segmentBytes: 1 << 20, durability: 'none', intervalMs: 20 });
    await store.open();
    store.setPolicy(1, { kind: 'queue' });
    appendValues(store, ['a'], [{ partition: 1 }]);
    store.release(1, 0);
    appendValues(store, ['b'], [{ partition: 1 }]);
    await appendValues(store, ['c'], [{ partition: 1 }]).durable;
    store.release(1, 1);
    expect(store.startOffset(1)).toBe(2);
    await store.reclaim();
    const [entry] = await store.read(1, 2, 1 << 16);
    expect(entry!.baseOffset).toBe(2);
    expect(valuesOf(entry!.batch)).toEqual(['c']);
  });
});

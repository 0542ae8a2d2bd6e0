/**
 * Index lookups and reclamation against naive models, across sealed segments (index files)
 * and reopen; and the file-handle bound with 100,000 partitions.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LogStore } from '../../storage/log-store.js';
import type { StoreOptions } from '../../storage/types.js';
import { appendValues, batchOf, valuesOf } from './store-contract.js';

let dir: string;
const opts = (over: Partial<StoreOptions> = {}): StoreOptions => ({
  dir,
  segmentBytes: 8 * 1024,
  durability: 'none',
  intervalMs: 20,
  ...over,
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-index-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface ModelBatch {
  base: number;
  count: number;
  ts: number;
}

/** Kafka's ListOffsets semantics: the first batch whose timestamp >= t, else the end. */
function modelOffsetForTimestamp(batches: ModelBatch[], t: number, end: number): number {
  return batches.find((b) => b.ts >= t)?.base ?? end;
}

describe('partition index', () => {
  it('answers offset and timestamp lookups like a naive model, before and after reopen (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            count: fc.integer({ min: 1, max: 5 }),
            ts: fc.integer({ min: 0, max: 1000 }),
            partition: fc.integer({ min: 0, max: 2 }),
            pad: fc.integer({ min: 10, max: 900 }),
          }),
          { minLength: 1, maxLength: 120 },
        ),
        fc.array(fc.integer({ min: -5, max: 1005 }), { minLength: 5, maxLength: 20 }),
        async (appends, probes) => {
          rmSync(dir, { recursive: true, force: true });
          dir = mkdtempSync(join(tmpdir(), 'pb-index-'));
          let store = new LogStore(opts());
          await store.open();
          const model = new Map<number, ModelBatch[]>();
          for (const a of appends) {
            const values = Array.from({ length: a.count }, (_, i) => `${i}`.padEnd(a.pad, '.'));
            const r = appendValues(store, values, [{ partition: a.partition }], a.ts);
            const list = model.get(a.partition) ?? [];
            list.push({ base: r.baseOffsets[0]!, count: a.count, ts: a.ts });
            model.set(a.partition, list);
          }
          const check = () => {
            for (const [p, batches] of model) {
              const end = batches.at(-1)!.base + batches.at(-1)!.count;
              expect(store.endOffset(p)).toBe(end);
              for (const b of batches) {
                for (let o = b.base; o < b.base + b.count; o++) {
                  const u = store.lookup(p, o)!;
                  expect(u.baseOffset).toBe(b.base);
                  expect(u.recordCount).toBe(b.count);
                  expect(u.timestamp).toBe(b.ts);
                }
              }
              for (const t of probes) expect(store.offsetForTimestamp(p, t)).toBe(modelOffsetForTimestamp(batches, t, end));
            }
          };
          check();
          await store.close();
          store = new LogStore(opts());
          await store.open();
          check();
          await store.close();
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('reclamation', () => {
  it('never deletes an entry some partition still needs, and frees what nobody needs (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), { minLength: 20, maxLength: 150 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat()), { maxLength: 300 }),
        async (appends, releases) => {
          rmSync(dir, { recursive: true, force: true });
          dir = mkdtempSync(join(tmpdir(), 'pb-reclaim-'));
          const store = new LogStore(opts({ segmentBytes: 4 * 1024 }));
          await store.open();
          for (let p = 0; p < 4; p++) store.setPolicy(p, { kind: 'queue' });
          const written = new Map<string, string>();
          appends.forEach((targets, i) => {
            const r = appendValues(store, [`m${i}`.padEnd(300, '-')], targets.map((partition) => ({ partition })));
            targets.forEach((p, k) => written.set(`${p}:${r.baseOffsets[k]}`, `m${i}`));
          });
          await store.flush();
          const released = new Set<string>();
          for (const [p, n] of releases) {
            const end = store.endOffset(p);
            if (end === 0) continue;
            const o = n % end;
            store.release(p, o);
            released.add(`${p}:${o}`);
          }
          await store.reclaim();
          for (const [key, value] of written) {
            if (released.has(key)) continue;
            const [p, o] = key.split(':').map(Number) as [number, number];
            const [b] = await store.read(p, o, 1);
            expect(b?.baseOffset, key).toBe(o);
            expect(valuesOf(b!.batch)[0]!.startsWith(value + '-')).toBe(true);
          }
          // Release everything: only the active segment may remain.
          for (const key of written.keys()) {
            const [p, o] = key.split(':').map(Number) as [number, number];
            store.release(p, o);
          }
          await store.reclaim();
          expect(readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBe(1);
          await store.close();
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('many partitions', () => {
  it('serves 100,000 partitions with a bounded number of open files', { timeout: 60_000 }, async () => {
    const store = new LogStore(opts({ segmentBytes: 1024 * 1024, maxOpenFiles: 16 }));
    await store.open();
    const batch = batchOf(['p']);
    for (let p = 0; p < 100_000; p++) {
      for (let k = 0; k < 2; k++) {
        store.append({ batch, recordCount: 1, firstTimestamp: 1, maxTimestamp: 1, targets: [{ partition: p }] });
      }
      if (!store.writable) await store.whenWritable();
    }
    await store.close();
    const again = new LogStore(opts({ segmentBytes: 1024 * 1024, maxOpenFiles: 16 }));
    await again.open();
    const segmentsOnDisk = readdirSync(dir).filter((f) => f.endsWith('.log')).length;
    expect(segmentsOnDisk).toBeGreaterThan(16);
    for (let i = 0; i < 2000; i++) {
      const p = (i * 7919) % 100_000;
      const got = await again.read(p, 1, 1 << 20);
      expect(got.map((b) => b.baseOffset)).toEqual([1]);
      expect(again.stats().openFiles).toBeLessThanOrEqual(16);
    }
    const fds = readdirSync('/proc/self/fd').length;
    expect(fds).toBeLessThan(200);
    await again.close();
  });
});

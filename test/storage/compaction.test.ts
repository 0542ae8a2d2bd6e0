/**
 * Log compaction (issue 9): against a model of "latest record per key", with a plain stream
 * sharing the same segments, across reopen; transactions (aborted records removed, open ones
 * never compacted); tombstones delete.retention.ms after their first cleaning; a bounded key map; dirty ratio and compaction lag;
 * appends interleaved with a running compaction; reads from offsets inside compaction gaps.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LogStore } from '../../storage/log-store.js';
import { decodeRecordBatch, encodeRecordBatch } from '../../storage/record-batch.js';
import type { CompactionPolicy, Store, StoreOptions } from '../../storage/types.js';

let dir: string;
const opts = (over: Partial<StoreOptions> = {}): StoreOptions => ({ dir, segmentBytes: 4 * 1024, durability: 'none', intervalMs: 20, ...over });
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-compact-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const POLICY: CompactionPolicy = { deleteRetentionMs: 1e12, minCleanableDirtyRatio: 0, minCompactionLagMs: 0 };
const COMPACTED = 1;
const PLAIN = 2;

interface Rec {
  key: string | null;
  value: string | null;
}

function appendRecords(store: Store, partitions: number[], recs: Rec[], ts = 1000, extra: Parameters<typeof encodeRecordBatch>[0] extends infer I ? Partial<I> : never = {}): number[] {
  const batch = encodeRecordBatch({
    records: recs.map((r) => ({ key: r.key === null ? null : Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value), timestamp: ts })),
    ...extra,
  });
  return store.append({ batch, recordCount: recs.length, firstTimestamp: ts, maxTimestamp: ts, targets: partitions.map((partition) => ({ partition })) }).baseOffsets;
}

function controlBatch(producerId: number, commit: boolean, ts = 1000): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(commit ? 1 : 0, 2);
  return encodeRecordBatch({ records: [{ key, value: Buffer.alloc(6), timestamp: ts }], isControl: true, isTransactional: true, producerId, producerEpoch: 0 });
}

interface Read {
  offset: number;
  key: string | null;
  value: string | null;
  control: boolean;
}

async function readAll(store: Store, partition: number): Promise<Read[]> {
  const out: Read[] = [];
  let off = store.startOffset(partition);
  const end = store.endOffset(partition);
  while (off < end) {
    const batches = await store.read(partition, off, 64 * 1024);
    if (batches.length === 0) break;
    for (const b of batches) {
      const d = decodeRecordBatch(b.batch);
      for (const r of d.records) {
        const offset = b.baseOffset + r.offsetDelta;
        if (offset < off) continue;
        out.push({ offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, control: d.isControl });
      }
      off = b.baseOffset + b.recordCount;
    }
  }
  return out;
}

async function compactAll(store: Store, now = 2000, stableOffset?: (p: number) => number): Promise<number> {
  let passes = 0;
  while ((await store.compact({ now, stableOffset })) !== null) passes++;
  return passes;
}

/** Latest (offset, value) per key of what was appended, keyless records all kept. */
function latestPerKey(appended: Read[]): Map<string, Read> {
  const m = new Map<string, Read>();
  for (const r of appended) if (r.key !== null) m.set(r.key, r);
  return m;
}

describe('log compaction', () => {
  it('keeps the latest record of every key at its offset; a plain stream in the same segments is untouched (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            recs: fc.array(fc.record({ key: fc.integer({ min: 0, max: 12 }), tomb: fc.integer({ min: 0, max: 9 }) }), { minLength: 1, maxLength: 4 }),
            shared: fc.boolean(),
            pad: fc.integer({ min: 20, max: 400 }),
          }),
          { minLength: 5, maxLength: 120 },
        ),
        async (appends) => {
          rmSync(dir, { recursive: true, force: true });
          dir = mkdtempSync(join(tmpdir(), 'pb-compact-'));
          let store = new LogStore(opts());
          await store.open();
          store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: POLICY });
          const model: Read[] = [];
          const plain: string[] = [];
          let n = 0;
          for (const a of appends) {
            const recs: Rec[] = a.recs.map((r) => ({ key: `k${r.key}`, value: r.tomb === 0 ? null : `v${n++}`.padEnd(a.pad, '.') }));
            const targets = a.shared ? [COMPACTED, PLAIN] : [COMPACTED];
            const [base] = appendRecords(store, targets, recs);
            recs.forEach((r, i) => model.push({ offset: base! + i, key: r.key, value: r.value, control: false }));
            if (a.shared) plain.push(...recs.map((r) => r.value ?? 'null'));
          }
          await store.flush();
          await store.reclaim(); // seals rolled segments
          await compactAll(store);
          const check = async (): Promise<void> => {
            const got = await readAll(store, COMPACTED);
            // Offsets stay those of the original records, strictly increasing.
            for (let i = 1; i < got.length; i++) expect(got[i]!.offset).toBeGreaterThan(got[i - 1]!.offset);
            const byOffset = new Map(model.map((m) => [m.offset, m]));
            for (const g of got) expect(byOffset.get(g.offset)).toEqual(g);
            // Consumers from the start see the latest value of every key.
            expect(latestPerKey(got)).toEqual(latestPerKey(model));
            // Everything in the active segment's run is still there (never compacted).
            const plainGot = (await readAll(store, PLAIN)).map((r) => r.value ?? 'null');
            expect(plainGot).toEqual(plain);
            expect(store.endOffset(COMPACTED)).toBe(model.length);
          };
          await check();
          await store.reclaim();
          await store.close();
          store = new LogStore(opts());
          await store.open();
          store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: POLICY });
          await check();
          // A second round over the reopened store changes nothing observable.
          await compactAll(store);
          await check();
          await store.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('removes superseded records so the compacted section holds each key once, and frees shared segments', async () => {
    const store = new LogStore(opts());
    await store.open();
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: POLICY });
    for (let i = 0; i < 400; i++) appendRecords(store, [COMPACTED], [{ key: `k${i % 10}`, value: `v${i}`.padEnd(100, '.') }]);
    await store.flush();
    await store.reclaim();
    const before = store.diskBytes();
    expect(await compactAll(store)).toBeGreaterThan(0);
    await store.reclaim();
    expect(store.diskBytes()).toBeLessThan(before / 3);
    const got = await readAll(store, COMPACTED);
    const latest = latestPerKey(got);
    expect([...latest.values()].map((r) => r.value!.replace(/\.+$/, '')).sort()).toEqual(Array.from({ length: 10 }, (_, k) => `v${390 + k}`));
    // Read from an offset that compaction removed: the next existing record comes back.
    const gapRead = await store.read(COMPACTED, 3, 1024);
    expect(gapRead.length).toBeGreaterThan(0);
    expect(gapRead[0]!.baseOffset).toBeGreaterThan(3);
    await store.close();
  });

  it('drops a tombstone delete.retention.ms after the pass that first kept it (KIP-534), not after its own timestamp, across a restart', async () => {
    let store = new LogStore(opts());
    await store.open();
    const policy = { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: { ...POLICY, deleteRetentionMs: 10_000 } } as const;
    store.setPolicy(COMPACTED, policy);
    appendRecords(store, [COMPACTED], [{ key: 'old', value: 'x' }], 1000);
    appendRecords(store, [COMPACTED], [{ key: 'old', value: null }], 1000);
    appendRecords(store, [COMPACTED], [{ key: 'young', value: 'y' }], 50_000);
    appendRecords(store, [COMPACTED], [{ key: 'young', value: null }], 50_000);
    for (let i = 0; i < 80; i++) appendRecords(store, [COMPACTED], [{ key: `fill${i}`, value: 'f'.repeat(100) }], 50_000);
    await store.flush();
    await store.reclaim();
    // First pass at 55 s: the old tombstone's timestamp is 54 s old, yet it stays (horizon 65 s).
    await compactAll(store, 55_000);
    let got = await readAll(store, COMPACTED);
    expect(got.filter((r) => r.key === 'old' || r.key === 'young')).toEqual([
      { offset: 1, key: 'old', value: null, control: false },
      { offset: 3, key: 'young', value: null, control: false },
    ]);
    // The stamped batch keeps its records' timestamps (the horizon lives in baseTimestamp).
    const [stamped] = await store.read(COMPACTED, 1, 1024);
    const dec = decodeRecordBatch(stamped!.batch);
    expect(dec.hasDeleteHorizon).toBe(true);
    expect(dec.baseTimestamp).toBe(65_000);
    expect(dec.records[0]!.timestamp).toBe(1000);
    expect(await store.compact({ now: 64_999 })).toBeNull();
    await store.close();
    // The horizon survives a restart (it is in the compacted file's name).
    store = new LogStore(opts());
    await store.open();
    store.setPolicy(COMPACTED, policy);
    expect(await store.compact({ now: 64_999 })).toBeNull();
    // Past it, a pass runs although nothing new is dirty, and both tombstones go.
    const pass = await store.compact({ now: 65_000 });
    expect(pass).not.toBeNull();
    got = await readAll(store, COMPACTED);
    expect(got.filter((r) => r.key === 'old' || r.key === 'young')).toEqual([]);
    expect(got.filter((r) => r.key?.startsWith('fill')).length).toBe(80);
    expect(await store.compact({ now: 1e9 })).toBeNull();
    await store.close();
  });

  it('bounds the key map: a full map ends the pass at a run boundary and the next pass goes on', async () => {
    const store = new LogStore(opts());
    await store.open();
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: POLICY });
    const model: Read[] = [];
    for (let i = 0; i < 300; i++) {
      const key = `k${i % 60}`;
      const value = `v${i}`.padEnd(100, '.');
      const [base] = appendRecords(store, [COMPACTED], [{ key, value }]);
      model.push({ offset: base!, key, value, control: false });
    }
    await store.flush();
    await store.reclaim();
    const reports = [];
    for (;;) {
      const r = await store.compact({ now: 2000, maxMapKeys: 10 });
      if (r === null) break;
      reports.push(r);
    }
    // 60 keys, at most 10 per map (plus one run's worth): several passes, each going further.
    expect(reports.length).toBeGreaterThan(2);
    for (let i = 1; i < reports.length; i++) expect(reports[i]!.cleanEnd).toBeGreaterThan(reports[i - 1]!.cleanEnd);
    const got = await readAll(store, COMPACTED);
    const latest = latestPerKey(model);
    for (const [key, r] of latest) expect(got.filter((g) => g.key === key).at(-1)).toEqual(r);
    // Whatever is left of a key is at most its latest record plus records past the last pass's end.
    const end = reports.at(-1)!.cleanEnd;
    for (const g of got) if (g.offset < end) expect(latest.get(g.key!)!.offset === g.offset || model.some((m) => m.key === g.key && m.offset > g.offset && m.offset >= end)).toBe(true);
    await store.close();
  });

  it("never compacts a partition's newest run, so its last record stays even in a sealed segment", async () => {
    const store = new LogStore(opts());
    await store.open();
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: { ...POLICY, deleteRetentionMs: 0 } });
    for (let i = 0; i < 40; i++) appendRecords(store, [COMPACTED], [{ key: `k${i % 4}`, value: 'v'.repeat(100) }]);
    appendRecords(store, [COMPACTED], [{ key: 'k0', value: null }]);
    // Other partitions' appends roll the log: the compacted partition's last run is sealed.
    for (let i = 0; i < 80; i++) appendRecords(store, [PLAIN], [{ key: null, value: 'p'.repeat(100) }]);
    await store.flush();
    await store.reclaim();
    await compactAll(store, 1e9);
    const got = await readAll(store, COMPACTED);
    expect(got.at(-1)).toEqual({ offset: 40, key: 'k0', value: null, control: false });
    await store.close();
  });

  it('honours min.cleanable.dirty.ratio and min.compaction.lag.ms, and never passes the stable offset', async () => {
    const store = new LogStore(opts());
    await store.open();
    for (let i = 0; i < 100; i++) appendRecords(store, [COMPACTED], [{ key: `k${i % 5}`, value: 'v'.repeat(100) }], 1000 + i);
    await store.flush();
    await store.reclaim();
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: { ...POLICY, minCompactionLagMs: 10_000 } });
    expect(await store.compact({ now: 5000 })).toBeNull();
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: POLICY });
    expect(await store.compact({ now: 5000, stableOffset: () => 0 })).toBeNull();
    const first = await store.compact({ now: 5000, stableOffset: () => 30 });
    expect(first).not.toBeNull();
    expect(first!.cleanEnd).toBeLessThanOrEqual(30);
    // Only a little new dirt over a clean section: a ratio of 0.99 waits.
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: { ...POLICY, minCleanableDirtyRatio: 0.99 } });
    expect(await store.compact({ now: 5000 })).toBeNull();
    await store.close();
  });

  it('removes aborted transactions, keeps committed ones, and stops before a transaction whose marker is not sealed', async () => {
    const store = new LogStore(opts());
    await store.open();
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: POLICY });
    const txn = (pid: number) => ({ isTransactional: true, producerId: pid, producerEpoch: 0, baseSequence: 0 });
    appendRecords(store, [COMPACTED], [{ key: 'a', value: 'plain-1' }]);
    appendRecords(store, [COMPACTED], [{ key: 'a', value: 'aborted' }], 1000, txn(7));
    appendRecords(store, [COMPACTED], [{ key: 'b', value: 'committed' }], 1000, txn(8));
    store.append({ batch: controlBatch(7, false), recordCount: 1, firstTimestamp: 1000, maxTimestamp: 1000, targets: [{ partition: COMPACTED }] });
    store.append({ batch: controlBatch(8, true), recordCount: 1, firstTimestamp: 1000, maxTimestamp: 1000, targets: [{ partition: COMPACTED }] });
    appendRecords(store, [COMPACTED], [{ key: 'b', value: 'plain-2-superseded-by-nothing' }]);
    for (let i = 0; i < 60; i++) appendRecords(store, [COMPACTED], [{ key: `fill${i}`, value: 'f'.repeat(100) }]);
    await store.flush();
    await store.reclaim();
    await compactAll(store);
    const got = await readAll(store, COMPACTED);
    expect(got.find((r) => r.value === 'aborted')).toBeUndefined();
    expect(got.find((r) => r.key === 'a')!.value).toBe('plain-1');
    // The committed 'b' is superseded by the later plain 'b'.
    expect(got.filter((r) => r.key === 'b').map((r) => r.value)).toEqual(['plain-2-superseded-by-nothing']);
    expect(got.filter((r) => r.control)).toHaveLength(2);
    await store.close();
  });

  it('lets appends through while it runs and keeps them', async () => {
    const store = new LogStore(opts({ segmentBytes: 16 * 1024 }));
    await store.open();
    store.setPolicy(COMPACTED, { kind: 'stream', retentionMs: -1, retentionBytes: -1, compaction: POLICY });
    for (let i = 0; i < 3000; i++) appendRecords(store, [COMPACTED], [{ key: `k${i % 50}`, value: `v${i}`.padEnd(60, '.') }]);
    await store.flush();
    await store.reclaim();
    const running = store.compact({ now: 2000 });
    let appendedDuring = 0;
    let done = false;
    void running.then(() => (done = true));
    while (!done) {
      appendRecords(store, [COMPACTED], [{ key: `late${appendedDuring}`, value: 'late' }]);
      appendedDuring++;
      await new Promise((r) => setImmediate(r));
    }
    expect(appendedDuring).toBeGreaterThan(1);
    expect(await running).not.toBeNull();
    const got = await readAll(store, COMPACTED);
    expect(got.filter((r) => r.key?.startsWith('late')).length).toBe(appendedDuring);
    for (let k = 0; k < 50; k++) expect(got.filter((r) => r.key === `k${k}`).at(-1)!.value).toBe(`v${2950 + k}`.padEnd(60, '.'));
    await store.close();
    expect(readdirSync(join(dir, 'compacted')).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
});

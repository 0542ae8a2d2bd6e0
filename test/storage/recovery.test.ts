/**
 * Recovery and corruption (issue 3): torn tails are truncated with a warning, corruption in
 * an older segment is reported with segment and position, indexes are rebuilt from the log.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptSegmentError } from '../../storage/errors.js';
import { LogStore } from '../../storage/log-store.js';
import type { StoreOptions } from '../../storage/types.js';
import { appendValues, valuesOf } from './store-contract.js';

let dir: string;
let warnings: { fields: Record<string, unknown>; msg: string }[];
const opts = (over: Partial<StoreOptions> = {}): StoreOptions => ({
  dir,
  segmentBytes: 16 * 1024,
  durability: 'sync',
  intervalMs: 20,
  warn: (fields, msg) => warnings.push({ fields, msg }),
  ...over,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-recovery-'));
  warnings = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const segments = () => readdirSync(dir).filter((f) => f.endsWith('.log')).sort();

async function fill(count: number, size = 500): Promise<void> {
  const store = new LogStore(opts());
  await store.open();
  for (let i = 0; i < count; i++) appendValues(store, [`${i}:`.padEnd(size, 'x')], [{ partition: 1 }], 1_000 + i);
  await store.close();
}

async function readAllValues(store: LogStore, partition = 1): Promise<string[]> {
  return (await store.read(partition, store.startOffset(partition), 1 << 30)).flatMap((b) => valuesOf(b.batch));
}

describe('recovery', () => {
  it('truncates a torn tail (entry cut short), reports it, and keeps going', async () => {
    await fill(10);
    const last = join(dir, segments().at(-1)!);
    const size = statSync(last).size;
    truncateSync(last, size - 100);
    const store = new LogStore(opts());
    const report = await store.open();
    expect(report.truncatedBytes).toBeGreaterThan(0);
    expect(report.truncatedAt!.segment).toBe(segments().at(-1)!.replace('.log', ''));
    expect(warnings.map((w) => w.msg)).toContain('commit log tail truncated');
    expect(store.endOffset(1)).toBe(9);
    expect((await readAllValues(store)).map((v) => v.split(':')[0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    expect(appendValues(store, ['after'], [{ partition: 1 }]).baseOffsets).toEqual([9]);
    await store.close();
  });

  it('truncates a tail whose bytes were flipped (CRC) and opens', async () => {
    await fill(10);
    const last = join(dir, segments().at(-1)!);
    const buf = readFileSync(last);
    buf[buf.length - 10]! ^= 0xff;
    writeFileSync(last, buf);
    const store = new LogStore(opts());
    const report = await store.open();
    expect(report.truncatedBytes).toBeGreaterThan(0);
    expect(warnings[0]!.fields).toMatchObject({ problem: 'crc' });
    expect(store.endOffset(1)).toBe(9);
    await store.close();
  });

  it('treats a zero-filled tail as the end of the log', async () => {
    await fill(3);
    appendFileSync(join(dir, segments().at(-1)!), Buffer.alloc(4096));
    const store = new LogStore(opts());
    const report = await store.open();
    expect(report.truncatedBytes).toBe(4096);
    expect(store.endOffset(1)).toBe(3);
    await store.close();
  });

  it('reports corruption in the middle of an older segment with segment and position, and opens every time', async () => {
    await fill(100);
    const first = segments()[0]!;
    rmSync(join(dir, first.replace('.log', '.idx')));
    const path = join(dir, first);
    const buf = readFileSync(path);
    const at = Math.floor(buf.length / 2);
    buf[at]! ^= 0x55;
    writeFileSync(path, buf);
    for (let attempt = 0; attempt < 2; attempt++) {
      warnings = [];
      const store = new LogStore(opts());
      await store.open();
      const corrupt = warnings.find((w) => w.msg.includes('corrupt'));
      expect(corrupt, 'a corruption warning').toBeDefined();
      expect(corrupt!.fields.segment).toBe(first.replace('.log', ''));
      expect(corrupt!.fields.position).toBeLessThanOrEqual(at);
      // Entries after the corrupt one in that segment are skipped; later segments are whole.
      const values = (await readAllValues(store)).map((v) => Number(v.split(':')[0]));
      expect(values.at(-1)).toBe(99);
      expect(values.length).toBeLessThan(100);
      await store.close();
    }
  });

  it('answers a read of a corrupt entry under a valid index with CorruptSegmentError naming the segment', async () => {
    await fill(100);
    const first = segments()[0]!;
    const path = join(dir, first);
    const buf = readFileSync(path);
    buf[1000]! ^= 0x55; // inside the second entry (entries are ~620 bytes)
    writeFileSync(path, buf);
    const store = new LogStore(opts());
    await store.open();
    const err = await store.read(1, 0, 1 << 30).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptSegmentError);
    expect((err as CorruptSegmentError).segment).toBe(first.replace('.log', ''));
    // The entries around it still read.
    expect(valuesOf((await store.read(1, 0, 1))[0]!.batch)[0]!.startsWith('0:')).toBe(true);
    await store.close();
  });

  it('rebuilds deleted index files from the log with identical lookups', async () => {
    const store = new LogStore(opts());
    await store.open();
    for (let i = 0; i < 300; i++) {
      appendValues(store, [`v${i}`, `w${i}`], [{ partition: i % 4 }, { partition: 10 + (i % 2), tagHash: i }], 5_000 + (i % 17));
    }
    await store.close();
    const probe = async (s: LogStore) => {
      const out: unknown[] = [];
      for (const p of [0, 1, 2, 3, 10, 11]) {
        out.push(s.startOffset(p), s.endOffset(p), s.offsetForTimestamp(p, 5_008));
        for (let o = 0; o < s.endOffset(p); o += 7) out.push(s.lookup(p, o));
      }
      return out;
    };
    const before = new LogStore(opts());
    const r1 = await before.open();
    const expected = await probe(before);
    await before.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.idx')).length).toBeGreaterThan(0);
    for (const f of readdirSync(dir)) if (f.endsWith('.idx')) rmSync(join(dir, f));
    const after = new LogStore(opts());
    const r2 = await after.open();
    expect(r2.indexUnitsRebuilt).toBe(600);
    expect(r2.indexUnitsRebuilt).toBeGreaterThan(r1.indexUnitsRebuilt);
    expect(await probe(after)).toEqual(expected);
    await after.close();
  });

  it('ignores a corrupt index file and rebuilds it', async () => {
    await fill(100);
    const idx = readdirSync(dir).filter((f) => f.endsWith('.idx'))[0]!;
    const path = join(dir, idx);
    const buf = readFileSync(path);
    buf[50]! ^= 1;
    writeFileSync(path, buf);
    const store = new LogStore(opts());
    const report = await store.open();
    expect(report.indexUnitsRebuilt).toBeGreaterThan(0);
    expect((await readAllValues(store)).length).toBe(100);
    await store.close();
  });
});

describe('meta log recovery', () => {
  it('truncates a torn meta log tail and keeps the good records', async () => {
    const store = new LogStore(opts());
    await store.open();
    const m = await store.metaLog('acks');
    await m.append(Buffer.from('a'));
    await m.append(Buffer.from('b'));
    await store.close();
    const file = readdirSync(join(dir, 'meta')).find((f) => f.startsWith('acks.') && f.endsWith('.log'))!;
    appendFileSync(join(dir, 'meta', file), Buffer.from([0, 0, 0, 9, 1, 2]));
    const again = new LogStore(opts());
    await again.open();
    const m2 = await again.metaLog('acks');
    expect(m2.replay().records.map(String)).toEqual(['a', 'b']);
    expect(warnings.map((w) => w.msg)).toContain('meta log torn tail truncated');
    await m2.append(Buffer.from('c'));
    expect(m2.replay().records.map(String)).toEqual(['a', 'b', 'c']);
    await again.close();
  });

  it('survives a snapshot interrupted before its rename (old history wins)', async () => {
    const store = new LogStore(opts());
    await store.open();
    const m = await store.metaLog('defs');
    await m.append(Buffer.from('x'));
    await store.close();
    writeFileSync(join(dir, 'meta', 'defs.snap.tmp'), Buffer.from('half-written'));
    writeFileSync(join(dir, 'meta', 'defs.1.log'), Buffer.alloc(0));
    const again = new LogStore(opts());
    await again.open();
    const { snapshot, records } = (await again.metaLog('defs')).replay();
    expect(snapshot).toBeNull();
    expect(records.map(String)).toEqual(['x']);
    await again.close();
  });
});

describe('segment scan', () => {
  it('finds the same entries whatever the read block size, and stops at a torn tail (property)', async () => {
    const { scanSegmentFile } = await import('../../storage/recovery.js');
    const { entryHeaderBytes, writeEntryHeader } = await import('../../storage/entry-format.js');
    const fc = (await import('fast-check')).default;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 0, maxLength: 30 }),
        fc.integer({ min: 40, max: 5000 }),
        fc.nat(),
        async (sizes, block, cutSeed) => {
          const parts = sizes.map((n, i) => {
            const batch = Buffer.alloc(n, i & 0xff);
            const buf = Buffer.alloc(entryHeaderBytes(1) + n);
            writeEntryHeader(buf, 0, batch, 1, i, i, [1], [0], [i]);
            batch.copy(buf, entryHeaderBytes(1));
            return buf;
          });
          let file = Buffer.concat(parts);
          const whole = file.length;
          const cut = sizes.length > 0 && cutSeed % 2 === 1 ? cutSeed % parts.at(-1)!.length : 0;
          if (cut > 0) file = file.subarray(0, whole - cut);
          const path = join(dir, 'scan.log');
          writeFileSync(path, file);
          const seen: number[] = [];
          const result = await scanSegmentFile(path, (_buf, _at, pos, length) => seen.push(pos, length), block);
          const expected: number[] = [];
          let pos = 0;
          for (const p of cut > 0 ? parts.slice(0, -1) : parts) {
            expected.push(pos, p.length);
            pos += p.length;
          }
          expect(seen).toEqual(expected);
          expect(result.validLength).toBe(pos);
          expect(result.problem === null).toBe(cut === 0);
        },
      ),
      { numRuns: 100 },
    );
  });
});

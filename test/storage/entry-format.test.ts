import { describe, expect, it } from 'vitest';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import {
  checkEntry,
  entryBatch,
  entryHeaderBytes,
  readEntryHeader,
  targetBaseOffset,
  targetPartition,
  targetTagHash,
  writeEntryHeader,
} from '../../storage/entry-format.js';

const entry = fc.record({
  batch: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
  recordCount: fc.integer({ min: 1, max: 10_000 }),
  first: fc.integer({ min: 0, max: 2 ** 45 }),
  span: fc.integer({ min: 0, max: 10_000 }),
  targets: fc.array(
    fc.record({
      partition: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      tag: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      offset: fc.integer({ min: 0, max: 2 ** 52 }),
    }),
    { maxLength: 6 },
  ),
});

type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

function frame(e: Entry): Buffer {
  const headerBytes = entryHeaderBytes(e.targets.length);
  const buf = Buffer.alloc(headerBytes + e.batch.length);
  writeEntryHeader(
    buf,
    0,
    e.batch,
    e.recordCount,
    e.first,
    e.first + e.span,
    e.targets.map((t) => t.partition),
    e.targets.map((t) => t.tag),
    e.targets.map((t) => t.offset),
  );
  e.batch.copy(buf, headerBytes);
  return buf;
}

describe('commit-log entry framing', () => {
  it('reads back every field it wrote (property)', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const buf = frame(e);
        expect(checkEntry(buf, 0, buf.length)).toBe(buf.length);
        const h = readEntryHeader(buf, 0);
        expect(h).toEqual({
          length: buf.length,
          targetCount: e.targets.length,
          recordCount: e.recordCount,
          firstTimestamp: e.first,
          maxTimestamp: e.first + e.span,
        });
        e.targets.forEach((t, i) => {
          expect(targetPartition(buf, 0, i)).toBe(t.partition);
          expect(targetTagHash(buf, 0, i)).toBe(t.tag);
          expect(targetBaseOffset(buf, 0, i)).toBe(t.offset);
        });
        expect(entryBatch(buf, 0).equals(e.batch)).toBe(true);
      }),
    );
  });

  it('rejects any flipped byte after the length field (CRC32C, magic or length check)', () => {
    fc.assert(
      fc.property(entry, fc.nat(), fc.integer({ min: 1, max: 255 }), (e, at, x) => {
        const buf = frame(e);
        const pos = 4 + (at % (buf.length - 4));
        buf[pos]! ^= x;
        expect(typeof checkEntry(buf, 0, buf.length)).toBe('string');
      }),
    );
  });

  it('asks for more bytes on a truncated entry and reads zeros as the end', () => {
    fc.assert(
      fc.property(entry, fc.nat(), (e, cut) => {
        const buf = frame(e);
        const end = cut % buf.length;
        expect(checkEntry(buf, 0, end)).toBe('short');
      }),
    );
    expect(checkEntry(Buffer.alloc(64), 0, 64)).toBe('zero');
  });
});

describe('entry CRC derived from a verified RecordBatch CRC', () => {
  it('equals the CRC computed over the whole batch', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 22, maxLength: 4000 }), (bytes) => {
        const batch = Buffer.from(bytes);
        // What the producer's CRC field holds once the core has verified it: CRC32C of [21, end).
        batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
        const headerBytes = entryHeaderBytes(1);
        const full = Buffer.alloc(headerBytes + batch.length);
        const derived = Buffer.alloc(headerBytes + batch.length);
        writeEntryHeader(full, 0, batch, 1, 5, 6, [7], [8], [9]);
        writeEntryHeader(derived, 0, batch, 1, 5, 6, [7], [8], [9], false, true);
        batch.copy(derived, headerBytes);
        expect(derived.readUInt32BE(4)).toBe(full.readUInt32BE(4));
        expect(checkEntry(derived, 0, derived.length)).toBe(derived.length);
        // The batch already copied behind the header (the commit log's slab).
        const behind = Buffer.alloc(headerBytes + batch.length);
        batch.copy(behind, headerBytes);
        writeEntryHeader(behind, 0, batch, 1, 5, 6, [7], [8], [9], true, true);
        expect(behind.readUInt32BE(4)).toBe(full.readUInt32BE(4));
      }),
    );
  });
});

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import {
  CorruptRecordBatchError,
  decodeRecordBatch,
  encodeRecordBatch,
  patchBaseOffset,
  readRecordBatchHeader,
  splitRecordBatches,
  verifyRecordBatchCrc,
  type RecordInput,
} from '../../storage/record-batch.js';
import { Compression, UnsupportedCompressionError, decompress, zstdAvailable } from '../../storage/compression.js';
import { VarintReader, writeVarint, writeVarlong, varintSize, varlongSize } from '../../storage/varint.js';

const require = createRequire(import.meta.url);

const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const nullableBytes = fc.option(bytes, { nil: null });
const header = fc.tuple(fc.string({ maxLength: 12 }), nullableBytes);
const record = fc.record({
  key: nullableBytes,
  value: nullableBytes,
  headers: fc.array(header, { maxLength: 4 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
});
const batchInput = fc.record({
  records: fc.array(record, { minLength: 0, maxLength: 8 }),
  compression: fc.constantFrom(
    ...[Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4],
    ...(zstdAvailable() ? [Compression.Zstd] : []),
  ),
  producerId: fc.integer({ min: -1, max: 2 ** 40 }),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  isTransactional: fc.boolean(),
  isControl: fc.boolean(),
  baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
});

describe('varint and varlong', () => {
  it('round-trip every 32-bit value with the size they announce', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const buf = Buffer.alloc(10);
        const end = writeVarint(buf, 0, v);
        expect(end).toBe(varintSize(v));
        const r = new VarintReader(buf, 0, end);
        expect(r.varint()).toBe(v);
        expect(r.bad).toBe(false);
      }),
    );
  });
  it('round-trip safe integers as varlongs', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (v) => {
        const buf = Buffer.alloc(12);
        const end = writeVarlong(buf, 0, v);
        expect(end).toBe(varlongSize(v));
        const r = new VarintReader(buf, 0, end);
        expect(r.varlong()).toBe(v);
      }),
    );
  });
  it('matches the protocol guide zigzag examples', () => {
    const buf = Buffer.alloc(4);
    expect(writeVarint(buf, 0, -1)).toBe(1);
    expect(buf[0]).toBe(1);
    writeVarint(buf, 0, 1);
    expect(buf[0]).toBe(2);
    expect(writeVarint(buf, 0, 64)).toBe(2);
    expect([buf[0], buf[1]]).toEqual([0x80, 0x01]);
  });
  it('flags a read past the end instead of throwing', () => {
    const r = new VarintReader(Buffer.from([0x80]), 0, 1);
    r.varint();
    expect(r.bad).toBe(true);
  });
});

describe('RecordBatch v2', () => {
  it('round-trips random batches in every supported codec', () => {
    fc.assert(
      fc.property(batchInput, (input) => {
        const buf = encodeRecordBatch(input);
        expect(verifyRecordBatchCrc(buf)).toBe(true);
        const out = decodeRecordBatch(buf);
        expect(out.sizeBytes).toBe(buf.length);
        expect(out.magic).toBe(2);
        expect(out.baseOffset).toBe(input.baseOffset);
        expect(out.compression).toBe(input.compression);
        expect(out.producerId).toBe(input.producerId);
        expect(out.producerEpoch).toBe(input.producerEpoch);
        expect(out.baseSequence).toBe(input.baseSequence);
        expect(out.partitionLeaderEpoch).toBe(input.partitionLeaderEpoch);
        expect(out.isTransactional).toBe(input.isTransactional);
        expect(out.isControl).toBe(input.isControl);
        expect(out.recordCount).toBe(input.records.length);
        expect(out.lastOffsetDelta).toBe(Math.max(0, input.records.length - 1));
        if (input.records.length > 0) {
          const ts = input.records.map((r) => r.timestamp);
          expect(out.baseTimestamp).toBe(Math.min(...ts));
          expect(out.maxTimestamp).toBe(Math.max(...ts));
        }
        out.records.forEach((r, i) => {
          const want = input.records[i]!;
          expect(r.offset).toBe(input.baseOffset + i);
          expect(r.timestamp).toBe(want.timestamp);
          expect(r.key).toEqual(want.key);
          expect(r.value).toEqual(want.value);
          expect(r.headers).toEqual(want.headers);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the CRC valid when the base offset is patched (CRC covers attributes onwards)', () => {
    fc.assert(
      fc.property(batchInput, fc.integer({ min: 0, max: 2 ** 53 - 1 }), (input, offset) => {
        const buf = encodeRecordBatch(input);
        const crcBefore = readRecordBatchHeader(buf).crc;
        patchBaseOffset(buf, offset);
        expect(readRecordBatchHeader(buf).baseOffset).toBe(offset);
        expect(readRecordBatchHeader(buf).crc).toBe(crcBefore);
        expect(verifyRecordBatchCrc(buf)).toBe(true);
        expect(decodeRecordBatch(buf).records.map((r) => r.offset)).toEqual(
          input.records.map((_, i) => offset + i),
        );
      }),
    );
  });

  it('stores CRC32C of bytes 21..end', () => {
    const buf = encodeRecordBatch({ records: [{ value: Buffer.from('hello'), timestamp: 1 }] });
    expect(buf.readUInt32BE(17)).toBe(crc32c(buf.subarray(21)));
  });

  it('detects any single flipped byte covered by the CRC', () => {
    fc.assert(
      fc.property(batchInput, fc.nat(), fc.integer({ min: 1, max: 255 }), (input, at, x) => {
        const buf = encodeRecordBatch(input);
        const pos = 21 + (at % (buf.length - 21));
        buf[pos]! ^= x;
        expect(verifyRecordBatchCrc(buf)).toBe(false);
        expect(() => decodeRecordBatch(buf)).toThrow(CorruptRecordBatchError);
      }),
    );
  });

  it('never throws anything but a typed error on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (a) => {
        const buf = Buffer.from(a);
        try {
          decodeRecordBatch(buf, { verifyCrc: false });
        } catch (err) {
          expect(
            err instanceof CorruptRecordBatchError || err instanceof UnsupportedCompressionError,
          ).toBe(true);
        }
      }),
    );
  });

  it('splits concatenated batches and rejects a torn one', () => {
    const a = encodeRecordBatch({ records: [{ value: Buffer.from('a') }] });
    const b = encodeRecordBatch({ records: [{ value: Buffer.from('bb') }, { value: null }] });
    const parts = splitRecordBatches(Buffer.concat([a, b]));
    expect(parts.map((p) => p.length)).toEqual([a.length, b.length]);
    expect(() => splitRecordBatches(Buffer.concat([a, b.subarray(0, 30)]))).toThrow(CorruptRecordBatchError);
  });

  it('reports codecs 5-7 as unsupported', () => {
    const raw = encodeRecordBatch({ records: [{ value: Buffer.from('x') }] });
    raw.writeInt16BE(5, 21);
    raw.writeUInt32BE(crc32c(raw.subarray(21)), 17);
    expect(() => decodeRecordBatch(raw)).toThrow(UnsupportedCompressionError);
  });

  it.runIf(zstdAvailable())('round-trips zstd batches when zstd-napi is installed', () => {
    const value = Buffer.from('zstd '.repeat(1000));
    const buf = encodeRecordBatch({ compression: Compression.Zstd, records: [{ value }, { value: null }] });
    expect(decodeRecordBatch(buf).records.map((r) => r.value)).toEqual([value, null]);
  });

  it('decodes raw snappy as well as xerial-framed snappy', async () => {
    const snappy = await import('snappy');
    const data = Buffer.from('polybroker '.repeat(100));
    expect(decompress(Compression.Snappy, snappy.compressSync(data))).toEqual(data);
    const big = Buffer.alloc(100_000, 7);
    const framed = encodeRecordBatch({ compression: Compression.Snappy, records: [{ value: big }] });
    expect(decodeRecordBatch(framed).records[0]!.value).toEqual(big);
  });

  it('decodes a batch produced by kafkajs (golden bytes from a stock client)', async () => {
    const kafkajsRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/index.js').RecordBatch;
    const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
    const batch = await kafkajsRecordBatch({
      compression: 0,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_005,
      producerId: 42,
      producerEpoch: 1,
      firstSequence: 7,
      records: [
        kafkajsRecord({
          offsetDelta: 0,
          timestampDelta: 5,
          key: Buffer.from('k'),
          value: Buffer.from('v'),
          headers: { h: Buffer.from('x') },
        }),
      ],
    });
    const out = decodeRecordBatch(batch.buffer as Buffer);
    expect(out.producerId).toBe(42);
    expect(out.baseSequence).toBe(7);
    expect(out.records[0]!.timestamp).toBe(1_700_000_000_005);
    expect(out.records[0]!.key).toEqual(Buffer.from('k'));
    expect(out.records[0]!.value).toEqual(Buffer.from('v'));
    expect(out.records[0]!.headers).toEqual([['h', Buffer.from('x')]]);
  });

  it('is decoded by kafkajs, in every codec it knows', async () => {
    const Decoder = require('kafkajs/src/protocol/decoder.js');
    const decodeKafkajs = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');
    for (const compression of [Compression.None, Compression.Gzip]) {
      const buf = encodeRecordBatch({
        compression,
        baseOffset: 100,
        producerId: 9,
        records: [
          { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1000, headers: [['a', Buffer.from('1')]] },
          { key: null, value: Buffer.from('v2'), timestamp: 1003 },
        ],
      });
      const decoder = new Decoder(buf);
      const out = await decodeKafkajs(decoder);
      expect(out.firstOffset).toBe('100');
      expect(out.records.map((r: { value: Buffer }) => r.value.toString())).toEqual(['v1', 'v2']);
      expect(out.records[1].offset).toBe('101');
      expect(out.records[1].timestamp).toBe('1003');
      expect(out.records[0].headers.a).toEqual(Buffer.from('1'));
    }
  });
});

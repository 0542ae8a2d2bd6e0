import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch, encodeRecordBatch } from '../../storage/record-batch.js';
import { scanRecordBatch } from '../../storage/record-keys.js';
import { Compression } from '../../storage/compression.js';

const NAME = Buffer.from('x-stream-filter-value');

describe('scanRecordBatch (keys, one header and a header name prefix, without decoding)', () => {
  it('agrees with the full decoder (property)', () => {
    const record = fc.record({
      key: fc.option(fc.constantFrom('a', 'b', '', 'ключ'), { nil: null }),
      value: fc.option(fc.string(), { nil: null }),
      tag: fc.option(fc.constantFrom('red', 'blue'), { nil: null }),
      other: fc.array(fc.tuple(fc.constantFrom('h1', 'x-stream-filter', 'x-stream-filter-values'), fc.string()), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (records) => {
        const batch = encodeRecordBatch({
          records: records.map((r) => ({
            key: r.key === null ? null : Buffer.from(r.key),
            value: r.value === null ? null : Buffer.from(r.value),
            timestamp: 1,
            headers: [...r.other.map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer]), ...(r.tag === null ? [] : [['x-stream-filter-value', Buffer.from(r.tag)] as [string, Buffer]])],
          })),
        });
        const scan = scanRecordBatch(batch, NAME);
        const decoded = decodeRecordBatch(batch).records;
        expect(scan.compressed).toBe(false);
        expect(scan.keys.map((k) => k.toString())).toEqual(decoded.filter((r) => r.key !== null).map((r) => r.key!.toString()));
        const tags = decoded.map((r) => r.headers.find(([k]) => k === 'x-stream-filter-value')?.[1]?.toString() ?? null);
        const expected = tags.every((t) => t === tags[0]) ? tags[0] : 'mixed';
        const got = scan.headerValue;
        expect(got === null || got === 'mixed' ? got : got.toString()).toBe(expected);
        // A header name prefix, asked for: 'x-stream-filter' is shorter than it and does not count.
        expect(scan.prefixSeen).toBe(false);
        const prefixed = decoded.some((r) => r.headers.some(([k]) => k.startsWith('x-stream-filter-v')));
        expect(scanRecordBatch(batch, NAME, Buffer.from('x-stream-filter-v')).prefixSeen).toBe(prefixed);
      }),
      { numRuns: 300 },
    );
  });

  it('does not read compressed batches', () => {
    const batch = encodeRecordBatch({ compression: Compression.Gzip, records: [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1 }] });
    expect(scanRecordBatch(batch, NAME)).toMatchObject({ keys: [], headerValue: 'mixed', compressed: true });
  });
});

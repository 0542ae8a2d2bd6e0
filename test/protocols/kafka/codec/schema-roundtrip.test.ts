import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as apis from '../../../../protocols/kafka/schema/apis.js';
import type { FieldDef, MessageDef } from '../../../../protocols/kafka/schema/types.js';
import { decode, encode } from '../../../../protocols/kafka/codec/schema-codec.js';
import { Reader } from '../../../../protocols/kafka/codec/reader.js';
import { inRange, parseRange } from '../../../../protocols/kafka/codec/versions.js';

/** Arbitraries generated from the same definitions the codec interprets (STYLE.md, "Tests"). */
function scalar(type: string, nullable: boolean): fc.Arbitrary<unknown> {
  let a: fc.Arbitrary<unknown>;
  switch (type) {
    case 'bool': a = fc.boolean(); break;
    case 'int8': a = fc.integer({ min: -128, max: 127 }); break;
    case 'int16': a = fc.integer({ min: -32768, max: 32767 }); break;
    case 'uint16': a = fc.integer({ min: 0, max: 65535 }); break;
    case 'int32': a = fc.integer(); break;
    case 'uint32': a = fc.integer({ min: 0, max: 0xffffffff }); break;
    case 'int64': a = fc.maxSafeInteger(); break;
    case 'float64': a = fc.double({ noNaN: true }); break;
    case 'string': a = fc.string({ unit: 'grapheme', maxLength: 20 }); break;
    case 'bytes': case 'records': a = fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)); break;
    case 'uuid': a = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((u) => Buffer.from(u)); break;
    default: throw new Error(type);
  }
  return nullable ? fc.option(a, { nil: null }) : a;
}

function struct(fields: readonly FieldDef[], version: number, flexible: boolean, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    if (!inRange(parseRange(f.versions), version)) continue;
    const nullable = inRange(parseRange(f.nullableVersions ?? 'none'), version);
    const isArray = f.type.startsWith('[]');
    const base = isArray ? f.type.slice(2) : f.type;
    const item = f.fields ? struct(f.fields, version, flexible, depth + 1) : scalar(base, !isArray && nullable);
    let a: fc.Arbitrary<unknown> = isArray ? fc.array(item, { maxLength: depth > 1 ? 1 : 3 }) : item;
    if (isArray && nullable) a = fc.option(a, { nil: null });
    if (!isArray && f.fields && nullable) a = fc.option(a, { nil: null });
    rec[f.name] = a;
  }
  return fc.record(rec);
}

/** The decoded value restricted to the fields that exist in `version` (decode also fills absent ones). */
function present(value: unknown, fields: readonly FieldDef[], version: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inRange(parseRange(f.versions), version)) continue;
    const v = o[f.name];
    out[f.name] = f.fields && v !== null ? (Array.isArray(v) ? v.map((x) => present(x, f.fields!, version)) : present(v, f.fields, version)) : v;
  }
  return out;
}

function versions(def: MessageDef): number[] {
  const [min, max] = parseRange(def.validVersions);
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

describe('Kafka schema codec round trip (every API, every version)', () => {
  for (const api of Object.values(apis)) {
    for (const def of [api.request, api.response]) {
      it(`${def.name} v${versions(def).join(',')}: decode(encode(x)) == x`, () => {
        for (const v of versions(def)) {
          const flexible = inRange(parseRange(def.flexibleVersions), v);
          fc.assert(
            fc.property(struct(def.fields, v, flexible, 0), (value) => {
              const bytes = encode(def, v, value);
              const r = decode(def, v, new Reader(bytes));
              expect(r.error).toBeNull();
              expect(present(r.value, def.fields, v)).toEqual(value);
              expect(encode(def, v, r.value!)).toEqual(bytes);
            }),
            { numRuns: 25 },
          );
        }
      });
    }
  }

  it('truncated input decodes to an error, never an exception', () => {
    const def = apis.fetch.request;
    for (const v of versions(def)) {
      fc.assert(
        fc.property(struct(def.fields, v, inRange(parseRange(def.flexibleVersions), v), 0), fc.nat(), (value, cut) => {
          const bytes = encode(def, v, value);
          if (bytes.length === 0) return;
          const r = decode(def, v, new Reader(bytes.subarray(0, cut % bytes.length)));
          expect(r.error).not.toBeNull();
        }),
        { numRuns: 20 },
      );
    }
  });

  it('random bytes decode to a value or an error string, never an exception', () => {
    const all = Object.values(apis).flatMap((a) => [a.request, a.response]);
    fc.assert(
      fc.property(fc.constantFrom(...all), fc.nat(20), fc.uint8Array({ maxLength: 200 }), (def, v, bytes) => {
        const version = versions(def)[v % versions(def).length]!;
        const r = decode(def, version, new Reader(Buffer.from(bytes)));
        expect(r.error === null || typeof r.error === 'string').toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('fields absent from a version decode to their defaults; a "null" default stays null (SyncGroup v3 has no protocolType)', () => {
    const body = encode(apis.syncGroup.request, 3, { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null, assignments: [] });
    const r = decode(apis.syncGroup.request, 3, new Reader(body));
    expect(r.value).toMatchObject({ protocolType: null, protocolName: null, groupInstanceId: null });
    const fetchV3 = decode(apis.fetch.request, 3, new Reader(encode(apis.fetch.request, 3, { replicaId: -1, maxWaitMs: 1, minBytes: 1, maxBytes: 5, topics: [] })));
    expect(fetchV3.value).toMatchObject({ isolationLevel: 0, sessionId: 0, sessionEpoch: -1, rackId: '' });
  });

  it('a huge array length prefix is refused before allocating', () => {
    // Metadata v1 request: topics array with length 2^31-1 and no data.
    const bytes = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    const r = decode(apis.metadata.request, 1, new Reader(bytes));
    expect(r.error).toBe('length exceeds remaining bytes');
  });
});

describe('Fetch responses with spliced record batches', () => {
  it('the segments, written in order, are byte-identical to the copied frame', async () => {
    const { encodeResponseFrame, encodeResponseFrameSpliced } = await import('../../../../protocols/kafka/codec/frame.js');
    const { Writer } = await import('../../../../protocols/kafka/codec/writer.js');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 6 }), fc.constantFrom(4, 11, 12, 16), (sizes, version) => {
        const chunks = sizes.flatMap((n, i) => [Buffer.alloc(8, i), Buffer.alloc(n, i + 1)]);
        const body = {
          throttleTimeMs: 0,
          errorCode: 0,
          sessionId: 0,
          responses: [{ topic: 't', topicId: Buffer.alloc(16, 7), partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 5, lastStableOffset: 5, logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1, records: chunks }] }],
        };
        const w = new Writer();
        const copied = encodeResponseFrame(w, 9, version >= 12, apis.fetch.response, version, body);
        const spliced = encodeResponseFrameSpliced(w, 9, version >= 12, apis.fetch.response, version, body, 16 * 1024);
        const joined = Array.isArray(spliced) ? Buffer.concat(spliced) : spliced;
        expect(joined).toEqual(copied);
        if (sizes.some((n) => n >= 16 * 1024)) expect(Array.isArray(spliced)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kafkaPartition, murmur2 } from '../../src/core/murmur2.js';

// kafkajs's default partitioner is a port of Kafka's Utils.murmur2 (0.10.2); use it as the oracle.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (k: Buffer) => number;

describe('murmur2 (Kafka default partitioner)', () => {
  it('matches the values in Kafka UtilsTest.testMurmur2', () => {
    // From apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });

  it('agrees with kafkajs on random keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('picks partition (murmur2 & 0x7fffffff) % n', () => {
    const key = Buffer.from('order-42');
    expect(kafkaPartition(key, 6)).toBe((kafkajsMurmur2(key) & 0x7fffffff) % 6);
  });
});

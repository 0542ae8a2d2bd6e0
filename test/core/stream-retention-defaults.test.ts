import { afterEach, describe, expect, it } from 'vitest';
import { openCore, type Fixture } from './fixture.js';

// storage.retentionMs / storage.retentionBytes of the YAML reach the core as these options.
describe('default stream retention', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('gives a stream created without retention the configured defaults', async () => {
    f = await openCore({ streamRetentionMs: 3_600_000, streamRetentionBytes: 1 << 20 });
    const vh = f.core.vhost('/');
    const s = await vh.declareStream('clicks', { partitions: 2 });
    expect([s.retentionMs, s.retentionBytes]).toEqual([3_600_000, 1 << 20]);
    const own = await vh.declareStream('orders', { retentionMs: 60_000 });
    expect([own.retentionMs, own.retentionBytes]).toEqual([60_000, 1 << 20]);
  });

  it('returns to the configured defaults when a topic config is deleted', async () => {
    f = await openCore({ streamRetentionMs: 3_600_000 });
    const vh = f.core.vhost('/');
    await vh.declareStream('t', {});
    await vh.setStreamConfig('t', { 'retention.ms': '5000', 'retention.bytes': '4096' });
    await vh.setStreamConfig('t', { 'retention.ms': null, 'retention.bytes': null });
    expect(vh.streamConfig('t')).toMatchObject({ 'retention.ms': '3600000', 'retention.bytes': '-1' });
  });

  it('keeps Kafka’s 7 days and unlimited bytes when nothing is configured', async () => {
    f = await openCore();
    const s = await f.core.vhost('/').declareStream('plain', {});
    expect([s.retentionMs, s.retentionBytes]).toEqual([7 * 24 * 3600 * 1000, -1]);
  });
});

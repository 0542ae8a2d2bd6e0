/**
 * Issue 3: "bytes flipped in the tail are truncated with a warning; the broker starts."
 * The store under a broker data dir is filled, its tail corrupted, then the real broker
 * (child process, test/helpers/broker.ts) is started on it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LogStore } from '../../storage/log-store.js';
import { startBroker } from '../helpers/broker.js';
import { appendValues } from './store-contract.js';

const dataDir = mkdtempSync(join(tmpdir(), 'pb-broker-corrupt-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('truncates a corrupted commit-log tail with a warning and the broker starts', { timeout: 60_000 }, async () => {
  const storeDir = join(dataDir, 'store');
  const store = new LogStore({ dir: storeDir, segmentBytes: 1024 * 1024, durability: 'sync', intervalMs: 100 });
  await store.open();
  // Partition ids far from the core's own, so the core ignores them.
  for (let i = 0; i < 20; i++) appendValues(store, [`v${i}`.padEnd(200, '.')], [{ partition: 900_000 }]);
  await store.close();
  const segment = join(storeDir, readdirSync(storeDir).filter((f) => f.endsWith('.log')).sort().at(-1)!);
  const bytes = readFileSync(segment);
  for (let i = 1; i <= 8; i++) bytes[bytes.length - i * 7]! ^= 0xa5;
  writeFileSync(segment, bytes);

  const broker = await startBroker({ dataDir });
  try {
    expect(broker.ports.amqp).toBeGreaterThan(0);
    expect(broker.output()).toContain('commit log tail truncated');
  } finally {
    await broker.stop();
  }
  const again = new LogStore({ dir: storeDir, segmentBytes: 1024 * 1024, durability: 'sync', intervalMs: 100 });
  const report = await again.open();
  expect(report.truncatedBytes).toBe(0);
  expect(again.endOffset(900_000)).toBe(19);
  await again.close();
});

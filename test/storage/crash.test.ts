/**
 * Crash tests (issue 3): a child process appends under load and reports every acknowledged
 * append; the test SIGKILLs it at a random moment, reopens the store and checks what was
 * acknowledged. 20+ kills per durability mode, on the same directory, so every round also
 * recovers from the previous round's torn tail.
 *
 * SIGKILL kills the process, not the machine: the OS keeps what was written. So these tests
 * prove the acknowledgement order (write, and for `sync` fsync, before ack) and recovery;
 * they cannot simulate power loss.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogStore } from '../../storage/log-store.js';
import { decodeRecordBatch } from '../../storage/record-batch.js';
import type { DurabilityMode } from '../../storage/types.js';
import { recordBatchFor, valueFor } from './fixtures/crash-records.js';

const CHILD_SOURCE = join(import.meta.dirname, 'fixtures', 'crash-appender.ts');
const KILLS = 20;
/** The child bundled once to plain JS (esbuild, as tsx uses): 40 tsx start-ups cost ~20 s. */
let CHILD = '';
beforeAll(async () => {
  const { build } = await import('esbuild');
  // Inside the repository so the bundle's bare imports (native addons) resolve.
  const cache = join(process.cwd(), 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, 'pb-crash-child-'));
  dirs.push(outDir);
  CHILD = join(outDir, 'crash-appender.mjs');
  await build({
    entryPoints: [CHILD_SOURCE],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: CHILD,
    packages: 'external',
    absWorkingDir: process.cwd(),
  });
});

interface Ack {
  seq: number;
  pairs: [partition: number, offset: number][];
  at: number;
}

/** Runs the child until `killAfter` acks were reported, then SIGKILLs it; returns the acks. */
async function runAndKill(dir: string, mode: DurabilityMode, firstSeq: number, killAfter: number): Promise<{ acks: Ack[]; killedAt: number }> {
  const child: ChildProcess = spawn(process.execPath, [CHILD, dir, mode, String(firstSeq)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acks: Ack[] = [];
  let killedAt = 0;
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (!line.startsWith('ack ')) continue;
    const parts = line.split(' ');
    acks.push({
      seq: Number(parts[1]),
      pairs: parts.slice(2, -1).map((p) => p.split(':').map(Number) as [number, number]),
      at: Number(parts[parts.length - 1]),
    });
    if (acks.length >= killAfter && killedAt === 0) {
      killedAt = Date.now();
      child.kill('SIGKILL');
    }
  }
  await exited;
  return { acks, killedAt };
}

/** Every ack in `mustHave` is present in `store` with the exact bytes of its record. */
async function checkAcked(store: LogStore, mustHave: Ack[]): Promise<void> {
  // One sequential read per partition, then a lookup per ack.
  const byOffset = new Map<number, Map<number, Buffer>>();
  for (let p = 0; p < 5; p++) {
    const map = new Map<number, Buffer>();
    for (const b of await store.read(p, 0, 2 ** 40)) map.set(b.baseOffset, b.batch);
    byOffset.set(p, map);
  }
  for (const ack of mustHave) {
    for (const [partition, offset] of ack.pairs) {
      const batch = byOffset.get(partition)!.get(offset);
      expect(batch, `seq ${ack.seq} at ${partition}:${offset}`).toBeDefined();
      const rec = decodeRecordBatch(batch!).records[0]!;
      expect(rec.key!.toString()).toBe(String(ack.seq));
      expect(rec.value!.equals(valueFor(ack.seq))).toBe(true);
    }
  }
}

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.each([
  ['sync', 0],
  ['interval', 50],
] as const)('crash test in %s mode', (mode, intervalMs) => {
  it(`keeps every acknowledged record across ${KILLS} SIGKILLs${mode === 'interval' ? ' (loss bounded by the interval)' : ''}`, { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), `pb-crash-${mode}-`));
    dirs.push(dir);
    const random = rng(mode === 'sync' ? 42 : 4242);
    const allAcks: Ack[] = [];
    let truncations = 0;
    let inBound = 0;
    let total = 0;
    for (let round = 0; round < KILLS; round++) {
      // Interval acks come fast: kill later so a round spans several intervals.
      const killAfter = 1 + Math.floor(random() * (mode === 'sync' ? 400 : 1500));
      const { acks, killedAt } = await runAndKill(dir, mode, round * 1_000_000, killAfter);
      expect(acks.length).toBeGreaterThanOrEqual(killAfter);
      // `sync`: every ack. `interval`: acks older than the interval at the kill (writes the
      // OS holds survive a process kill, so in practice this is every ack as well).
      const mustHave = mode === 'sync' ? acks : acks.filter((a) => a.at <= killedAt - intervalMs);
      allAcks.push(...mustHave);
      inBound += mustHave.length;
      total += acks.length;
      const store = new LogStore({ dir, segmentBytes: 128 * 1024, durability: mode, intervalMs: 50 });
      const report = await store.open();
      if (report.truncatedBytes > 0) truncations++;
      await checkAcked(store, mustHave);
      await store.close();
    }
    // Everything acknowledged in every round is still there, and the store takes new appends.
    const store = new LogStore({ dir, segmentBytes: 128 * 1024, durability: 'sync', intervalMs: 50 });
    await store.open();
    await checkAcked(store, allAcks);
    const end = store.endOffset(0);
    const r = store.append({
      batch: recordBatchFor(7),
      recordCount: 1,
      firstTimestamp: 1,
      maxTimestamp: 1,
      targets: [{ partition: 0 }],
    });
    expect(r.baseOffsets).toEqual([end]);
    await r.durable;
    expect((await store.read(0, end, 1))[0]!.baseOffset).toBe(end);
    await store.close();
    expect(allAcks.length).toBeGreaterThan(KILLS);
    // Torn tails are expected in some rounds (the kill lands mid-write); recorded for the log.
    console.info(`${mode}: ${inBound} of ${total} acknowledged appends were required and found, ${truncations} of ${KILLS} reopens truncated a torn tail`);
  });
});

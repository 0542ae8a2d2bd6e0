/**
 * `npm run bench -- storage`: the storage benchmark of issue 3, all on one filesystem.
 *
 * Knobs (environment):
 *   STORAGE_BENCH_DIR            where data goes (default: the OS temp dir)
 *   STORAGE_BENCH_APPEND_BYTES   bytes per append workload run (default 512 MiB; single-record
 *                                appends use 1/2 (1 KiB) and 1/8 (100 B) of it: they are CPU-bound)
 *   STORAGE_BENCH_RAW_BYTES      raw sequential write size (default: the append size, so the
 *                                ratios compare equal volumes under the same caching)
 *   STORAGE_BENCH_READ_BYTES     log size for the read workloads (default 256 MiB)
 *   STORAGE_BENCH_RECOVERY_BYTES log size for the recovery workloads (default 1 GiB)
 *   STORAGE_BENCH_RSS_BYTES      bytes appended while RSS is watched (default 5 GiB)
 *   STORAGE_BENCH_SYNC_SECONDS   duration of each concurrent sync run (default 3)
 *
 * Figures: MB/s are MiB/s of RecordBatch bytes handed to the store (commit-log framing
 * adds 48 bytes per entry on top), compared with the raw sequential write figure and, per
 * run, with a raw write of the same volume made just before (`x raw, same run`), which is
 * the fair ratio on a machine whose disk speed drifts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Harness } from './harness.js';
import { LogStore } from '../storage/log-store.js';
import type { DurabilityMode } from '../storage/types.js';
import {
  appendThroughput,
  concurrentSyncAppends,
  makeBatch,
  MiB,
  rawFsyncRate,
  rawSequentialWrite,
  readAll,
  storeOptions,
} from './storage-workloads.js';

const env = process.env;
const num = (name: string, dflt: number): number => (env[name] ? Number(env[name]) : dflt);

export async function run(h: Harness): Promise<void> {
  const root = mkdtempSync(join(env.STORAGE_BENCH_DIR ?? tmpdir(), 'pb-bench-storage-'));
  h.onCleanup(() => rmSync(root, { recursive: true, force: true }));
  const appendBytes = num('STORAGE_BENCH_APPEND_BYTES', 512 * MiB);
  const rawBytes = num('STORAGE_BENCH_RAW_BYTES', appendBytes);
  const readBytes = num('STORAGE_BENCH_READ_BYTES', 256 * MiB);
  const recoveryBytes = num('STORAGE_BENCH_RECOVERY_BYTES', 1024 * MiB);
  const rssBytes = num('STORAGE_BENCH_RSS_BYTES', 5 * 1024 * MiB);
  const syncSeconds = num('STORAGE_BENCH_SYNC_SECONDS', 3);
  let n = 0;
  const freshDir = (): string => mkdtempSync(join(root, `run-${n++}-`));
  const RAW = 'raw sequential write';

  await h.measure(RAW, async () => {
    const dir = freshDir();
    try {
      return { 'MB/s': await rawSequentialWrite(join(dir, 'raw'), rawBytes) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, { units: 'MiB/s' });

  await h.measure('raw fsync (4 KiB write + fdatasync)', async () => {
    const dir = freshDir();
    try {
      return { 'commits/s': rawFsyncRate(join(dir, 'fsync'), 2) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, { units: '/s' });

  const modes: DurabilityMode[] = ['interval', 'sync', 'none'];
  for (const recordBytes of [1024, 100]) {
    for (const perBatch of [100, 1]) {
      for (const mode of modes) {
        const batch = makeBatch(recordBytes, perBatch);
        // Single-record appends are CPU-bound: fewer bytes keep the runs short.
        const total = perBatch > 1 ? appendBytes : Math.max(8 * MiB, recordBytes >= 1024 ? appendBytes / 2 : appendBytes / 8);
        await h.measure(
          `append ${recordBytes} B x${perBatch}/batch ${mode}`,
          async (ctx) => {
            // The disk's speed drifts on a shared machine: each run also measures a raw
            // write of the same volume right before, and reports the paired ratio.
            const dir = freshDir();
            ctx.progress('raw write of the same volume');
            const raw = await rawSequentialWrite(join(dir, 'raw'), total);
            rmSync(join(dir, 'raw'));
            const store = new LogStore(storeOptions(dir, mode));
            await store.open();
            try {
              const figures = await appendThroughput(store, batch, perBatch, total, (b) => ctx.progress(`${Math.round(b / MiB)} MiB`));
              return { ...figures, 'raw MB/s, same run': raw, 'x raw, same run': figures['MB/s'] / raw };
            } finally {
              await store.close();
              rmSync(dir, { recursive: true, force: true });
            }
          },
          { units: { 'MB/s': 'MiB/s', 'records/s': '/s', 'raw MB/s, same run': 'MiB/s', 'x raw, same run': '×' }, reference: RAW },
        );
      }
    }
  }

  const one = makeBatch(1024, 1);
  const syncRun = (appenders: number) => async () => {
    const dir = freshDir();
    const store = new LogStore(storeOptions(dir, 'sync'));
    await store.open();
    try {
      return { 'commits/s': await concurrentSyncAppends(store, one, appenders, syncSeconds) };
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const single = await h.measure('sync 1 KiB, 1 appender awaiting each append', syncRun(1), {
    units: '/s',
    runs: Math.max(h.runs, 5),
    reference: 'raw fsync (4 KiB write + fdatasync)',
  });
  const many = await h.measure('sync 1 KiB, 100 concurrent appenders', syncRun(100), {
    units: '/s',
    runs: Math.max(h.runs, 5),
    reference: 'sync 1 KiB, 1 appender awaiting each append',
  });
  h.note(`group commit: 100 appenders / 1 appender = ${(many[0]!.median / single[0]!.median).toFixed(1)}x (target >= 20x)`);

  // Reads: one log of 1 KiB records in batches of 10, read back from a freshly opened store
  // (cold: nothing in the tail cache; pages dropped when the OS lets us) and again (hot).
  {
    const dir = freshDir();
    const store = new LogStore(storeOptions(dir, 'none'));
    await store.open();
    h.progress('writing the read workload log');
    await appendThroughput(store, makeBatch(1024, 10), 10, readBytes);
    await store.close();
    let dropped = false;
    await h.measure('read 1 KiB x10 cold (fresh store, page cache dropped if allowed)', async () => {
      dropped = dropPageCache();
      const s = new LogStore(storeOptions(dir, 'none'));
      await s.open();
      try {
        return { 'MB/s': await readAll(s, MiB) };
      } finally {
        await s.close();
      }
    }, { units: 'MiB/s', reference: RAW });
    h.note(dropped ? 'cold reads ran after dropping the page cache' : 'cold reads: could not drop the page cache (not root); "cold" means not in the store\'s tail cache');
    const warm = new LogStore(storeOptions(dir, 'none'));
    await warm.open();
    await readAll(warm, MiB);
    await h.measure('read 1 KiB x10 hot (page cache)', async () => ({ 'MB/s': await readAll(warm, MiB) }), {
      units: 'MiB/s',
      reference: RAW,
    });
    await warm.close();
    rmSync(dir, { recursive: true, force: true });
  }
  {
    // Hot from the tail cache: a log that fits in it, read right after being appended.
    const dir = freshDir();
    const store = new LogStore(storeOptions(dir, 'none', { cacheBytes: 128 * MiB }));
    await store.open();
    await appendThroughput(store, makeBatch(1024, 10), 10, 64 * MiB);
    await h.measure('read 1 KiB x10 from the tail cache', async () => ({ 'MB/s': await readAll(store, MiB) }), {
      units: 'MiB/s',
      reference: RAW,
    });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // Recovery of a 1 GiB log of single 1 KiB records: with index files (only the active
  // segment is scanned) and without (every segment scanned, every index rebuilt).
  {
    const dir = freshDir();
    const store = new LogStore(storeOptions(dir, 'none'));
    await store.open();
    h.progress('writing the recovery workload log');
    await appendThroughput(store, makeBatch(1024, 1), 1, recoveryBytes);
    await store.close();
    const logMiB = store.diskBytes() / MiB;
    const reopen = (dropIndexes: boolean) => async () => {
      if (dropIndexes) for (const f of readdirSync(dir)) if (f.endsWith('.idx')) rmSync(join(dir, f));
      dropPageCache();
      const s = new LogStore(storeOptions(dir, 'none'));
      const report = await s.open();
      await s.close();
      return {
        'open ms': report.durationMs,
        'log MB/s': logMiB / (report.durationMs / 1000),
        'units rebuilt': report.indexUnitsRebuilt,
      };
    };
    await h.measure(`recovery of ${Math.round(logMiB)} MiB, index files present`, reopen(false), {
      units: { 'open ms': 'ms', 'log MB/s': 'MiB/s', 'units rebuilt': '' },
    });
    await h.measure(`recovery of ${Math.round(logMiB)} MiB, index files deleted (full rebuild)`, reopen(true), {
      units: { 'open ms': 'ms', 'log MB/s': 'MiB/s', 'units rebuilt': '' },
    });
    rmSync(dir, { recursive: true, force: true });
  }

  // RSS while appending 5 GiB with no reader, in a child process of its own.
  {
    const dir = freshDir();
    const child = join(dirname(fileURLToPath(import.meta.url)), 'storage-rss.js');
    const result = await new Promise<{ maxRssMiB: number; 'MB/s': number }>((resolve, reject) => {
      const p = spawn(process.execPath, [child], {
        env: { ...env, STORAGE_RSS_DIR: dir, STORAGE_RSS_BYTES: String(rssBytes) },
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      let out = '';
      p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      p.on('message', (m: { done: number }) => h.progress(`RSS run: ${Math.round(m.done / MiB)} of ${Math.round(rssBytes / MiB)} MiB`));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`storage-rss exited ${code}`))));
    });
    rmSync(dir, { recursive: true, force: true });
    h.record(`append ${(rssBytes / 1024 / MiB).toFixed(1)} GiB of 1 KiB records, no reader`, 'max RSS', [result.maxRssMiB], { units: 'MiB' });
    h.record(`append ${(rssBytes / 1024 / MiB).toFixed(1)} GiB of 1 KiB records, no reader`, 'MB/s', [result['MB/s']], {
      units: 'MiB/s',
      reference: RAW,
    });
  }
}

/** Drops the page cache when running as root; true when it did. */
function dropPageCache(): boolean {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch {
    return false;
  }
}

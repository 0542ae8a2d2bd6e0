/**
 * Workloads of the storage benchmark (bench/storage.ts), each a plain async function that
 * returns its figures, so the RSS child (bench/storage-rss.ts) can reuse them.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setImmediate as yieldTick } from 'node:timers/promises';
import { LogStore } from '../storage/log-store.js';
import { encodeRecordBatch } from '../storage/record-batch.js';
import type { DurabilityMode, StoreOptions } from '../storage/types.js';

export const MiB = 1024 * 1024;

export function storeOptions(dir: string, durability: DurabilityMode, over: Partial<StoreOptions> = {}): StoreOptions {
  return { dir, segmentBytes: 128 * MiB, durability, intervalMs: 100, ...over };
}

/** Sequential 1 MiB writes then one fdatasync: the disk's bandwidth as the log would see it. */
export async function rawSequentialWrite(path: string, bytes: number): Promise<number> {
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(MiB, 0x61);
  const t0 = performance.now();
  for (let done = 0; done < bytes; done += MiB) await fh.write(chunk, 0, MiB, done);
  await fh.datasync();
  const s = (performance.now() - t0) / 1000;
  await fh.close();
  return bytes / MiB / s;
}

/** Appending 4 KiB then fdatasync, in a loop: the most sync commits per second possible. */
export function rawFsyncRate(path: string, seconds: number): number {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 0x62);
  const t0 = performance.now();
  let n = 0;
  let pos = 0;
  while (performance.now() - t0 < seconds * 1000) {
    writeSync(fd, block, 0, block.length, pos);
    pos += block.length;
    fdatasyncSync(fd);
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  closeSync(fd);
  return n / s;
}

export function makeBatch(recordBytes: number, records: number): Buffer {
  const value = Buffer.alloc(recordBytes, 0x78);
  return encodeRecordBatch({
    records: Array.from({ length: records }, () => ({ value, timestamp: Date.now() })),
  });
}

/**
 * A producer that appends as fast as the store accepts: up to 1 MiB of batches per tick,
 * pausing when the store is not writable; timed until everything is fsynced. Each
 * append gets its own copy of the batch, as a batch decoded from a socket would be, so the
 * tail cache and pending writes hold real memory.
 */
export async function appendThroughput(
  store: LogStore,
  batch: Buffer,
  recordsPerBatch: number,
  totalBytes: number,
  onProgress?: (bytes: number) => void,
): Promise<{ 'MB/s': number; 'records/s': number }> {
  const perTick = Math.max(1, Math.floor(MiB / batch.length));
  const targets = [{ partition: 1 }];
  const now = Date.now();
  let bytes = 0;
  let appends = 0;
  let last: Promise<void> = Promise.resolve();
  const t0 = performance.now();
  while (bytes < totalBytes) {
    for (let i = 0; i < perTick && bytes < totalBytes; i++) {
      const own = Buffer.allocUnsafe(batch.length);
      batch.copy(own);
      last = store.append({ batch: own, recordCount: recordsPerBatch, firstTimestamp: now, maxTimestamp: now, targets }).durable;
      bytes += batch.length;
      appends++;
    }
    if ((appends & 0xfff) < perTick) onProgress?.(bytes);
    if (!store.writable) await store.whenWritable();
    else await yieldTick();
  }
  await last;
  // Timed to durable on disk in every mode, like the raw figure's write + fdatasync.
  await store.flush();
  const s = (performance.now() - t0) / 1000;
  return { 'MB/s': bytes / MiB / s, 'records/s': (appends * recordsPerBatch) / s };
}

/** `appenders` loops, each awaiting its own append's durability before the next. */
export async function concurrentSyncAppends(store: LogStore, batch: Buffer, appenders: number, seconds: number): Promise<number> {
  const targets = [{ partition: 1 }];
  const now = Date.now();
  let count = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < end) {
        await store.append({ batch, recordCount: 1, firstTimestamp: now, maxTimestamp: now, targets, durability: 'sync' }).durable;
        count++;
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

/** Reads partition 1 from its start to its end in `maxBytes` fetches; MB/s of batch bytes. */
export async function readAll(store: LogStore, maxBytes: number): Promise<number> {
  let offset = store.startOffset(1);
  const end = store.endOffset(1);
  let bytes = 0;
  const t0 = performance.now();
  while (offset < end) {
    const batches = await store.read(1, offset, maxBytes);
    if (batches.length === 0) throw new Error(`read stopped at offset ${offset} of ${end}`);
    for (const b of batches) bytes += b.batch.length;
    const lastBatch = batches[batches.length - 1]!;
    offset = lastBatch.baseOffset + lastBatch.recordCount;
  }
  return bytes / MiB / ((performance.now() - t0) / 1000);
}

/**
 * Child process of the storage benchmark: appends STORAGE_RSS_BYTES of 1 KiB records (one
 * record per append, `interval` durability) to a fresh store in STORAGE_RSS_DIR with no
 * reader, sampling its own RSS every 50 ms. Prints one JSON line: max RSS and throughput.
 * A separate process so the figure is not polluted by the other workloads' heaps.
 */
import { LogStore } from '../storage/log-store.js';
import { appendThroughput, makeBatch, MiB, storeOptions } from './storage-workloads.js';

const dir = process.env.STORAGE_RSS_DIR!;
const bytes = Number(process.env.STORAGE_RSS_BYTES ?? 5 * 1024 * MiB);

const cacheBytes = process.env.STORAGE_BENCH_CACHE_BYTES ? Number(process.env.STORAGE_BENCH_CACHE_BYTES) : undefined;
const store = new LogStore(storeOptions(dir, 'interval', cacheBytes === undefined ? {} : { cacheBytes }));
await store.open();
let maxRss = process.memoryUsage.rss();
const timer = setInterval(() => {
  maxRss = Math.max(maxRss, process.memoryUsage.rss());
}, 50);
const result = await appendThroughput(store, makeBatch(1024, 1), 1, bytes, (done) => {
  if (process.send) process.send({ done });
});
await store.close();
clearInterval(timer);
maxRss = Math.max(maxRss, process.memoryUsage.rss());
process.stdout.write(JSON.stringify({ maxRssMiB: maxRss / MiB, ...result }) + '\n');

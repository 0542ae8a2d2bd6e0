/**
 * `npm run bench -- core`: the routing core in process (no sockets), on the real LogStore in a
 * temp dir (issue 4 "Benchmark").
 *
 *   publish -> deliver -> ack, 1 KiB, one queue    transient queue; durable queue + persistent (sync)
 *   fan-out to 10 durable queues                   msgs/s and commit-log bytes per message (store-once)
 *   stream append + read                           1 KiB records, 100 per produced batch
 *   topic routing, 100,000 bindings                publishes/s to 100,000 queues (1 binding each),
 *                                                  hot keys (match cache) and each key once (cold)
 *   memory per idle queue                          heap bytes per queue with one binding
 *
 * Knobs (environment): CORE_BENCH_MESSAGES (default 50000), CORE_BENCH_QUEUES (100000),
 * CORE_BENCH_DIR (temp dir root), CORE_BENCH_ONLY (comma-separated workload groups to run:
 * single, fanout, stream, stream shared, routing, memory; default all).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Figures, Harness } from './harness.js';
import { createCore, createMessage, type Core, type Delivery } from '../src/core/index.js';
import { LogStore } from '../storage/log-store.js';
import { encodeRecordBatch } from '../storage/record-batch.js';
import type { DurabilityMode } from '../storage/types.js';

const env = process.env;
const MESSAGES = Number(env.CORE_BENCH_MESSAGES ?? 50_000);
const QUEUES = Number(env.CORE_BENCH_QUEUES ?? 100_000);
const BODY = Buffer.alloc(1024, 'x');
const ONLY = env.CORE_BENCH_ONLY ? new Set(env.CORE_BENCH_ONLY.split(',').map((g) => g.trim())) : null;
/** Whether a workload group runs (CORE_BENCH_ONLY). */
const selected = (group: string): boolean => ONLY === null || ONLY.has(group);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Open {
  core: Core;
  store: LogStore;
  done(): Promise<void>;
}

async function openCore(root: string, durability: DurabilityMode): Promise<Open> {
  const dir = mkdtempSync(join(root, 'run-'));
  const store = new LogStore({ dir, segmentBytes: 64 << 20, durability, intervalMs: 200 });
  const core = createCore(store, { durability, sweepIntervalMs: 0 });
  await core.open();
  return {
    core,
    store,
    async done() {
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Publishes `n` messages to `exchange`/`rk` in bursts (one burst per tick, the way a socket's
 * data events arrive), keeping at most `window` unconfirmed, while consumers ack every delivery.
 * Resolves with the elapsed seconds once every expected delivery is acked.
 */
async function pump(core: Core, exchange: string, rk: string, queues: string[], n: number, persistent: boolean): Promise<number> {
  const conn = core.connect({ vhost: '/', protocol: 'amqp' });
  const pub = conn.openChannel();
  const sub = conn.openChannel();
  const expected = n * queues.length;
  let acked = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  for (const q of queues) {
    sub.consume(q, {
      prefetch: 1000,
      onDelivery: (d: Delivery) => {
        sub.ack(d.deliveryTag);
        if (++acked === expected) resolveDone();
      },
    });
  }
  const started = performance.now();
  const BURST = 200;
  let confirms: Promise<void>[] = [];
  for (let sent = 0; sent < n; ) {
    const burst = Math.min(BURST, n - sent);
    let last: Promise<void> | null = null;
    for (let i = 0; i < burst; i++) last = pub.publish(exchange, rk, createMessage(BODY, { properties: { persistent } })).durable;
    sent += burst;
    confirms.push(last!);
    if (confirms.length >= 10) {
      await confirms[0];
      confirms = confirms.slice(1);
    }
    await tick();
  }
  await Promise.all(confirms);
  await done;
  const secs = (performance.now() - started) / 1000;
  await conn.close();
  return secs;
}

export async function run(h: Harness): Promise<void> {
  const root = mkdtempSync(join(env.CORE_BENCH_DIR ?? tmpdir(), 'pb-bench-core-'));
  h.onCleanup(() => rmSync(root, { recursive: true, force: true }));
  const figures = new Map<string, number>();

  for (const [label, durable, mode] of [
    ['transient queue', false, 'none'],
    ['durable queue, persistent, sync', true, 'sync'],
  ] as const) {
    if (!selected('single')) continue;
    await h.measure(
      `publish->deliver->ack 1 KiB, one queue (${label})`,
      async (): Promise<Figures> => {
        const o = await openCore(root, mode);
        try {
          await o.core.vhost('/').declareQueue('q', { durable });
          const disk0 = o.store.diskBytes();
          const secs = await pump(o.core, '', 'q', ['q'], MESSAGES, durable);
          const rate = MESSAGES / secs;
          const bytes = (o.store.diskBytes() - disk0) / MESSAGES;
          if (durable) {
            figures.set('single msgs/s', rate);
            figures.set('single bytes/msg', bytes);
          }
          return durable ? { 'msgs/s': rate, 'disk bytes/msg': bytes } : { 'msgs/s': rate };
        } finally {
          await o.done();
        }
      },
      { units: { 'msgs/s': 'msgs/s', 'disk bytes/msg': 'B' }, warmupRuns: 1 },
    );
  }

  if (selected('fanout')) await h.measure(
    'fan-out 1 KiB to 10 durable queues, persistent, sync',
    async () => {
      const o = await openCore(root, 'sync');
      try {
        const vh = o.core.vhost('/');
        const names: string[] = [];
        for (let i = 0; i < 10; i++) {
          names.push(`f${i}`);
          await vh.declareQueue(`f${i}`, { durable: true });
          await vh.bindQueue(`f${i}`, 'amq.fanout', '');
        }
        const n = Math.floor(MESSAGES / 2);
        const disk0 = o.store.diskBytes();
        const secs = await pump(o.core, 'amq.fanout', '', names, n, true);
        const rate = n / secs;
        const bytes = (o.store.diskBytes() - disk0) / n;
        return {
          'msgs/s': rate,
          'deliveries/s': (n * 10) / secs,
          'disk bytes/msg': bytes,
          'msgs/s vs single': rate / (figures.get('single msgs/s') ?? rate),
          'bytes/msg vs single': bytes / (figures.get('single bytes/msg') ?? bytes),
        };
      } finally {
        await o.done();
      }
    },
    { units: { 'msgs/s': 'msgs/s', 'deliveries/s': '/s', 'disk bytes/msg': 'B', 'msgs/s vs single': 'x', 'bytes/msg vs single': 'x' }, warmupRuns: 1 },
  );

  for (const shared of [false, true]) {
    if (!selected(shared ? 'stream shared' : 'stream')) continue;
    await h.measure(
      shared
        ? 'stream append, amq.topic shared with other streams and MQTT subscribers (interval)'
        : 'stream append + read, 1 KiB records x100/batch (interval)',
      async () => {
        const o = await openCore(root, 'interval');
        try {
          const vh = o.core.vhost('/');
          if (shared) {
            // A broker that also serves other Kafka topics and MQTT devices: amq.topic holds
            // bindings, none of which matches this stream's name except its own.
            await vh.declareStream('s', { partitions: 1 });
            for (let i = 0; i < 10; i++) await vh.declareStream(`other-${i}`, { partitions: 1 });
            for (let i = 0; i < 1000; i++) {
              await vh.declareQueue(`mqtt-${i}`);
              await vh.bindQueue(`mqtt-${i}`, 'amq.topic', `devices.${i}.#`);
            }
          } else await vh.declareStream('s', { partitions: 1, bindToTopicExchange: false });
          const batch = encodeRecordBatch({ records: Array.from({ length: 100 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: BODY })) });
          const records = MESSAGES * 4;
          let t = performance.now();
          const cpu0 = process.cpuUsage();
          let last: Promise<void> = Promise.resolve();
          for (let i = 0; i < records / 100; i++) {
            last = vh.produce('s', 0, batch).durable;
            if (i % 50 === 49) await tick();
          }
          await last;
          const appendRate = records / ((performance.now() - t) / 1000);
          const cpu = process.cpuUsage(cpu0);
          const perCpu = records / ((cpu.user + cpu.system) / 1e6);
          if (shared) return { 'append records/s': appendRate, 'append records per cpu-s': perCpu };
          t = performance.now();
          let off = 0;
          while (off < records) {
            const bs = await vh.fetch('s', 0, off, 1 << 20);
            const lastB = bs[bs.length - 1]!;
            off = lastB.baseOffset + lastB.recordCount;
          }
          const fetchRate = records / ((performance.now() - t) / 1000);
          t = performance.now();
          off = 0;
          const decodeN = Math.min(records, 100_000);
          while (off < decodeN) {
            const ms = await vh.readMessages('s', 0, off, 5000);
            off = ms[ms.length - 1]!.offset + 1;
          }
          const decodeRate = decodeN / ((performance.now() - t) / 1000);
          return { 'append records/s': appendRate, 'append records per cpu-s': perCpu, 'fetch records/s': fetchRate, 'decoded read msgs/s': decodeRate };
        } finally {
          await o.done();
        }
      },
      { units: '/s', warmupRuns: 1 },
    );
  }

  if (selected('routing')) {
    const o = await openCore(root, 'none');
    try {
      const vh = o.core.vhost('/');
      h.progress(`declaring ${QUEUES} queues with one topic binding each`);
      // Binding shapes of MQTT/STOMP subscribers: exact, one-level and multi-level wildcards.
      const pattern = (i: number): string => (i % 4 === 0 ? `dev.${i}.temp` : i % 4 === 1 ? `dev.${i}.*` : i % 4 === 2 ? `dev.${i}.#` : `*.${i}.temp`);
      for (let i = 0; i < QUEUES; i++) {
        await vh.declareQueue(`sub-${i}`, { arguments: { 'x-max-length': 1 } });
        await vh.bindQueue(`sub-${i}`, 'amq.topic', pattern(i));
      }
      const conn = o.core.connect({ vhost: '/', protocol: 'mqtt' });
      const ch = conn.openChannel();
      const body = Buffer.alloc(64, 'x');
      const keys = Array.from({ length: 100_000 }, () => `dev.${Math.floor(Math.random() * QUEUES)}.temp`);
      await h.measure(
        `topic routing, ${QUEUES} bindings (publish to transient queues)`,
        async () => {
          const n = 500_000;
          const t = performance.now();
          const cpu0 = process.cpuUsage();
          let routed = 0;
          for (let i = 0; i < n; i++) routed += ch.publish('amq.topic', keys[i % keys.length]!, createMessage(body)).destinations;
          const secs = (performance.now() - t) / 1000;
          const cpu = process.cpuUsage(cpu0);
          // Per CPU-second as well: on a shared 2-core box wall time also counts other processes.
          return { 'msgs/s': n / secs, 'msgs per cpu-s': n / ((cpu.user + cpu.system) / 1e6), 'destinations/msg': routed / n };
        },
        { units: { 'msgs/s': 'msgs/s', 'msgs per cpu-s': 'msgs/s', 'destinations/msg': '' }, warmupRuns: 1 },
      );
      // The same with every key published once after a binding change (the trie's match cache
      // starts empty): the uncached path.
      const perm = Array.from({ length: QUEUES }, (_, i) => `dev.${i}.temp`);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      await vh.declareQueue('cache-buster');
      await h.measure(
        `topic routing, ${QUEUES} bindings, each key once after a bind (cold match cache)`,
        async () => {
          await vh.bindQueue('cache-buster', 'amq.topic', 'cache.buster');
          await vh.unbindQueue('cache-buster', 'amq.topic', 'cache.buster');
          const t = performance.now();
          const cpu0 = process.cpuUsage();
          for (let i = 0; i < perm.length; i++) ch.publish('amq.topic', perm[i]!, createMessage(body));
          const secs = (performance.now() - t) / 1000;
          const cpu = process.cpuUsage(cpu0);
          return { 'msgs/s': perm.length / secs, 'msgs per cpu-s': perm.length / ((cpu.user + cpu.system) / 1e6) };
        },
        { units: 'msgs/s', warmupRuns: 1 },
      );
      await conn.close();
    } finally {
      await o.done();
    }
  }

  for (const durable of [false, true]) {
    if (!selected('memory')) continue;
    await h.measure(
      `memory per idle queue with one binding (${durable ? 'durable' : 'transient'}, ${QUEUES} queues)`,
      async () => {
        const o = await openCore(root, 'none');
        try {
          const vh = o.core.vhost('/');
          gc();
          const before = process.memoryUsage();
          for (let base = 0; base < QUEUES; base += 1000) {
            const ps: Promise<unknown>[] = [];
            for (let i = base; i < Math.min(QUEUES, base + 1000); i++) {
              ps.push(vh.declareQueue(`idle-${i}`, { durable }).then(() => vh.bindQueue(`idle-${i}`, 'amq.topic', `clients.${i}.#`)));
            }
            await Promise.all(ps);
          }
          await tick();
          gc();
          const after = process.memoryUsage();
          // Heap only: RSS moves with the allocator's free pages and the earlier workloads.
          return { 'heap bytes/queue': (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / QUEUES };
        } finally {
          await o.done();
        }
      },
      { units: 'B', runs: 1 },
    );
  }
  h.note('In process on the real LogStore; "vs single" compares the fan-out run with the single durable queue run (store-once: ~1x bytes per message).');
}

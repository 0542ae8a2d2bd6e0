/**
 * `npm run bench -- business`: business messaging features (issue 11), in process on the real
 * LogStore in a temp dir (`sync` durability, like bench/core.ts).
 *
 *   schedule rate           PENDING persistent 100 B messages published with delays of 1-2 h
 *                           (so all stay pending), msgs/s until every one is durable (message +
 *                           timer unit); compared with a plain publish of as many to a durable
 *                           queue (RabbitMQ 3.10 in ../shared/peers has no delayed-message
 *                           plugin, so there is no peer figure). Also heap and RSS growth.
 *   lateness, N pending     with PENDING delays pending, DUE more messages due evenly over
 *                           DUE_SPAN_MS; lateness = delivery to a consumer - due time
 *                           (p50 / p99 / max, ms).
 *   lateness, burst         DUE_BURST messages due within DUE_SPAN_MS (the firing rate), same figures.
 *
 * Knobs (environment): BUSINESS_BENCH_PENDING (1,000,000), BUSINESS_BENCH_DUE (20,000),
 * BUSINESS_BENCH_BURST (100,000), BUSINESS_BENCH_SPAN_MS (10,000), BUSINESS_BENCH_DIR.
 *
 * Filter and selector rows (the "filters" engineer's part) come from bench/business-filter.ts.
 * `--only delay|schedule|lateness|filter|selector` runs one group (delay = schedule + lateness).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Figures, Harness } from './harness.js';
import { runSelectorBench, runTagFilterBench } from './business-filter.js';
import { createCore, createMessage, type Channel, type Core } from '../src/core/index.js';
import { LogStore } from '../storage/log-store.js';

const env = process.env;
const PENDING = Number(env.BUSINESS_BENCH_PENDING ?? 1_000_000);
const DUE = Number(env.BUSINESS_BENCH_DUE ?? 20_000);
const BURST = Number(env.BUSINESS_BENCH_BURST ?? 100_000);
const SPAN_MS = Number(env.BUSINESS_BENCH_SPAN_MS ?? 10_000);
const BODY = Buffer.alloc(100, 'x');
const HOUR = 3_600_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Open {
  core: Core;
  ch: Channel;
  done(): Promise<void>;
}

async function openCore(root: string): Promise<Open> {
  const dir = mkdtempSync(join(root, 'run-'));
  const store = new LogStore({ dir, segmentBytes: 64 << 20, durability: 'sync', intervalMs: 200 });
  const core = createCore(store, { durability: 'sync', sweepIntervalMs: 0 });
  await core.open();
  await core.vhost('/').declareQueue('q', { durable: true });
  const ch = core.connect({ vhost: '/', protocol: 'amqp', user: 'bench' }).openChannel();
  return {
    core,
    ch,
    async done() {
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Publishes `n` messages (delayed by `delayOf(i)` when given), keeping at most `window`
 * unconfirmed, and resolves once every one is durable. Backpressure as an adapter applies it.
 */
async function publishMany(o: Open, n: number, delayOf: ((i: number) => number) | null, body: (i: number) => Buffer = () => BODY): Promise<void> {
  const window = 20_000;
  let inflight = 0;
  let wake: (() => void) | null = null;
  const settled = (): void => {
    inflight--;
    if (wake && inflight < window / 2) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    if (inflight >= window || !o.core.writable) {
      await new Promise<void>((r) => (wake = r));
      if (!o.core.writable) await o.core.whenWritable();
    }
    const m = createMessage(body(i), { properties: { persistent: true } });
    const r = o.ch.publish('', 'q', m, delayOf ? { delayMs: delayOf(i) } : undefined);
    inflight++;
    const p = r.durable.then(settled);
    if (i % 1000 === 999 || i === n - 1) all.push(p);
  }
  await Promise.all(all);
  while (inflight > 0) await new Promise<void>((r) => (wake = r));
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Consumes `expected` messages whose body starts with their due time (float64) and returns
 * lateness figures, and the delivery rate from the first due time to the last delivery.
 */
function lateness(o: Open, expected: number): Promise<Figures> {
  const late = new Float64Array(expected);
  let n = 0;
  let firstDue = Infinity;
  return new Promise((resolve) => {
    o.ch.consume('q', {
      noAck: true,
      onDelivery: (d) => {
        const due = d.message.body.readDoubleBE(0);
        if (due < firstDue) firstDue = due;
        late[n++] = Date.now() - due;
        if (n === expected) {
          const span = (Date.now() - firstDue) / 1000;
          late.sort();
          resolve({ p50: percentile(late, 50), p99: percentile(late, 99), max: late[expected - 1]!, 'delivered/s': expected / span });
        }
      },
    });
  });
}

const dueBody = (dueAt: number): Buffer => {
  const b = Buffer.alloc(100, 'x');
  b.writeDoubleBE(dueAt, 0);
  return b;
};

export async function run(h: Harness): Promise<void> {
  const i = h.args.indexOf('--only');
  const only = i >= 0 ? h.args[i + 1] : undefined;
  if (only === undefined || only === 'delay' || only === 'schedule' || only === 'lateness') await runDelayBench(h, only === 'schedule' || only === undefined || only === 'delay', only !== 'schedule');
  // ---- the filters engineer's rows (bench/business-filter.ts) ----
  if (only === undefined || only === 'selector') await runSelectorBench(h);
  if (only === undefined || only === 'filter') await runTagFilterBench(h);
}

/** Delayed delivery: schedule rate, lateness with PENDING pending and in a burst. */
async function runDelayBench(h: Harness, schedule: boolean, lateness: boolean): Promise<void> {
  const root = mkdtempSync(join(env.BUSINESS_BENCH_DIR ?? tmpdir(), 'pb-bench-business-'));
  h.onCleanup(() => rmSync(root, { recursive: true, force: true }));

  if (schedule) await runScheduleRows(h, root);
  if (lateness) await runLatenessRows(h, root);
  h.note('Lateness = time a consumer got the message - its due time (the body carries the due time). The wheel has 1 s slots loaded a slot ahead; timers fire at their ms.');
  h.note('RabbitMQ 3.10 in ../shared/peers has no rabbitmq_delayed_message_exchange plugin: the schedule rate is compared with a plain persistent publish on polybroker instead.');
}

async function runScheduleRows(h: Harness, root: string): Promise<void> {
  const mib = (b: number) => b / (1 << 20);
  await h.measure(
    `plain publish ${PENDING.toLocaleString('en')} x 100 B persistent`,
    async (ctx) => {
      const o = await openCore(root);
      try {
        ctx.progress('publishing');
        const t0 = performance.now();
        await publishMany(o, PENDING, null);
        return { 'msgs/s': PENDING / ((performance.now() - t0) / 1000) };
      } finally {
        await o.done();
      }
    },
    { units: 'msgs/s' },
  );

  await h.measure(
    `schedule ${PENDING.toLocaleString('en')} delays (1-2 h) x 100 B persistent`,
    async (ctx) => {
      const o = await openCore(root);
      try {
        gc();
        const heap0 = process.memoryUsage().heapUsed;
        const rss0 = process.memoryUsage.rss();
        ctx.progress('scheduling');
        const t0 = performance.now();
        await publishMany(o, PENDING, (i) => HOUR + ((i * 7919) % HOUR));
        const secs = (performance.now() - t0) / 1000;
        gc();
        const pending = o.core.vhost('/').delayedCount();
        if (pending !== PENDING) throw new Error(`expected ${PENDING} pending, found ${pending}`);
        return {
          'msgs/s': PENDING / secs,
          'heap MiB': mib(process.memoryUsage().heapUsed - heap0),
          'rss MiB': mib(process.memoryUsage.rss() - rss0),
        };
      } finally {
        await o.done();
      }
    },
    { units: { 'msgs/s': 'msgs/s', 'heap MiB': 'MiB', 'rss MiB': 'MiB' }, reference: `plain publish ${PENDING.toLocaleString('en')} x 100 B persistent` },
  );
}

async function runLatenessRows(h: Harness, root: string): Promise<void> {
  for (const [label, count, pendingFirst] of [
    [`lateness, ${DUE.toLocaleString('en')} due over ${SPAN_MS / 1000} s with ${PENDING.toLocaleString('en')} pending`, DUE, true],
    [`lateness, burst of ${BURST.toLocaleString('en')} due over ${SPAN_MS / 1000} s`, BURST, false],
  ] as const) {
    await h.measure(
      label,
      async (ctx) => {
        const o = await openCore(root);
        try {
          if (pendingFirst) {
            ctx.progress(`scheduling ${PENDING} far delays`);
            await publishMany(o, PENDING, () => 2 * HOUR);
          }
          ctx.progress('scheduling the measured ones');
          // Due times start after the scheduling is done (the lead time covers it at ~50k/s).
          const lead = 2000 + count / 20;
          const start = Date.now() + lead;
          const got = lateness(o, count);
          await publishMany(o, count, (i) => Math.max(1, start + Math.floor((i * SPAN_MS) / count) - Date.now()), (i) => dueBody(start + Math.floor((i * SPAN_MS) / count)));
          ctx.progress('waiting for due times');
          // The timer's wakes are unref'd (they never keep a broker alive): this one keeps the bench alive.
          const keepAlive = setInterval(() => {}, 1000);
          try {
            return await got;
          } finally {
            clearInterval(keepAlive);
          }
        } finally {
          await o.done();
        }
      },
      { units: { p50: 'ms', p99: 'ms', max: 'ms', 'delivered/s': 'msgs/s' } },
    );
  }
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Harness } from './harness.js';
import { waitForIdle } from './harness-cpu.js';
import { runGenerator } from './generator-run.js';
import type { Workload } from './amqp-load.js';

/**
 * The cost of being watched: the AMQP benchmark's figure (bench/amqp.ts workload (a) by
 * default, driven by the same lean generator) with and without a scraper that fetches
 * `/metrics` and `/api/queues` (basic auth) once a second, as Prometheus plus a dashboard
 * would. Target (issue 12): with ≥ 0.95 × without. The two runs alternate, so a busy
 * machine loads both alike; the printed ratio is with / without.
 *
 * Called by `bench/tls.ts` (`npm run bench -- tls`); `npm run bench -- management-cost` runs it alone.
 */
export interface ManagementCostOptions {
  /** AMQP workload of bench/amqp-load.ts; default 'confirms' (1 KiB persistent + confirms). */
  workload?: Workload;
  seconds?: number;
  /** Scrape period, ms (default 1000). */
  scrapeMs?: number;
}

const generatorScript = fileURLToPath(new URL('./amqp-load.js', import.meta.url));

interface LoadResult {
  published: number;
  delivered: number;
  seconds: number;
}

/** Fetches /metrics and /api/queues every `periodMs` until stopped; counts scrapes and failures. */
function startScraper(httpPort: number, periodMs: number): { stop(): Promise<{ scrapes: number; failures: number; meanMs: number }> } {
  const auth = 'Basic ' + Buffer.from('guest:guest').toString('base64');
  let scrapes = 0;
  let failures = 0;
  let totalMs = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const once = async () => {
    const t0 = performance.now();
    try {
      const [m, q] = await Promise.all([fetch(`http://127.0.0.1:${httpPort}/metrics`), fetch(`http://127.0.0.1:${httpPort}/api/queues`, { headers: { authorization: auth } })]);
      await Promise.all([m.text(), q.text()]);
      if (!m.ok || !q.ok) failures++;
    } catch {
      failures++;
    }
    scrapes++;
    totalMs += performance.now() - t0;
  };
  const timer = setInterval(() => {
    inFlight = inFlight.then(once);
  }, periodMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      return { scrapes, failures, meanMs: scrapes ? totalMs / scrapes : 0 };
    },
  };
}

/** CPU time (user + system, ms) a process has used, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * The broker's CPU per scrape request, measured on the idle broker over many requests: a
 * figure the machine's load does not swamp, unlike a throughput ratio of a few percent.
 */
async function cpuPerRequest(pid: number, httpPort: number, path: string, requests = 300): Promise<number> {
  const headers = { authorization: 'Basic ' + Buffer.from('guest:guest').toString('base64') };
  for (let i = 0; i < 20; i++) await (await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers })).text();
  const before = cpuMs(pid);
  for (let i = 0; i < requests; i++) await (await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers })).text();
  return (cpuMs(pid) - before) / requests;
}

export async function measureManagementCost(h: Harness, options: ManagementCostOptions = {}): Promise<void> {
  const workload = options.workload ?? 'confirms';
  const seconds = options.seconds ?? 5;
  const scrapeMs = options.scrapeMs ?? 1000;
  const broker = await h.startBroker();
  const label = `AMQP ${workload} 1 KiB, scraper on /metrics + /api/queues every ${scrapeMs} ms (vs none)`;
  let scrapeTotals = { scrapes: 0, failures: 0, meanMs: 0 };
  const samples = { with: { rate: [] as number[], cpu: [] as number[] }, without: { rate: [] as number[], cpu: [] as number[] } };
  for (let run = 1; run <= h.runs; run++) {
    for (const scraped of [false, true]) {
      await waitForIdle([broker.pid]);
      h.progress(`${label} · run ${run}/${h.runs} · ${scraped ? 'with' : 'without'} scraper`);
      const scraper = scraped ? startScraper(broker.ports.http, scrapeMs) : null;
      try {
        const { r, brokerCpu } = await runGenerator<LoadResult>(h, generatorScript, { port: broker.ports.amqp, workload, seconds, warmupSeconds: 1, client: 'raw' }, broker.pid);
        const into = scraped ? samples.with : samples.without;
        into.rate.push(Math.round(r.delivered / r.seconds));
        into.cpu.push(Math.round(brokerCpu));
      } finally {
        if (scraper) {
          const s = await scraper.stop();
          scrapeTotals = { scrapes: scrapeTotals.scrapes + s.scrapes, failures: scrapeTotals.failures + s.failures, meanMs: Math.max(scrapeTotals.meanMs, s.meanMs) };
        }
      }
    }
  }
  const units = { 'msgs/s': 'msgs/s', 'broker cpu': '%' };
  // The harness prints polybroker's median beside the "peer" (here: the unscraped runs) with the ratio.
  h.record(label, 'msgs/s', samples.with.rate, { subject: 'polybroker', units });
  h.record(label, 'broker cpu', samples.with.cpu, { subject: 'polybroker', units });
  h.record(label, 'msgs/s', samples.without.rate, { subject: 'no scraper', units });
  h.record(label, 'broker cpu', samples.without.cpu, { subject: 'no scraper', units });
  if (broker.pid !== undefined) {
    const pid = broker.pid;
    await h.measure(
      'broker CPU per scrape request (idle broker, 300 requests)',
      async () => ({ '/metrics ms': await cpuPerRequest(pid, broker.ports.http, '/metrics'), '/api/queues ms': await cpuPerRequest(pid, broker.ports.http, '/api/queues') }),
      { units: 'ms' },
    );
  }
  h.note(`management cost: ratio = with scraper / without (target ≥ 0.95); ${scrapeTotals.scrapes} scrapes, ${scrapeTotals.failures} failed, slowest mean scrape ${scrapeTotals.meanMs.toFixed(1)} ms; runs alternate without/with.`);
}

export async function run(h: Harness): Promise<void> {
  const secondsArg = h.args.indexOf('--seconds');
  await measureManagementCost(h, { seconds: secondsArg >= 0 ? Number(h.args[secondsArg + 1]) : 5 });
}

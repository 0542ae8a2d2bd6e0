import type { Harness } from './harness.js';
import { measureManagementCost } from './management-cost.js';

/**
 * `npm run bench -- tls`: issue 12's benchmark. The TLS-vs-plain throughput rows (AMQP and
 * MQTT, target ≥ 0.7×) belong to the security area and are added here by it; this file starts
 * with the management part: the AMQP figure with and without a scraper on /metrics and
 * /api/queues (target ≥ 0.95×), from bench/management-cost.ts.
 */
export async function run(h: Harness): Promise<void> {
  const secondsArg = h.args.indexOf('--seconds');
  await measureManagementCost(h, { seconds: secondsArg >= 0 ? Number(h.args[secondsArg + 1]) : 5 });
}

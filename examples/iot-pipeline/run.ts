/**
 * The whole pipeline in one process, against a broker started with ./polybroker.yaml:
 *
 *   npx tsx examples/iot-pipeline/run.ts
 *
 * Devices publish over MQTT; a Kafka consumer group aggregates stream `sensors` and publishes
 * alerts to AMQP; workers take them from `alerts.work`, dead-lettering faulty ones to
 * `alerts.dead`; http://127.0.0.1:8080/ shows readings and alerts live over STOMP/WebSocket.
 *
 * Environment: PB_HOST, PB_AMQP_PORT, PB_MQTT_PORT, PB_KAFKA_PORT, PB_HTTP_PORT (broker),
 * PAGE_PORT (8080), IOT_DEVICES (5), IOT_INTERVAL_MS (500), IOT_READINGS (0 = until Ctrl-C;
 * N = each device sends N readings, then the run prints a JSON summary once everything is
 * settled and exits).
 */
import type { AddressInfo } from 'node:net';
import { startAggregator } from './aggregator.js';
import { runDevices } from './devices.js';
import { endpointsFromEnv } from './endpoints.js';
import { startPageServer } from './page-server.js';
import { startWorker } from './worker.js';

const ep = endpointsFromEnv();
const devices = Number(process.env.IOT_DEVICES ?? 5);
const readings = Number(process.env.IOT_READINGS ?? 0);
const intervalMs = Number(process.env.IOT_INTERVAL_MS ?? 500);

let aggregated = 0;
let handled = 0;
let dead = 0;
const deadReasons = new Set<string>();
let checkDone = () => {};

const page = await startPageServer(ep, Number(process.env.PAGE_PORT ?? 8080));
console.log(`live page: http://127.0.0.1:${(page.address() as AddressInfo).port}/`);
const worker = await startWorker(ep, (kind, alert, why) => {
  if (kind === 'handled') handled++;
  else {
    dead++;
    if (why) deadReasons.add(why);
    console.log(`dead-lettered (${why}): ${alert.device} ${alert.celsius} °C`);
  }
  checkDone();
});
const aggregator = await startAggregator(ep, () => {
  aggregated++;
  checkDone();
});

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const report = setInterval(() => {
  const rows = [...aggregator.stats].map(([d, s]) => `${d}: n=${s.count} mean=${s.mean.toFixed(1)} max=${s.max}`);
  console.log(`aggregated ${aggregated}, alerts ${aggregator.alerts()} (handled ${handled}, dead ${dead})\n  ${rows.join('\n  ')}`);
}, 2000);

const sent = await runDevices(ep, devices, readings, intervalMs, stop.signal);
if (readings > 0) {
  // Wait until every reading was aggregated and every alert settled (handled or dead-lettered).
  await new Promise<void>((resolve) => {
    checkDone = () => {
      if (aggregated >= sent && handled + dead === aggregator.alerts()) resolve();
    };
    checkDone();
  });
} else {
  await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
}
clearInterval(report);
console.log(JSON.stringify({ sent, aggregated, alerts: aggregator.alerts(), handled, dead, deadReasons: [...deadReasons] }));
await aggregator.close();
await worker.close();
page.close();

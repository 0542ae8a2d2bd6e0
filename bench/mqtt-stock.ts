/**
 * The same 1 → 1 workload driven by the stock mqtt.js client (one process), for comparison
 * with the lean generator (bench/mqtt-load.ts). Prints one JSON line.
 *
 *   node dist/bench/mqtt-stock.js '{"host":"127.0.0.1","port":1883,"qos":1,"messages":20000,"payloadBytes":100}'
 */
import mqtt from 'mqtt';

interface Spec {
  host: string;
  port: number;
  qos: 0 | 1;
  messages: number;
  payloadBytes: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
  const run = Date.now().toString(36);
  const topic = `bench/stock/${run}`;
  const opts = { host: spec.host, port: spec.port, reconnectPeriod: 0, protocolVersion: 4 as const };
  const sub = await mqtt.connectAsync({ ...opts, clientId: `ssub-${run}` });
  const pub = await mqtt.connectAsync({ ...opts, clientId: `spub-${run}` });
  let received = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => { done = r; });
  sub.on('message', () => {
    if (++received === spec.messages) done();
  });
  await sub.subscribeAsync(topic, { qos: spec.qos });
  const payload = Buffer.alloc(spec.payloadBytes, 0x61);
  const cpu = process.cpuUsage();
  const start = performance.now();
  // Up to 1000 QoS 1 publishes in flight; QoS 0 paced by the client's write callbacks.
  let sent = 0;
  let inflight = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < spec.messages && inflight < 1000) {
        sent++;
        inflight++;
        pub.publish(topic, payload, { qos: spec.qos }, () => {
          inflight--;
          if (sent === spec.messages && inflight === 0) resolve();
          else if (inflight < 500) setImmediate(pump);
        });
      }
    };
    pump();
  });
  const timeout = setTimeout(() => done(), 30_000);
  await all;
  clearTimeout(timeout);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({
    delivered: received,
    deliveriesPerSecond: received / seconds,
    genCpuPercent: ((used.user + used.system) / 1e6 / seconds) * 100,
  }) + '\n', () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(String((e as Error).stack ?? e) + '\n');
  process.exit(1);
});

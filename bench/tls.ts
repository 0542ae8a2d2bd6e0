import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordFile, timed } from './kafka-tools.js';
import type { Harness } from './harness.js';
import { waitForIdle } from './harness-cpu.js';
import { runGenerator } from './generator-run.js';
import type { Workload } from './amqp-load.js';
import type { PubSubResult, PubSubSpec } from './mqtt-load.js';
import { measureManagementCost } from './management-cost.js';
import { makeTestCerts } from '../test/helpers/certs.js';

/**
 * `npm run bench -- tls`: issue 12's benchmark, in two parts.
 *
 * 1. TLS cost (security area): the AMQP, MQTT and STOMP generators (bench/amqp-load.ts,
 *    bench/mqtt-load.ts, bench/stomp-load.ts) and kcat for Kafka against one broker with its
 *    plain and its TLS listeners, runs
 *    alternating plain/TLS so a busy machine loads both alike. Printed: the TLS figure beside
 *    the plain one (the "peer" column) and their ratio. Target ≥ 0.7×.
 * 2. Management cost (management area, bench/management-cost.ts): the AMQP figure with and
 *    without a scraper on /metrics and /api/queues. Target ≥ 0.95×.
 *
 * `--seconds N` sets each AMQP/STOMP window (default 5; Kafka rows send 60,000 × N records);
 * `--only tls|management` runs one part; `--rows amqp,mqtt,stomp,kafka` some TLS rows.
 */
const amqpScript = fileURLToPath(new URL('./amqp-load.js', import.meta.url));
const mqttScript = fileURLToPath(new URL('./mqtt-load.js', import.meta.url));
const stompScript = fileURLToPath(new URL('./stomp-load.js', import.meta.url));

interface AmqpResult {
  published: number;
  delivered: number;
  seconds: number;
}

async function measureTlsCost(h: Harness, seconds: number, onlyRows?: string[]): Promise<void> {
  const certs = makeTestCerts();
  const broker = await h.startBroker({
    config: {
      listeners: { amqps: { enabled: true }, mqtts: { enabled: true }, stomps: { enabled: true }, kafkas: { enabled: true } },
      tls: { cert: certs.serverCert, key: certs.serverKey },
    },
  });
  const units = { 'msgs/s': 'msgs/s', 'broker cpu': '%', 'client cpu': '%' };
  const rows: { label: string; run(tls: boolean): Promise<{ rate: number; cpu?: number; clientCpu?: number }> }[] = [];
  for (const workload of ['confirms', 'transient'] as Workload[]) {
    rows.push({
      label: `AMQP ${workload} 1 KiB 1 -> 1, TLS (vs plain)`,
      async run(tls) {
        const port = tls ? broker.ports.amqps : broker.ports.amqp;
        const { r, brokerCpu } = await runGenerator<AmqpResult>(h, amqpScript, { port, workload, seconds, warmupSeconds: 1, client: 'raw', tls }, broker.pid);
        return { rate: Math.round(r.delivered / r.seconds), cpu: Math.round(brokerCpu) };
      },
    });
  }
  for (const qos of [0, 1] as const) {
    rows.push({
      label: `MQTT QoS ${qos} 100 B 1 -> 1, TLS (vs plain)`,
      async run(tls) {
        const spec: PubSubSpec & { seconds: number; warmupSeconds: number } = {
          mode: 'pubsub', host: '127.0.0.1', port: tls ? broker.ports.mqtts : broker.ports.mqtt, qos, publishers: 1, subscribers: 1,
          messages: 40_000 * seconds, payloadBytes: 100, persistent: false, window: 1000, topic: `bench/tls/${qos}/${Date.now().toString(36)}`, tls,
          // CPU window of runGenerator (the generator itself runs by message count).
          seconds: 3, warmupSeconds: 0.5,
        };
        const { r } = await runGenerator<PubSubResult>(h, mqttScript, spec as unknown as Record<string, unknown>, broker.pid);
        if (r.delivered < r.expected) h.note(`MQTT QoS ${qos} ${tls ? 'TLS' : 'plain'}: ${r.expected - r.delivered} of ${r.expected} not delivered`);
        // The MQTT generator runs by message count and may finish before runGenerator's CPU window closes: no CPU figure.
        return { rate: Math.round(r.deliveriesPerSecond) };
      },
    });
  }
  rows.push({
    label: 'STOMP 1 KiB 1 -> 1 queue, auto ack, TLS (vs plain)',
    async run(tls) {
      const port = tls ? broker.ports.stomps : broker.ports.stomp;
      const { r, brokerCpu } = await runGenerator<AmqpResult>(h, stompScript, { port, workload: 'queue-auto', seconds, warmupSeconds: 1, tls }, broker.pid);
      return { rate: Math.round(r.delivered / r.seconds), cpu: Math.round(brokerCpu) };
    },
  });
  // Kafka: kcat (librdkafka) as in bench/kafka.ts, a fresh topic per run; SSL without verifying the test certificate.
  const work = mkdtempSync(join(tmpdir(), 'pb-bench-tls-'));
  h.onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const kafkaRecords = 60_000 * seconds;
  const records = recordFile(work, kafkaRecords);
  let kafkaTopic = 0;
  const kcat = (tls: boolean) => [
    '-b', `127.0.0.1:${tls ? broker.ports.kafkas : broker.ports.kafka}`,
    ...(tls ? ['-X', 'security.protocol=ssl', '-X', 'enable.ssl.certificate.verification=false'] : []),
  ];
  const lastTopic = { plain: '', tls: '' };
  rows.push({
    label: 'Kafka produce 1 KiB, kcat acks=1, SSL (vs plain)',
    async run(tls) {
      const topic = `bench-tls-${tls ? 'ssl' : 'plain'}-${++kafkaTopic}`;
      lastTopic[tls ? 'tls' : 'plain'] = topic;
      const cpu = h.meterCpu(broker.pid);
      const t = await timed('kcat', [...kcat(tls), '-P', '-t', topic, '-l', '-X', 'acks=1', '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records]);
      return { rate: Math.round(kafkaRecords / t.seconds), cpu: Math.round(cpu.read()), clientCpu: Math.round(t.cpu) };
    },
  });
  rows.push({
    label: 'Kafka consume 1 KiB from the start, kcat, SSL (vs plain)',
    async run(tls) {
      const cpu = h.meterCpu(broker.pid);
      const t = await timed('kcat', [...kcat(tls), '-C', '-t', lastTopic[tls ? 'tls' : 'plain'], '-o', 'beginning', '-e', '-q', '-X', 'fetch.max.bytes=52428800']);
      return { rate: Math.round(kafkaRecords / t.seconds), cpu: Math.round(cpu.read()), clientCpu: Math.round(t.cpu) };
    },
  });
  const selected = rows.filter((row) => onlyRows === undefined || onlyRows.some((word) => row.label.toLowerCase().startsWith(word)));
  for (const row of selected) {
    const samples = { tls: { rate: [] as number[], cpu: [] as number[], clientCpu: [] as number[] }, plain: { rate: [] as number[], cpu: [] as number[], clientCpu: [] as number[] } };
    for (let run = 1; run <= h.runs; run++) {
      for (const tls of [false, true]) {
        await waitForIdle([broker.pid]);
        h.progress(`${row.label} · run ${run}/${h.runs} · ${tls ? 'TLS' : 'plain'}`);
        const r = await row.run(tls);
        const into = tls ? samples.tls : samples.plain;
        into.rate.push(r.rate);
        if (r.cpu !== undefined) into.cpu.push(r.cpu);
        if (r.clientCpu !== undefined) into.clientCpu.push(r.clientCpu);
      }
    }
    h.record(row.label, 'msgs/s', samples.tls.rate, { subject: 'polybroker', units });
    h.record(row.label, 'msgs/s', samples.plain.rate, { subject: 'plain', units });
    if (samples.tls.cpu.length > 0) {
      h.record(row.label, 'broker cpu', samples.tls.cpu, { subject: 'polybroker', units });
      h.record(row.label, 'broker cpu', samples.plain.cpu, { subject: 'plain', units });
    }
    if (samples.tls.clientCpu.length > 0) {
      h.record(row.label, 'client cpu', samples.tls.clientCpu, { subject: 'polybroker', units });
      h.record(row.label, 'client cpu', samples.plain.clientCpu, { subject: 'plain', units });
    }
  }
  h.note('TLS cost: ratio = TLS / plain on the same broker (target ≥ 0.7); runs alternate plain/TLS; TLS 1.3, RSA 2048 test certificate, generators do not verify it. Kafka rows: kcat (librdkafka) of ' + kafkaRecords + ' records of 1 KiB (client cpu = kcat), the consume row reads the topic its produce row just wrote.');
  h.note(`load average at end of the TLS part: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  await broker.stop();
}

export async function run(h: Harness): Promise<void> {
  const secondsArg = h.args.indexOf('--seconds');
  const seconds = secondsArg >= 0 ? Number(h.args[secondsArg + 1]) : 5;
  const onlyArg = h.args.indexOf('--only');
  const only = onlyArg >= 0 ? h.args[onlyArg + 1] : undefined;
  // `--rows amqp,stomp`: the TLS rows whose label starts with one of the words (all by default).
  const rowsArg = h.args.indexOf('--rows');
  const onlyRows = rowsArg >= 0 ? h.args[rowsArg + 1]!.toLowerCase().split(',') : undefined;
  h.note(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (only !== 'management') await measureTlsCost(h, seconds, onlyRows);
  // Part 2 (management area): bench/management-cost.ts.
  if (only !== 'tls') await measureManagementCost(h, { seconds });
}

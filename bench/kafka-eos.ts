import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figures, Harness } from './harness.js';
import { RECORD_BYTES, recordFile, timed } from './kafka-tools.js';
import { encodeRecordBatch } from '../storage/record-batch.js';
import { createTopics, initProducerId, produce } from '../protocols/kafka/schema/apis.js';
import type { ApiDef } from '../protocols/kafka/schema/types.js';
import { RawKafkaClient } from '../test/protocols/kafka/helpers/raw-client.js';
import { describeProbe, probeKcat, requestRtts } from './kafka-eos-probe.js';

/**
 * `npm run bench -- kafka-eos [--messages N] [--txn-messages N] [--probe]`: issue 9's benchmark.
 * `--only kcat,raw,txn,compaction` runs only those sections (default: all).
 * `--probe` only runs each kcat producer once with librdkafka's protocol debug log and notes its
 * request sizes, requests in flight and round-trip times.
 *
 * - Idempotent producer throughput as a ratio to the plain producer in the same run: kcat
 *   (librdkafka 2.0.2) producing 1 KiB records with acks=all, `enable.idempotence=false` and
 *   `=true` (the broker checks sequences and keeps producer state on every batch).
 * - Transactional throughput, 100 records per transaction: python3-confluent-kafka (the same
 *   librdkafka) beginning, producing and committing; beside it the same script as a plain
 *   idempotent producer, so the ratio isolates the cost of transactions (AddPartitionsToTxn,
 *   EndTxn, the markers and the durable coordinator state per transaction).
 * - The broker's own cost of idempotence, without librdkafka's: a raw Kafka client (the tests'
 *   RawKafkaClient) producing 1 MB batches with acks=all, with and without a producer id, with 1
 *   request in flight (librdkafka's idempotent behaviour) and 5 (the Java client's idempotent limit).
 * - Compaction while producers keep appending: kcat produces keyed 1 KiB records (1,000 keys) to
 *   a cleanup.policy=compact topic on a broker with 8 MiB segments; the compaction rate is the
 *   bytes the compactor read per second of its passes (from the broker's "stream partition
 *   compacted" log lines during the run), beside the producer's rate on a plain topic.
 */


function python(args: string[], debug?: (stderr: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', debug ? [...args, 'debug'] : args, { timeout: 600_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python3 ${args.join(' ')}: ${err.message}\n${stderr}`));
      debug?.(stderr);
      resolve(Number(stdout.trim().split('\n').pop()));
    });
  });
}


export async function run(h: Harness): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = h.args.indexOf(name);
    return i >= 0 ? h.args[i + 1] : undefined;
  };
  const n = Number(arg('--messages') ?? 200_000);
  const only = arg('--only')?.split(',');
  const section = (name: string) => only === undefined || only.includes(name);
  const txnN = Number(arg('--txn-messages') ?? 10_000);
  const work = mkdtempSync(join(tmpdir(), 'pb-bench-kafka-eos-'));
  h.onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const records = recordFile(work, n);
  const txnRecords = recordFile(work, txnN);
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  h.note(`load average at start: ${load()} (2 cores, shared: figures are only comparable within one run)`);
  h.onCleanup(() => h.note(`load average at end: ${load()}`));
  const broker = await h.startBroker();
  const bootstrap = `127.0.0.1:${broker.ports.kafka}`;
  const units = { 'msgs/s': 'msgs/s', 'MB/s': 'MB/s', 'client cpu': '%', 'broker cpu': '%' };

  let seq = 0;
  const PLAIN = 'produce 1 KiB, kcat, acks=all, enable.idempotence=false';
  const PLAIN_ONE = 'produce 1 KiB, kcat, acks=all, enable.idempotence=false, max.in.flight=1';
  const IDEMPOTENT = 'produce 1 KiB, kcat, acks=all, enable.idempotence=true';
  const kcat = async (idempotent: boolean, inFlight?: number) => {
    const cpu = h.meterCpu(broker.pid);
    const topic = `eos-${idempotent ? 'idem' : 'plain'}-${++seq}`;
    const extra = inFlight ? ['-X', `max.in.flight=${inFlight}`] : [];
    const t = await timed('kcat', [
      '-b', bootstrap, '-P', '-t', topic, '-l', '-X', 'acks=all', '-X', `enable.idempotence=${idempotent}`, ...extra,
      '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records,
    ]);
    return { 'msgs/s': n / t.seconds, 'MB/s': (n * RECORD_BYTES) / 1e6 / t.seconds, 'client cpu': t.cpu, 'broker cpu': cpu.read() };
  };
  if (h.args.includes('--probe')) {
    const script = join(import.meta.dirname, '..', '..', 'bench', 'kafka-eos-txn.py');
    let log = '';
    const seconds = await python([script, bootstrap, `eos-probe-txn-${++seq}`, txnRecords, '100'], (stderr) => (log = stderr));
    h.record('transactions of 100 records, confluent-kafka, -d protocol', 'msgs/s', [txnN / seconds], { units: 'msgs/s' });
    for (const [api, r] of requestRtts(log)) h.note(`transactions of 100: ${api} x${r.count}, mean rtt ${r.meanMs.toFixed(2)} ms`);
    for (const idempotent of [false, true]) {
      const topic = `eos-probe-${idempotent ? 'idem' : 'plain'}-${++seq}`;
      const p = await probeKcat([
        '-b', bootstrap, '-P', '-t', topic, '-l', '-X', 'acks=all', '-X', `enable.idempotence=${idempotent}`,
        '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records,
      ]);
      const name = `${idempotent ? IDEMPOTENT : PLAIN}, -d protocol`;
      h.note(describeProbe(name, p, n));
      h.record(name, 'msgs/s', [n / p.seconds], { units: 'msgs/s' });
      h.record(name, 'KiB per request', [p.meanBytes / 1024], { units: 'KiB' });
      h.record(name, 'rtt median', [p.p50RttMs], { units: 'ms' });
      h.record(name, 'in flight max', [p.maxInFlight]);
    }
    return;
  }
  // librdkafka 2.0 keeps one produce request per partition in flight when idempotent (seen with
  // debug=protocol), the plain producer up to 1,000,000: the second reference has the same pipelining.
  if (section('kcat')) await alternate(h, [[PLAIN, () => kcat(false), {}], [PLAIN_ONE, () => kcat(false, 1), {}], [IDEMPOTENT, () => kcat(true), { reference: PLAIN }]], units);
  const idem = h.results.find((r) => r.workload === IDEMPOTENT && r.figure === 'msgs/s');
  const one = h.results.find((r) => r.workload === PLAIN_ONE && r.figure === 'msgs/s');
  if (idem && one) h.note(`idempotent / plain with max.in.flight=1 (same pipelining): ${(idem.median / one.median).toFixed(2)}×`);

  // The same comparison from a client whose only difference between the two is the producer id.
  const raw = await RawKafkaClient.connect(broker.ports.kafka);
  h.onCleanup(() => raw.end());
  const rawCall = async (api: ApiDef, version: number, body: Record<string, unknown>) => {
    raw.write(raw.request(api, version, body).bytes);
    return (await raw.response(api, version)).body;
  };
  const RAW_BATCHES = Math.max(10, Math.round((n * RECORD_BYTES) / 1e6 / 2));
  const value = Buffer.alloc(RECORD_BYTES - 24, 'x');
  const rawProduce = async (idempotent: boolean, inFlight: number) => {
    const topic = `eos-raw-${idempotent ? 'idem' : 'plain'}-${++seq}`;
    await rawCall(createTopics, 4, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    const producerId = idempotent ? Number((await rawCall(initProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000 })).producerId) : -1;
    const perBatch = Math.floor(1e6 / RECORD_BYTES);
    const batches = Array.from({ length: RAW_BATCHES }, (_, i) =>
      encodeRecordBatch({
        records: Array.from({ length: perBatch }, () => ({ value })),
        producerId,
        producerEpoch: idempotent ? 0 : -1,
        baseSequence: idempotent ? i * perBatch : -1,
      }),
    );
    const cpu = h.meterCpu(broker.pid);
    const started = performance.now();
    let sent = 0;
    let answered = 0;
    const send = () => {
      const records = batches[sent++]!;
      raw.write(raw.request(produce, 7, { transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] }).bytes);
    };
    while (sent < Math.min(inFlight, batches.length)) send();
    while (answered < batches.length) {
      const r = (await raw.response(produce, 7)).body;
      answered++;
      if (r.responses[0].partitionResponses[0].errorCode !== 0) throw new Error(`raw produce failed: ${r.responses[0].partitionResponses[0].errorCode}`);
      if (sent < batches.length) send();
    }
    const seconds = (performance.now() - started) / 1000;
    const msgs = RAW_BATCHES * perBatch;
    return { 'msgs/s': msgs / seconds, 'MB/s': (msgs * RECORD_BYTES) / 1e6 / seconds, 'broker cpu': cpu.read() };
  };
  const RAW_PLAIN_1 = 'produce 1 MB batches, raw client, acks=all, no producer id, 1 in flight';
  const RAW_IDEM_1 = 'produce 1 MB batches, raw client, acks=all, idempotent, 1 in flight';
  const RAW_PLAIN_5 = 'produce 1 MB batches, raw client, acks=all, no producer id, 5 in flight';
  const RAW_IDEM_5 = 'produce 1 MB batches, raw client, acks=all, idempotent, 5 in flight';
  if (section('raw')) await alternate(
    h,
    [
      [RAW_PLAIN_1, () => rawProduce(false, 1), {}],
      [RAW_IDEM_1, () => rawProduce(true, 1), { reference: RAW_PLAIN_1 }],
      [RAW_PLAIN_5, () => rawProduce(false, 5), {}],
      [RAW_IDEM_5, () => rawProduce(true, 5), { reference: RAW_PLAIN_5 }],
    ],
    units,
  );

  const script = join(import.meta.dirname, '..', '..', 'bench', 'kafka-eos-txn.py');
  const py = async (perTxn: number) => {
    const cpu = h.meterCpu(broker.pid);
    const seconds = await python([script, bootstrap, `eos-py-${perTxn}-${++seq}`, txnRecords, String(perTxn)]);
    return { 'msgs/s': txnN / seconds, 'MB/s': (txnN * RECORD_BYTES) / 1e6 / seconds, 'broker cpu': cpu.read() };
  };
  const PY_IDEMPOTENT = 'produce 1 KiB, confluent-kafka (python), idempotent, no transactions';
  const PY_TXN = 'produce 1 KiB, confluent-kafka (python), transactions of 100 records';
  if (section('txn')) await alternate(h, [[PY_IDEMPOTENT, () => py(0), {}], [PY_TXN, () => py(100), { reference: PY_IDEMPOTENT }]], units);

  if (!section('compaction')) return;
  // Compaction while producing: a broker with small segments, so that segments seal and get compacted.
  const cb = await h.startBroker({ config: { storage: { segmentBytes: 8 * 1024 * 1024 } } });
  const cBootstrap = `127.0.0.1:${cb.ports.kafka}`;
  const keyed = keyedRecordFile(work, n, 1000);
  const admin = new Kafka({ brokers: [cBootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  h.onCleanup(() => admin.disconnect());
  const PLAIN_KEYED = 'produce 1 KiB keyed, kcat, acks=all, plain topic';
  const COMPACTING = 'produce 1 KiB keyed, kcat, acks=all, cleanup.policy=compact (compacting meanwhile)';
  const produceKeyed = async (compact: boolean) => {
    const topic = `eos-${compact ? 'compact' : 'keyed'}-${++seq}`;
    const configEntries = compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [];
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries }] });
    const before = cb.output().length;
    const t = await timed('kcat', ['-b', cBootstrap, '-P', '-t', topic, '-K', ':', '-l', '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', keyed]);
    const figures: Record<string, number> = { 'msgs/s': n / t.seconds, 'MB/s': (n * RECORD_BYTES) / 1e6 / t.seconds };
    if (compact) {
      let read = 0;
      let ms = 0;
      for (const line of cb.output().slice(before).split('\n')) {
        if (!line.includes('stream partition compacted')) continue;
        const r = JSON.parse(line.slice(line.indexOf('{'))) as { bytesRead: number; durationMs: number };
        read += r.bytesRead;
        ms += r.durationMs;
      }
      if (ms > 0) figures['compaction MB/s'] = read / 1e6 / (ms / 1000);
      figures['compacted MB'] = read / 1e6;
    }
    return figures;
  };
  await alternate(h, [[PLAIN_KEYED, () => produceKeyed(false), {}], [COMPACTING, () => produceKeyed(true), { reference: PLAIN_KEYED }]], {
    ...units,
    'compaction MB/s': 'MB/s',
    'compacted MB': 'MB',
  });
}

/** n records `k<i mod keys>:<value>` of RECORD_BYTES per line, for kcat -K ':'. */
function keyedRecordFile(dir: string, n: number, keys: number): string {
  const file = join(dir, `keyed-${n}.txt`);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${i % keys}:`;
    lines.push(key + `v${i}-`.padEnd(RECORD_BYTES - 1 - key.length, 'x'));
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

type Workload = [name: string, fn: () => Promise<Figures>, options: { reference?: string }];

/**
 * Runs workloads in turn (a, b, c, a, b, c ...) so that load changes on the shared machine
 * hit both alike, then records each one's samples (the ratio is taken between medians).
 */
async function alternate(h: Harness, workloads: Workload[], units: Record<string, string>): Promise<void> {
  const samples = new Map<string, Map<string, number[]>>();
  for (let run = 1; run <= h.runs; run++) {
    for (const [name, fn] of workloads) {
      h.progress(`${name} · run ${run}/${h.runs}`);
      const figures = await fn();
      if (!samples.has(name)) samples.set(name, new Map());
      for (const [figure, value] of Object.entries(figures)) {
        if (value === undefined) continue;
        const list = samples.get(name)!.get(figure) ?? [];
        list.push(value);
        samples.get(name)!.set(figure, list);
      }
    }
  }
  for (const [name, , options] of workloads) {
    for (const [figure, values] of samples.get(name)!) h.record(name, figure, values, { units, ...options });
  }
}

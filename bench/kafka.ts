import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Harness } from './harness.js';
import { RECORD_BYTES, recordFile, timed } from './kafka-tools.js';
import { RabbitStreamClient } from './kafka-rabbit-stream.js';
import { startDiscardingSink } from './kafka-sink.js';

/**
 * `npm run bench -- kafka [--messages N] [--raw-mb N]`: issue 8's Kafka benchmark.
 *
 * - Raw sequential write bandwidth of the data dir's filesystem, in the same run: 512 MiB in
 *   1 MiB writes, then one fsync, in a file beside the broker's data dir (what a log append can
 *   at best sustain: acks=all is answered after the write, and after the fsync in `sync` mode).
 *   On this VM it swings by 2x between runs (first-touch cost of page-cache memory), so it is
 *   measured every run and its median used.
 * - The generator's ceiling: kcat into a discarding sink (bench/kafka-sink.ts, no broker), to
 *   show what the load generator can send on this machine at all.
 * - Producer throughput with librdkafka (kcat 1.7 / librdkafka 2.0.2, C, reading 1 KiB records
 *   from a file): acks=1 and acks=all, uncompressed and lz4. The generator's CPU is printed to
 *   show whether it is the bottleneck.
 * - Consumer throughput: kcat reading the topic from the beginning to its end.
 * - The same loads against RabbitMQ streams (../shared/peers, stream plugin): publish with
 *   confirms, and a consumer from the first offset, over a minimal stream-protocol client
 *   (bench/kafka-rabbit-stream.ts; rabbitmq-stream-js-client cannot talk to RabbitMQ 3.10).
 *
 * Records are 1 KiB of base64 text (random, so lz4 gains ~25 %, like typical JSON payloads).
 */


function rawWriteMBps(dir: string, megabytes: number): number {
  const file = join(dir, 'raw-write.bin');
  const chunk = randomBytes(1 << 20);
  const fd = openSync(file, 'w');
  const t0 = performance.now();
  for (let i = 0; i < megabytes; i++) writeSync(fd, chunk);
  fsyncSync(fd);
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  rmSync(file);
  return (megabytes * 1.048576) / seconds;
}


export async function run(h: Harness): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = h.args.indexOf(name);
    return i >= 0 ? h.args[i + 1] : undefined;
  };
  const n = Number(arg('--messages') ?? 200_000);
  const rawMb = Number(arg('--raw-mb') ?? 512);
  const work = mkdtempSync(join(tmpdir(), 'pb-bench-kafka-'));
  h.onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const records = recordFile(work, n);
  const mb = (n * RECORD_BYTES) / 1e6;

  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  h.note(`load average at start: ${load()} (2 cores, shared with other work: figures are only comparable within one run)`);
  h.onCleanup(() => h.note(`load average at end: ${load()}`));
  const broker = await h.startBroker();
  const bootstrap = `127.0.0.1:${broker.ports.kafka}`;
  const rawDir = dirname(broker.dataDir);
  h.note(`polybroker data dir ${broker.dataDir}; raw write measured in ${rawDir} (the same filesystem)`);

  const RAW = 'raw sequential write, 1 MiB writes + fsync';
  await h.measure(RAW, async () => ({ 'MB/s': rawWriteMBps(rawDir, rawMb) }), { units: 'MB/s' });

  const kcatProduce = (port: number, topic: string, acks: string, codec: string) =>
    timed('kcat', ['-b', `127.0.0.1:${port}`, '-P', '-t', topic, '-l', '-X', `acks=${acks}`, '-z', codec, '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records]);
  await h.measure(
    'generator ceiling: kcat into a discarding sink (no broker), acks=1, none',
    async () => {
      const sink = await startDiscardingSink();
      try {
        const t = await kcatProduce(sink.port, 'ceiling', '1', 'none');
        return { 'msgs/s': n / t.seconds, 'MB/s': mb / t.seconds, 'kcat cpu': t.cpu };
      } finally {
        sink.close();
      }
    },
    { units: { 'msgs/s': 'msgs/s', 'MB/s': 'MB/s', 'kcat cpu': '%' }, reference: RAW, warmupRuns: 0 },
  );

  let topicSeq = 0;
  const produceOnce = async (acks: string, codec: string, topic: string) => {
    const cpu = h.meterCpu(broker.pid);
    const t = await kcatProduce(broker.ports.kafka!, topic, acks, codec);
    return { 'msgs/s': n / t.seconds, 'MB/s': mb / t.seconds, 'kcat cpu': t.cpu, 'broker cpu': cpu.read() };
  };

  let lastTopic = '';
  for (const acks of ['1', 'all']) {
    for (const codec of ['none', 'lz4']) {
      await h.measure(
        `produce 1 KiB, kcat (librdkafka), acks=${acks}, ${codec}`,
        async () => {
          const topic = `bench-${acks}-${codec}-${++topicSeq}`;
          if (acks === 'all' && codec === 'none') lastTopic = topic;
          return produceOnce(acks, codec, topic);
        },
        { units: { 'msgs/s': 'msgs/s', 'MB/s': 'MB/s', 'kcat cpu': '%', 'broker cpu': '%' }, reference: RAW, warmupRuns: 0 },
      );
    }
  }

  await h.measure(
    'consume 1 KiB from the start, kcat (librdkafka)',
    async () => {
      const cpu = h.meterCpu(broker.pid);
      const t = await timed('kcat', ['-b', bootstrap, '-C', '-t', lastTopic, '-o', 'beginning', '-e', '-q', '-X', 'fetch.max.bytes=52428800']);
      return { 'msgs/s': n / t.seconds, 'MB/s': mb / t.seconds, 'kcat cpu': t.cpu, 'broker cpu': cpu.read() };
    },
    { units: { 'msgs/s': 'msgs/s', 'MB/s': 'MB/s', 'kcat cpu': '%', 'broker cpu': '%' }, reference: RAW },
  );

  // The nearest log-based peer: RabbitMQ streams.
  try {
    await comparePeer(h, n, bootstrap, broker.pid);
  } catch (e) {
    h.note(`RabbitMQ stream comparison failed: ${(e as Error).message}`);
  }
}

async function comparePeer(h: Harness, n: number, bootstrap: string, brokerPid: number): Promise<void> {
  let rabbit;
  try {
    rabbit = await h.startPeer('rabbitmq');
  } catch (e) {
    h.note(`RabbitMQ peer unavailable: ${(e as Error).message}`);
    return;
  }
  const payload = randomBytes((RECORD_BYTES * 3) / 4).toString('base64').slice(0, RECORD_BYTES);
  const body = Buffer.from(payload);
  let seq = 0;
  // RabbitMQ confirms a stream publish once it is written (and replicated), not fsynced: the
  // same promise as Kafka's acks=1 on one node. acks=all here also waits for the fsync.
  const PUBLISH = 'log append 1 KiB, acknowledged (polybroker: kcat acks=1; RabbitMQ stream: confirms)';
  const PUBLISH_SYNC = 'log append 1 KiB, fsynced ack (polybroker: kcat acks=all) vs RabbitMQ confirms (not fsynced)';
  const READ = 'log read 1 KiB from the first offset (polybroker: kcat; RabbitMQ stream)';
  const streams: string[] = [];
  await h.measure(
    PUBLISH,
    async () => {
      const client = await RabbitStreamClient.open(rabbit.ports.stream!, 'guest', 'guest');
      const stream = `bench-rabbit-${Date.now()}-${++seq}`;
      streams.push(stream);
      await client.createStream(stream);
      await client.declarePublisher(stream);
      let confirmed = 0;
      let wake: (() => void) | null = null;
      client.onConfirm = (count) => {
        confirmed += count;
        wake?.();
      };
      const t0 = performance.now();
      // Batches of 100, at most 10,000 unconfirmed (librdkafka's producer is not limited).
      for (let sent = 0; sent < n; sent += 100) {
        while (sent - confirmed > 10_000) await new Promise<void>((r) => (wake = r));
        client.publish(sent, Math.min(100, n - sent), body);
      }
      while (confirmed < n) await new Promise<void>((r) => (wake = r));
      const seconds = (performance.now() - t0) / 1000;
      client.close();
      return { 'msgs/s': n / seconds };
    },
    { subject: 'rabbitmq', units: 'msgs/s', warmupRuns: 0 },
  );
  await h.measure(
    READ,
    async () => {
      const client = await RabbitStreamClient.open(rabbit.ports.stream!, 'guest', 'guest');
      let got = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        client.onChunk = (records) => {
          got += records;
          if (got >= n) resolve();
        };
        void client.subscribeFirst(streams[streams.length - 1]!, 10);
      });
      const seconds = (performance.now() - t0) / 1000;
      client.close();
      return { 'msgs/s': n / seconds };
    },
    { subject: 'rabbitmq', units: 'msgs/s', warmupRuns: 0 },
  );
  // Our side of the same two loads, measured above with kcat; recorded again under the shared names.
  const ours = h.results;
  const pick = (workload: string) => ours.find((r) => r.workload === workload && r.figure === 'msgs/s' && r.subject === 'polybroker');
  const p = pick('produce 1 KiB, kcat (librdkafka), acks=1, none');
  const ps = pick('produce 1 KiB, kcat (librdkafka), acks=all, none');
  const c = pick('consume 1 KiB from the start, kcat (librdkafka)');
  const rp = ours.find((r) => r.workload === PUBLISH && r.subject === 'rabbitmq');
  if (p) h.record(PUBLISH, 'msgs/s', p.samples, { units: 'msgs/s' });
  if (ps && rp) {
    h.record(PUBLISH_SYNC, 'msgs/s', rp.samples, { units: 'msgs/s', subject: 'rabbitmq' });
    h.record(PUBLISH_SYNC, 'msgs/s', ps.samples, { units: 'msgs/s' });
  }
  if (c) h.record(READ, 'msgs/s', c.samples, { units: 'msgs/s' });
  void bootstrap;
  void brokerPid;
}

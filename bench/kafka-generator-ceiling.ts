import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECORD_BYTES, recordFile, timed } from './kafka-tools.js';
import { startDiscardingSink } from './kafka-sink.js';

/**
 * `node dist/bench/kafka-generator-ceiling.js [--messages N] [--procs 1,2] [--runs N]`: how fast
 * the benchmark's load generator (kcat / librdkafka, and python3-confluent-kafka) can produce
 * 1 KiB records on this machine when the broker is not the limit: one or several generator
 * processes into the discarding sink of bench/kafka-sink.ts. It bounds what
 * `npm run bench -- kafka` can show on this 2-core machine, where the generator and the broker
 * share the CPUs. The sink runs in this process; its CPU is printed beside the generators'.
 */
const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const n = Number(arg('--messages', '200000'));
const procs = arg('--procs', '1,2').split(',').map(Number);
const runs = Number(arg('--runs', '3'));

const PYTHON_PRODUCER = `
import sys, time
from confluent_kafka import Producer
bootstrap, topic, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = open(path, 'rb').read()
size = ${RECORD_BYTES}
p = Producer({'bootstrap.servers': bootstrap, 'acks': '1', 'linger.ms': 5, 'queue.buffering.max.kbytes': 1048576,
              'queue.buffering.max.messages': 10000000, 'batch.num.messages': 1000000})
for i in range(n):
    p.produce(topic, data[i * size:(i + 1) * size - 1])
    if i % 100000 == 0:
        p.poll(0)
p.flush()
`;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pb-kafka-ceiling-'));
  const records = recordFile(work, n);
  const script = join(work, 'produce.py');
  writeFileSync(script, PYTHON_PRODUCER);
  const sink = await startDiscardingSink();
  const bootstrap = `127.0.0.1:${sink.port}`;
  const mb = (n * RECORD_BYTES) / 1e6;
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${n} records of ${RECORD_BYTES} B (${mb.toFixed(0)} MB) per generator process`);
  let seq = 0;
  try {
    const generators: [string, (topic: string) => [string, string[]]][] = [
      ['kcat -P (librdkafka 2.0.2), acks=1, linger.ms=5', (topic) => ['kcat', ['-b', bootstrap, '-P', '-t', topic, '-l', '-X', 'acks=1', '-z', 'none', '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records]]],
      ['python3-confluent-kafka 1.7 (librdkafka 2.0.2), acks=1, linger.ms=5', (topic) => ['/usr/bin/python3', [script, bootstrap, topic, String(n), records]]],
    ];
    for (const [label, command] of generators) {
      for (const p of procs) {
        for (let r = 0; r < runs; r++) {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const results = await Promise.all(Array.from({ length: p }, () => timed(...command(`ceiling-${++seq}`))));
          const seconds = (performance.now() - t0) / 1000;
          const used = process.cpuUsage(cpu0);
          const genCpu = results.reduce((a, t) => a + (t.cpu * t.seconds) / 100, 0);
          console.log(
            `${label}, ${p} process(es), run ${r + 1}: ${Math.round((p * n) / seconds)} msgs/s, ${((p * mb) / seconds).toFixed(0)} MB/s; ` +
              `generator CPU ${((genCpu / seconds) * 100).toFixed(0)} % of a core (${((genCpu * 1000) / (p * mb)).toFixed(2)} ms/MB), ` +
              `sink CPU ${(((used.user + used.system) / 1e6 / seconds) * 100).toFixed(0)} % (${((used.user + used.system) / 1e3 / (p * mb)).toFixed(2)} ms/MB)`,
          );
        }
      }
    }
  } finally {
    sink.close();
    rmSync(work, { recursive: true, force: true });
    console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
}

await main();

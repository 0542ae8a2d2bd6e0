/**
 * Compacted topics (issue 9) with stock clients: kafkajs creates a topic with
 * cleanup.policy=compact (and another switched to compact,delete by AlterConfigs) and writes
 * many updates per key plus tombstones; the broker's background compactor runs on its sweep
 * timer; kcat (librdkafka) then reads the topic from the start and must see the latest value of
 * every key at its original offset, each key once in the compacted section, with the offsets
 * of removed records skipped (sparse offsets), and tombstones gone after delete.retention.ms=0.
 * The broker runs with 64 KiB segments so the updates fill many sealed segments.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';

let broker: KafkaBroker;
let kafka: Kafka;
let producer: Producer;

beforeAll(async () => {
  broker = await startKafkaBroker({}, { storage: { segmentBytes: 64 * 1024 } });
  kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'compaction-interop', logLevel: logLevel.NOTHING });
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await broker?.stop();
});

function kcat(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kcat', ['-b', broker.bootstrap, ...args], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

interface Line {
  offset: number;
  key: string;
  value: string;
}

async function readFromStart(topic: string): Promise<Line[]> {
  // -Z: a null value prints as NULL; the separator cannot occur in keys or values.
  const out = await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-Z', '-f', '%o|%k|%s\n']);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, key, value] = l.split('|') as [string, string, string];
      return { offset: Number(offset), key, value };
    });
}

/** Reads until `done` holds (the compactor runs in the background on the broker's sweep timer). */
async function readUntil(topic: string, done: (lines: Line[]) => boolean): Promise<Line[]> {
  for (;;) {
    const lines = await readFromStart(topic);
    if (done(lines)) return lines;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Writes `rounds` updates of each of `keys` keys; returns the latest value and offset per key. */
async function writeUpdates(topic: string, keys: number, rounds: number, tombstoneKeys: number[] = []): Promise<{ latest: Map<string, { value: string | null; offset: number }>; total: number }> {
  const latest = new Map<string, { value: string | null; offset: number }>();
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const messages = Array.from({ length: keys }, (_, k) => ({ key: `key-${k}`, value: `r${r}-k${k}-`.padEnd(300, 'x') }));
    const [res] = await producer.send({ topic, acks: -1, messages });
    messages.forEach((m, i) => latest.set(m.key, { value: m.value, offset: Number(res!.baseOffset) + i }));
    total += keys;
  }
  for (const k of tombstoneKeys) {
    const [res] = await producer.send({ topic, acks: -1, messages: [{ key: `key-${k}`, value: null }] });
    latest.set(`key-${k}`, { value: null, offset: Number(res!.baseOffset) });
    total++;
  }
  return { latest, total };
}

describe('compacted topics', () => {
  it('kcat reads the latest value of every key from the start of a topic created with cleanup.policy=compact', async () => {
    const topic = 'compact-created';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.cleanable.dirty.ratio', value: '0.01' }, { name: 'delete.retention.ms', value: '0' }] }],
    });
    await admin.disconnect();
    const { latest, total } = await writeUpdates(topic, 20, 60, [3, 7]);
    // Filler after the updates so that the last updates are in a sealed segment too.
    for (let i = 0; i < 300; i++) await producer.send({ topic, acks: -1, messages: [{ key: `filler-${i}`, value: 'f'.repeat(300) }] });
    const lines = await readUntil(topic, (ls) => !ls.some((l) => l.key === 'key-0' && l.value.startsWith('r0-')) && !ls.some((l) => l.key === 'key-3'));
    expect(lines.length).toBeLessThan(total);
    // Offsets only grow, and are the records' original offsets (sparse after compaction).
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.offset).toBeGreaterThan(lines[i - 1]!.offset);
    const seen = new Map<string, Line>();
    for (const l of lines) if (l.key.startsWith('key-')) seen.set(l.key, l);
    for (const [key, want] of latest) {
      if (want.value === null) {
        // Tombstones with delete.retention.ms=0 are removed along with every earlier value.
        expect(seen.has(key)).toBe(false);
        continue;
      }
      expect(seen.get(key)).toEqual({ offset: want.offset, key, value: want.value });
    }
    // Every key once in the compacted part.
    const keyLines = lines.filter((l) => l.key.startsWith('key-'));
    expect(new Set(keyLines.map((l) => l.key)).size).toBe(keyLines.length);
    expect(keyLines).toHaveLength(18);
  });

  it('AlterConfigs turns an existing topic to cleanup.policy=compact,delete and the compactor picks it up', async () => {
    const topic = 'compact-altered';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const { latest, total } = await writeUpdates(topic, 10, 80);
    for (let i = 0; i < 300; i++) await producer.send({ topic, acks: -1, messages: [{ key: `filler-${i}`, value: 'f'.repeat(300) }] });
    // Not compacted yet: every record is there.
    expect((await readFromStart(topic)).length).toBe(total + 300);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: topic, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'min.cleanable.dirty.ratio', value: '0.01' }] }],
    });
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }] });
    expect(described.resources[0]!.configEntries[0]!.configValue).toBe('compact,delete');
    await admin.disconnect();
    const lines = await readUntil(topic, (ls) => ls.filter((l) => l.key.startsWith('key-')).length === 10);
    expect(lines.length).toBeLessThan(total);
    const seen = new Map<string, Line>();
    for (const l of lines) seen.set(l.key, l);
    for (const [key, want] of latest) expect(seen.get(key)).toEqual({ offset: want.offset, key, value: want.value });
  });

  it('refuses a record without a key on a compacted topic: kafkajs gets INVALID_RECORD, kcat a delivery failure', async () => {
    const topic = 'compacted-keyless';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await admin.disconnect();
    await expect(producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'ok' }, { value: 'no key' }] })).rejects.toMatchObject({ type: 'INVALID_RECORD' });
    const out = await new Promise<string>((resolve) => {
      const child = execFile('kcat', ['-b', broker.bootstrap, '-P', '-t', topic, '-X', 'acks=all', '-X', 'message.send.max.retries=0'], { timeout: 30_000 }, (err, _stdout, stderr) =>
        resolve(`${err ? 'exit ' + String(err.code) : 'exit 0'}\n${stderr}`),
      );
      child.stdin!.end('keyless value\n');
    });
    // librdkafka's text for INVALID_RECORD (87).
    expect(out).toMatch(/^exit 1\n% Delivery failed for message: Broker: Broker failed to validate record/);
    // Nothing of the refused batches was stored; a keyed record is taken.
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
    expect(await readFromStart(topic)).toEqual([{ offset: 0, key: 'k', value: 'v' }]);
  });
});

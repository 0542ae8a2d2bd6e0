/**
 * Captures golden request bytes from stock clients: runs a TCP proxy in front of an in-process
 * Kafka listener, lets a client talk through it, and saves the first request frame of every
 * (API key, version) to test/fixtures/kafka/<client>/<Api>-v<N>.bin with the decoded request
 * beside it (.json, Buffers as hex). Run by hand when a client or schema changes:
 *
 *   node --import tsx test/protocols/kafka/helpers/capture-fixtures.ts
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { FrameSplitter } from '../../../../protocols/kafka/codec/frame-splitter.js';
import { readHeaderRest, readHeaderStart } from '../../../../protocols/kafka/codec/frame.js';
import { Reader } from '../../../../protocols/kafka/codec/reader.js';
import { decode, isFlexible } from '../../../../protocols/kafka/codec/schema-codec.js';
import { handlerTable } from '../../../../protocols/kafka/handlers/index.js';
import { startInProcessKafka } from './in-process-broker.js';

const root = join(import.meta.dirname, '../../../fixtures/kafka');
const handlers = handlerTable();

export function toJson(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

const run = promisify(execFile);
function kcat(args: string[], input = ''): Promise<unknown> {
  const p = run('kcat', args);
  p.child.stdin!.end(input);
  return p;
}

async function capture(client: string, drive: (port: number) => Promise<void>): Promise<void> {
  let brokerPort = 0;
  const seen = new Set<string>();
  const dir = join(root, client);
  mkdirSync(dir, { recursive: true });
  const proxy = createServer((down) => {
    const up = connect(brokerPort, '127.0.0.1');
    const splitter = new FrameSplitter(1 << 30);
    down.on('data', (d) => {
      for (const frame of splitter.push(d)) {
        const r = new Reader(frame);
        const h = readHeaderStart(r);
        const handler = handlers.get(h.apiKey);
        const key = `${handler?.api.name ?? h.apiKey}-v${h.apiVersion}`;
        if (!handler || seen.has(key)) continue;
        seen.add(key);
        readHeaderRest(r, h, isFlexible(handler.api.request, h.apiVersion));
        const body = decode(handler.api.request, h.apiVersion, r);
        writeFileSync(join(dir, `${key}.bin`), frame);
        writeFileSync(join(dir, `${key}.json`), JSON.stringify({ header: h, body: toJson(body.value) }, null, 2) + '\n');
      }
      up.write(d);
    });
    up.on('data', (d) => down.write(d));
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
    down.on('error', () => undefined);
    up.on('error', () => undefined);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as { port: number }).port;
  // Metadata must point clients back at the proxy.
  const b = await startInProcessKafka({ advertisedPort: port });
  brokerPort = b.port;
  await drive(port);
  proxy.close();
  await b.stop();
  process.stdout.write(`${client}: ${[...seen].sort().join(' ')}\n`);
}

await capture('librdkafka-2.0.2', async (port) => {
  const bs = `127.0.0.1:${port}`;
  await kcat(['-b', bs, '-P', '-t', 'golden', '-z', 'lz4', '-K', ':'], 'k1:v1\nk2:v2\n');
  await kcat(['-b', bs, '-C', '-t', 'golden', '-o', 'beginning', '-e', '-q']);
  await kcat(['-b', bs, '-C', '-G', 'golden-g', 'golden', '-e', '-q', '-X', 'enable.auto.commit=true', '-X', 'auto.commit.interval.ms=50']);
  await kcat(['-b', bs, '-L']);
});

await capture('kafkajs-2.2.4', async (port) => {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'golden', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'golden', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic: 'golden', messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }] });
  await p.disconnect();
  const c = kafka.consumer({ groupId: 'golden-g' });
  await c.connect();
  await c.subscribe({ topic: 'golden', fromBeginning: true });
  await new Promise<void>((resolve) => void c.run({ eachMessage: async () => resolve() }));
  await c.disconnect();
  await admin.fetchOffsets({ groupId: 'golden-g', topics: ['golden'] });
  await admin.describeGroups(['golden-g']);
  await admin.disconnect();
});

await capture('platformatic-kafka-1.35.0', async (port) => {
  const { Admin, Consumer, Producer, stringDeserializers, stringSerializers } = await import('@platformatic/kafka');
  const bootstrapBrokers = [`127.0.0.1:${port}`];
  const admin = new Admin({ clientId: 'golden', bootstrapBrokers });
  await admin.createTopics({ topics: ['golden'], partitions: 1, replicas: 1 });
  const producer = new Producer({ clientId: 'golden', bootstrapBrokers, serializers: stringSerializers });
  await producer.send({ messages: [{ topic: 'golden', key: 'k', value: 'v' }] });
  await producer.close();
  const consumer = new Consumer({ groupId: 'golden-g', clientId: 'golden', bootstrapBrokers, deserializers: stringDeserializers });
  const stream = await consumer.consume({ topics: ['golden'], mode: 'earliest' });
  for await (const _ of stream) break;
  await stream.close();
  await consumer.close();
  await admin.listGroups();
  await admin.close();
});

/**
 * Idempotent producers against polybroker: kafkajs 2.2.4 (`idempotent: true`) and
 * python3-confluent-kafka (librdkafka 2.0.2, `enable.idempotence=true`), through a proxy that
 * loses produce responses so the clients retry batches the broker already stored, and across a
 * broker restart between the lost response and the retry (producer state rebuilt from the log).
 * Every record must be stored exactly once, at consecutive offsets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';
import { DropProxy } from './helpers/drop-proxy.js';
import { runPython } from './helpers/python.js';

let broker: KafkaBroker;
let proxy: DropProxy;
let kafka: Kafka;

beforeAll(async () => {
  proxy = new DropProxy(() => broker.port);
  await proxy.listen();
  // The broker advertises the proxy, so every client connection goes through it.
  broker = await startKafkaBroker({ advertisedHost: '127.0.0.1', advertisedPort: proxy.port });
  kafka = new Kafka({ brokers: [`127.0.0.1:${proxy.port}`], clientId: 'eos-interop', logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
});

afterAll(async () => {
  await proxy?.close();
  await broker?.stop();
});

/** Every value of partition 0 of `topic`, in offset order, read by a kafkajs consumer. */
async function readAll(topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const [offsets] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const end = Number(offsets!.high);
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        got[Number(message.offset)] = message.value!.toString();
        if (Number(message.offset) === end - 1) resolve();
      },
    });
  });
  await consumer.disconnect();
  return got;
}

async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
}

describe('kafkajs idempotent producer', () => {
  let producer: Producer;

  it('a lost produce response is retried and the batch is stored once, also when the broker restarts before the retry', async () => {
    await createTopic('idem-kjs');
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = (v: string) => producer.send({ topic: 'idem-kjs', acks: -1, messages: [{ value: `${v}-1` }, { value: `${v}-2` }] });
    const a = await send('a');

    const lost = proxy.dropNextProduceResponse();
    const before = proxy.produceRequests;
    const b = await send('b');
    await lost;
    expect(proxy.produceRequests - before).toBeGreaterThanOrEqual(2);

    // Lost response, then a restart before the client gets through again.
    const lostAgain = proxy.dropNextProduceResponse(true);
    const c = send('c');
    await lostAgain;
    await broker.restart();
    proxy.release();
    const cResult = await c;
    const d = await send('d');
    await producer.disconnect();

    expect([a, b, cResult, d].map((r) => [r[0]!.errorCode, r[0]!.baseOffset])).toEqual([
      [0, '0'],
      [0, '2'],
      [0, '4'],
      [0, '6'],
    ]);
    expect(await readAll('idem-kjs')).toEqual(['a-1', 'a-2', 'b-1', 'b-2', 'c-1', 'c-2', 'd-1', 'd-2']);
  });
});

describe('python3-confluent-kafka idempotent producer', () => {
  it('enable.idempotence=true: lost responses and a restart between them leave every record stored once', async () => {
    await createTopic('idem-ck');
    const first = proxy.dropNextProduceResponse();
    const run1 = runPython('confluent_eos_client.py', [`127.0.0.1:${proxy.port}`, 'idempotent', 'idem-ck', '0', '5']);
    await first;
    const r1 = await run1;
    expect(r1.results).toEqual([0, 1, 2, 3, 4].map((o) => [null, o]));

    const held = proxy.dropNextProduceResponse(true);
    const run2 = runPython('confluent_eos_client.py', [`127.0.0.1:${proxy.port}`, 'idempotent', 'idem-ck', '5', '5']);
    await held;
    await broker.restart();
    proxy.release();
    const r2 = await run2;
    expect(r2.results).toEqual([5, 6, 7, 8, 9].map((o) => [null, o]));

    const read = await runPython('confluent_eos_client.py', [`127.0.0.1:${proxy.port}`, 'read', 'idem-ck', '10', 'read_committed']);
    expect(read.got).toEqual(Array.from({ length: 10 }, (_, i) => [i, `ck-${i}`]));
  });
});

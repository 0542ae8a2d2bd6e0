/**
 * Crash test for transactions: a kafkajs transactional producer commits (and every third time
 * aborts) transactions of 3 records on each of 2 partitions while the broker is SIGKILLed at a
 * random point, three times. After the restarts a read_committed consumer must see every
 * transaction whose commit was acknowledged exactly once, no record of an aborted one, and each
 * transaction interrupted by the kill either whole or not at all. A durable AMQP queue bound to
 * the topic through `amq.topic` must hold the same: committed transactions' records (routed at
 * commit, and again after a restart that interrupted a commit before it was recorded complete),
 * never an aborted one's, each interrupted one whole or not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafkaBroker();
});

afterAll(async () => {
  await broker?.stop();
});

const TOPIC = 'txn-crash';
const client = (retries: number) => new Kafka({ brokers: [broker.bootstrap], clientId: 'txn-crash', logLevel: logLevel.NOTHING, retry: { retries, initialRetryTime: 50 } });

describe('transactions across SIGKILL', () => {
  it('committed transactions once, aborted never, interrupted ones atomically', async () => {
    const admin = client(5).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }] });
    await admin.disconnect();
    const amqpUrl = () => `amqp://guest:guest@127.0.0.1:${broker.amqpPort}`;
    {
      const conn = await amqp.connect(amqpUrl());
      const ch = await conn.createChannel();
      await ch.assertQueue('txn-crash-amqp', { durable: true });
      await ch.bindQueue('txn-crash-amqp', 'amq.topic', TOPIC);
      await conn.close();
    }

    const committed = new Set<string>(); // transaction names whose commit was acknowledged
    const aborted = new Set<string>();
    const interrupted = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const producer = client(1).producer({ transactionalId: 'txn-crash-1', maxInFlightRequests: 1, idempotent: true });
      await producer.connect();
      const killAfter = 3 + Math.floor(Math.random() * 6);
      let killing: Promise<void> | null = null;
      for (let i = 0; ; i++) {
        const name = `r${round}t${i}`;
        if (i === killAfter) killing = broker.kill();
        try {
          const txn = await producer.transaction();
          await txn.send({ topic: TOPIC, messages: [0, 1].flatMap((partition) => [0, 1, 2].map((r) => ({ partition, value: `${name}-p${partition}r${r}` }))) });
          if (i % 3 === 2) {
            await txn.abort();
            aborted.add(name);
          } else {
            await txn.commit();
            committed.add(name);
          }
        } catch {
          interrupted.add(name);
          break;
        }
      }
      await killing;
      await producer.disconnect().catch(() => undefined);
      await broker.restart();
    }

    // A last committed transaction marks the end of both partitions.
    const kafka = client(5);
    const producer = kafka.producer({ transactionalId: 'txn-crash-1', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const last = await producer.transaction();
    await last.send({ topic: TOPIC, messages: [0, 1].map((partition) => ({ partition, value: 'END' })) });
    await last.commit();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'txn-crash-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      let ends = 0;
      void consumer.run({
        eachMessage: async ({ message }) => {
          const v = message.value!.toString();
          if (v === 'END') {
            if (++ends === 2) resolve();
          } else seen.push(v);
        },
      });
    });
    await consumer.disconnect();

    // The AMQP queue: everything routed to it, until both END records.
    const routed: string[] = [];
    {
      const conn = await amqp.connect(amqpUrl());
      const ch = await conn.createChannel();
      await new Promise<void>((resolve) => {
        let ends = 0;
        void ch.consume('txn-crash-amqp', (m) => {
          if (!m) return;
          const v = m.content.toString();
          if (v === 'END') {
            if (++ends === 2) resolve();
          } else routed.push(v);
        }, { noAck: true });
      });
      await conn.close();
    }
    const routedByTxn = new Map<string, number>();
    for (const v of routed) routedByTxn.set(v.split('-')[0]!, (routedByTxn.get(v.split('-')[0]!) ?? 0) + 1);
    for (const name of committed) expect(routedByTxn.get(name), name).toBe(6);
    for (const name of aborted) expect(routedByTxn.has(name)).toBe(false);
    for (const name of interrupted) expect([0, 6]).toContain(routedByTxn.get(name) ?? 0);
    expect(new Set(routed).size).toBe(routed.length); // nothing twice
    // Within a partition, a transaction's records arrive in the order they were produced.
    for (const p of [0, 1]) {
      const mine = routed.filter((v) => v.includes(`-p${p}r`));
      for (let i = 1; i < mine.length; i++) {
        const [a, b] = [mine[i - 1]!, mine[i]!];
        if (a.split('-')[0] === b.split('-')[0]) expect(Number(b.at(-1))).toBe(Number(a.at(-1)) + 1);
      }
    }

    const byTxn = new Map<string, number>();
    for (const v of seen) byTxn.set(v.split('-')[0]!, (byTxn.get(v.split('-')[0]!) ?? 0) + 1);
    expect(new Set(seen).size).toBe(seen.length); // nothing twice
    for (const name of committed) expect(byTxn.get(name)).toBe(6);
    for (const name of aborted) expect(byTxn.has(name)).toBe(false);
    for (const name of interrupted) expect([0, 6]).toContain(byTxn.get(name) ?? 0);
    for (const name of byTxn.keys()) expect(committed.has(name) || interrupted.has(name)).toBe(true);
    expect(committed.size).toBeGreaterThanOrEqual(6);
  });
});

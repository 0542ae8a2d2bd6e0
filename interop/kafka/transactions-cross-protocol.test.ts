/**
 * Kafka transactions seen from other protocols (issue 9): records of an open or aborted
 * transaction never reach AMQP or STOMP consumers of the topic; committed ones do, in order, when
 * the transaction commits. A plain (non-transactional) record produced after each step is the
 * barrier: it is routed at once, so when it arrives everything routed before it has arrived too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { stompSubscriber } from '../cross/lib/endpoints.js';

let broker: RunningBroker;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startBroker();
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'xp-txn', logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await broker?.stop();
});

/** Collects AMQP bodies; `until(v)` resolves with everything received once `v` arrived. */
async function amqpConsumer(topic: string): Promise<{ until(v: string): Promise<string[]>; close(): Promise<void> }> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'amq.topic', topic);
  const got: string[] = [];
  let wake = () => {};
  await ch.consume(queue, (m) => {
    if (!m) return;
    got.push(m.content.toString());
    wake();
  }, { noAck: true });
  return {
    until: (v) =>
      new Promise((resolve) => {
        const check = () => (got.includes(v) ? resolve(got.slice()) : undefined);
        wake = check;
        check();
      }),
    close: () => conn.close(),
  };
}

describe('Kafka transactions across protocols', () => {
  it('AMQP and STOMP consumers get committed records in order, aborted and open ones never', async () => {
    const topic = 'xp-txn';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const amqpC = await amqpConsumer(topic);
    const stomp = await stompSubscriber(broker.ports, { destination: `/topic/${topic}`, ack: 'auto', id: 'xp' });
    const plain = kafka.producer();
    await plain.connect();
    const txnProducer = kafka.producer({ transactionalId: 'xp-txn-1', maxInFlightRequests: 1, idempotent: true });
    await txnProducer.connect();
    const send = (values: string[]) => values.map((value) => ({ key: 'k', value }));

    const t1 = await txnProducer.transaction();
    await t1.send({ topic, messages: send(['a1', 'a2', 'a3']) });
    await t1.send({ topic, messages: send(['a4', 'a5']) });
    await t1.commit();
    const t2 = await txnProducer.transaction();
    await t2.send({ topic, messages: send(['b1', 'b2', 'b3']) });
    await t2.abort();
    const t3 = await txnProducer.transaction();
    await t3.send({ topic, messages: send(['c1', 'c2']) });
    // t3 is open: the barrier must arrive without any of its records before it.
    await plain.send({ topic, messages: send(['barrier-1']) });
    expect(await amqpC.until('barrier-1')).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'barrier-1']);
    await t3.send({ topic, messages: send(['c3']) });
    await t3.commit();
    await plain.send({ topic, messages: send(['barrier-2']) });
    const all = await amqpC.until('barrier-2');
    expect(all).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'barrier-1', 'c1', 'c2', 'c3', 'barrier-2']);

    const stompGot = (await stomp.next(10)).map((m) => m.body.toString());
    expect(stompGot).toEqual(all);

    await txnProducer.disconnect();
    await plain.disconnect();
    await amqpC.close();
    await stomp.close();
  });
});

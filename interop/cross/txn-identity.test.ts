/**
 * Records of a Kafka transaction reach other protocols when it commits, with the producer's
 * validated identity (protocol kafka, its client.id, its user: anonymous here), as records of a
 * plain produce do (docs/mapping.md "Publisher identity"). Stock clients: kafkajs
 * (transactional producer), amqplib and stompit consumers.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { amqpConsumer, ensureTopic, stompConsumer } from './lib/endpoints.js';
import { ORIGIN, SPOOF } from './lib/probe.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

it('committed transactional records carry the producer identity to AMQP and STOMP consumers', async () => {
  const ports = broker.ports;
  await ensureTopic(ports, 'txid');
  const consumers = [['amqp', await amqpConsumer(ports, 'txid')], ['stomp', await stompConsumer(ports, 'txid')]] as const;
  const producer = new Kafka({ brokers: [`127.0.0.1:${ports.kafka}`], clientId: 'txn-dev', logLevel: logLevel.NOTHING }).producer({
    transactionalId: 'txid-1',
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const t = await producer.transaction();
    await t.send({ topic: 'txid', messages: [{ value: 't1', headers: { ...SPOOF } }, { value: 't2' }] });
    await t.commit();
    for (const [protocol, consumer] of consumers) {
      const got = await consumer.next(2);
      expect(got.map((m) => m.body.toString()), protocol).toEqual(['t1', 't2']);
      for (const m of got) {
        expect({ protocol: m.headers[ORIGIN.protocol], clientId: m.headers[ORIGIN.clientId], user: m.headers[ORIGIN.user] }, protocol).toEqual({ protocol: 'kafka', clientId: 'txn-dev', user: '' });
      }
    }
  } finally {
    await producer.disconnect();
    for (const [, c] of consumers) await c.close();
  }
});

/**
 * Issue 10's matrix: every ordered pair publisher × consumer over AMQP 0-9-1 (amqplib), MQTT 5
 * (mqtt.js), STOMP 1.2 (stompit) and Kafka (kafkajs), same protocol included, against one real
 * broker. Each pair sends a probe with every property its publisher can set (binary,
 * non-UTF-8 body), an empty body, a 1 MiB body and 1,000 numbered messages, and checks the
 * bytes, the address the consumer sees, every property of `carried(pub, con)` (the table of
 * docs/mapping.md) and the order. Pairs run one after the other.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { consumers, ensureTopic, mqttTopic, publishers, type Ports } from './lib/endpoints.js';
import { ORIGIN, P, PROTOCOLS, SPOOF, absent, carried, identity, publisherId, publisherUser, type Incoming, type Outgoing, type Protocol } from './lib/probe.js';

let broker: RunningBroker;
let ports: Ports;

beforeAll(async () => {
  // A Kafka producer's 1 MiB record plus batch overhead is over Kafka's default message.max.bytes.
  broker = await startBroker({ config: { kafka: { maxMessageBytes: 4 << 20 } } });
  ports = broker.ports;
});

afterAll(async () => {
  await broker?.stop();
});

/** Bytes that are not UTF-8 (a lone continuation byte, an overlong NUL, 0xFE/0xFF) and a NUL. */
const NON_UTF8 = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x41]);
const BIG = randomBytes(1 << 20);
const ORDERED = 1000;

function messages(): Outgoing[] {
  const out: Outgoing[] = [
    { body: NON_UTF8, probe: true },
    { body: Buffer.alloc(0), probe: false },
    { body: BIG, probe: false },
    { body: Buffer.from('transient'), probe: false, transient: true },
  ];
  for (let i = 0; i < ORDERED; i++) out.push({ body: Buffer.from(`seq-${i}`), probe: false });
  return out;
}

/** The address each consumer should report for pair name t. */
function expectedAddress(pub: Protocol, con: Protocol, t: string): string {
  const rk = pub === 'mqtt' ? `${t}.eu` : t;
  switch (con) {
    case 'amqp':
      return rk;
    case 'mqtt':
      return mqttTopic(rk);
    case 'stomp':
      return `/topic/${rk}`;
    case 'kafka':
      return t;
  }
}

function checkProbe(got: Incoming, pub: Protocol, con: Protocol, t: string, publishedAt: [number, number]): void {
  for (const prop of carried(pub, con)) {
    switch (prop) {
      case 'contentType':
        expect(got.contentType, prop).toBe(P.contentType);
        break;
      case 'contentEncoding':
        expect(got.contentEncoding, prop).toBe(P.contentEncoding);
        break;
      case 'correlationId':
        expect(got.correlationId?.toString('utf8'), prop).toBe(P.correlationId);
        break;
      case 'replyTo':
        expect(got.replyTo, prop).toBe(P.replyTo);
        break;
      case 'messageId':
        expect(got.messageId, prop).toBe(P.messageId);
        break;
      case 'type':
        expect(got.type, prop).toBe(P.type);
        break;
      case 'appId':
        expect(got.appId, prop).toBe(P.appId);
        break;
      case 'userId':
        expect(got.userId, prop).toBe(P.userId);
        break;
      case 'expiration':
        // MQTT consumers get the time remaining (whole seconds, rounded up) [MQTT-3.3.2-6].
        if (con === 'mqtt') {
          expect(got.expiration, prop).toBeLessThanOrEqual(P.expirationMs);
          expect(got.expiration, prop).toBeGreaterThan(P.expirationMs - 60_000);
        } else {
          expect(got.expiration, prop).toBe(P.expirationMs);
        }
        break;
      case 'priority':
        expect(got.priority, prop).toBe(P.priority);
        break;
      case 'persistent':
        expect(got.persistent, prop).toBe(true);
        break;
      case 'timestamp':
        expect(got.timestamp, prop).toBe(P.timestampMs);
        break;
      case 'brokerTimestamp':
        // AMQP's timestamp has whole seconds.
        expect(got.timestamp, prop).toBeGreaterThanOrEqual(Math.floor(publishedAt[0] / 1000) * 1000);
        expect(got.timestamp, prop).toBeLessThanOrEqual(publishedAt[1]);
        break;
      case 'headers':
        expect(got.headers, prop).toMatchObject(P.headers);
        break;
      case 'key':
        expect(got.key?.toString('utf8'), prop).toBe(P.key);
        break;
    }
  }
  const h = got.headers;
  switch (identity(pub, con)) {
    case 'stamped':
      expect({ protocol: h[ORIGIN.protocol], clientId: h[ORIGIN.clientId], user: h[ORIGIN.user] }, 'publisher identity').toEqual({ protocol: pub, clientId: publisherId(t), user: publisherUser(pub) });
      break;
    case 'none added':
      // The forged headers are gone and nothing was added: the user headers are exactly the publisher's.
      expect(h, 'same-protocol headers: the publisher\'s, less its forged identity').toEqual(P.headers);
      break;
  }
  for (const [name, forged] of Object.entries(SPOOF)) expect(h[name], `forged ${name}`).not.toBe(forged);
  for (const prop of absent(pub, con)) expect(got[prop as keyof Incoming], `${prop} (not carried)`).toBeUndefined();
}

describe('publisher × consumer matrix (one broker, pairs in sequence)', () => {
  for (const pub of PROTOCOLS) {
    for (const con of PROTOCOLS) {
      it(`${pub} → ${con}: bodies, mapped properties, order of ${ORDERED}`, async () => {
        const t = `mx.${pub}.${con}`;
        if (pub === 'kafka' || con === 'kafka') await ensureTopic(ports, t);
        const consumer = await consumers[con](ports, t);
        const publisher = await publishers[pub](ports, t);
        try {
          const out = messages();
          const before = Date.now();
          await publisher.publish(out);
          const after = Date.now();
          const got = await consumer.next(out.length);

          for (const m of got) expect(m.address).toBe(expectedAddress(pub, con, t));
          expect(got[0]!.body.equals(NON_UTF8)).toBe(true);
          expect(got[1]!.body.length).toBe(0);
          expect(got[2]!.body.length).toBe(BIG.length);
          expect(got[2]!.body.equals(BIG)).toBe(true);
          // Persistence crosses both ways: a transient publish stays transient (Kafka records are always persistent).
          expect(got[3]!.body.toString()).toBe('transient');
          if (con !== 'kafka') expect(got[3]!.persistent, 'transient message persistence').toBe(pub === 'kafka');
          const seq = got.slice(4).map((m) => m.body.toString());
          expect(seq).toEqual(Array.from({ length: ORDERED }, (_, i) => `seq-${i}`));
          checkProbe(got[0]!, pub, con, t, [before, after]);
        } finally {
          await publisher.close();
          await consumer.close();
        }
      });
    }
  }
});

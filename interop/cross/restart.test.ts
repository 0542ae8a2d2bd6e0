/**
 * Delivery guarantees compose across protocols: what one protocol's publisher had acknowledged
 * (AMQP confirm, MQTT PUBACK, STOMP RECEIPT, Kafka acks=all; `sync` durability, the default) is
 * still there for another protocol's consumer after the broker is SIGKILLed between two halves
 * of the traffic, in order. Every publisher protocol and every consumer protocol is on one of
 * the durable paths. And a same-protocol consumer of a durable destination still gets the
 * publisher's headers exactly, without the publisher's forged identity, after a crash.
 */
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { amqpPublisher, ensureTopic, kafkaConsumer, kafkaPublisher, mqttPublisher, mqttTopic, stompPublisher, stompSubscriber, type Ports } from './lib/endpoints.js';
import { KEY_HEADER, P, PROTOCOLS, type Protocol } from './lib/probe.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

const HALF = 250;
const seq = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ body: Buffer.from(`seq-${from + i}`), probe: false }));
const expected = Array.from({ length: 2 * HALF }, (_, i) => `seq-${i}`);

async function crash(): Promise<void> {
  await broker.kill();
  await broker.restart();
}

describe('durable paths across a broker crash', () => {
  it('MQTT QoS 1 → durable AMQP queue: every PUBACKed message survives, in order', async () => {
    const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await amqp.createChannel();
    await ch.assertQueue('dur.mqtt.amqp', { durable: true });
    await ch.bindQueue('dur.mqtt.amqp', 'amq.topic', 'dur.mqtt.#');
    await amqp.close();

    for (const part of [0, 1]) {
      const pub = await mqttPublisher(broker.ports, 'dur.mqtt');
      await pub.publish(seq(part * HALF, HALF));
      await pub.close();
      if (part === 0) await crash();
    }
    await crash();

    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const c = await conn.createChannel();
      const got: amqplib.ConsumeMessage[] = [];
      await new Promise<void>((resolve) => {
        void c.consume('dur.mqtt.amqp', (m) => {
          if (!m) return;
          got.push(m);
          if (got.length === expected.length) resolve();
        }, { noAck: true });
      });
      expect(got.map((m) => m.content.toString())).toEqual(expected);
      expect(got.every((m) => m.properties.deliveryMode === 2)).toBe(true);
    } finally {
      await conn.close();
    }
  });

  it('Kafka acks=all → durable STOMP subscription (and the Kafka stream itself): nothing lost, in order', async () => {
    const t = 'dur.kafka';
    await ensureTopic(broker.ports, t);
    const durable = { destination: `/topic/${t}`, id: 'dur-1', durable: 'true', 'auto-delete': 'false', ack: 'auto' };
    // Create the durable subscription's queue, then leave: messages wait for it.
    await (await stompSubscriber(broker.ports, durable)).close();

    for (const part of [0, 1]) {
      const pub = await kafkaPublisher(broker.ports, t);
      await pub.publish(seq(part * HALF, HALF));
      await pub.close();
      if (part === 0) await crash();
    }
    await crash();

    const stomp = await stompSubscriber(broker.ports, durable);
    try {
      const got = await stomp.next(expected.length);
      expect(got.map((m) => m.body.toString())).toEqual(expected);
      expect(got.every((m) => m.persistent === true)).toBe(true);
    } finally {
      await stomp.close();
    }
    const kafka = await kafkaConsumer(broker.ports, t);
    try {
      expect((await kafka.next(expected.length)).map((m) => m.body.toString())).toEqual(expected);
    } finally {
      await kafka.close();
    }
  });

  it('AMQP confirmed → MQTT persistent session, STOMP receipted → Kafka: nothing lost, in order', async () => {
    const session = { clientId: 'dur-mqtt-sub', filter: 'dur/amqp/#' };
    // Subscribe at QoS 1 in a session that outlives the connection, then leave: messages wait for it.
    await (await mqttSession(broker.ports, session.clientId, session.filter)).close();
    await ensureTopic(broker.ports, 'dur.stomp');

    for (const part of [0, 1]) {
      const amqp = await amqpPublisher(broker.ports, 'dur.amqp');
      const stomp = await stompPublisher(broker.ports, 'dur.stomp');
      await Promise.all([amqp.publish(seq(part * HALF, HALF)), stomp.publish(seq(part * HALF, HALF))]);
      await Promise.all([amqp.close(), stomp.close()]);
      if (part === 0) await crash();
    }
    await crash();

    const sub = await mqttSession(broker.ports, session.clientId, session.filter);
    try {
      const got = await sub.next(expected.length);
      expect(got.map((m) => m.payload.toString())).toEqual(expected);
      expect(got.every((m) => m.qos === 1)).toBe(true);
    } finally {
      await sub.close();
    }
    const kafka = await kafkaConsumer(broker.ports, 'dur.stomp');
    try {
      expect((await kafka.next(expected.length)).map((m) => m.body.toString())).toEqual(expected);
    } finally {
      await kafka.close();
    }
  });

  it('all 16 pairs, durable consumers, two crashes: every acknowledged message arrives, in order', async () => {
    const n = 100;
    const pairs = PROTOCOLS.flatMap((pub) => PROTOCOLS.map((con) => ({ pub, con, t: `d16.${pub}.${con}` })));
    for (const { pub, con, t } of pairs) {
      await durableConsumers[con].setup(t);
      if (pub === 'kafka' && con !== 'kafka') await ensureTopic(broker.ports, t);
    }
    for (const part of [0, 1]) {
      // Each publisher waits for its acknowledgements (confirm, PUBACK, RECEIPT, acks=all).
      await Promise.all(
        pairs.map(async ({ pub, t }) => {
          const publisher = await publishers[pub](broker.ports, t);
          await publisher.publish(seq(part * n, n));
          await publisher.close();
        }),
      );
      await crash();
    }
    const want = Array.from({ length: 2 * n }, (_, i) => `seq-${i}`);
    for (const { pub, con, t } of pairs) expect(await durableConsumers[con].read(t, 2 * n), `${pub} → ${con}`).toEqual(want);
  });

  it('same-protocol durable paths after a crash: headers exact, the forged identity still gone', async () => {
    // Durable destinations for each protocol's own consumer, made before the publishes.
    const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const setup = await amqp.createChannel();
    await setup.assertQueue('dur.same.amqp', { durable: true });
    await setup.bindQueue('dur.same.amqp', 'amq.topic', 'dur.same.amqp.#');
    await amqp.close();
    await (await mqttSession(broker.ports, 'dur-same-mqtt', 'dur/same/mqtt/#')).close();
    const stompDurable = { destination: '/topic/dur.same.stomp', id: 'dur-same', durable: 'true', 'auto-delete': 'false', ack: 'auto' };
    await (await stompSubscriber(broker.ports, stompDurable)).close();
    await ensureTopic(broker.ports, 'dur.same.kafka');

    for (const pub of PROTOCOLS) {
      const publisher = await publishers[pub](broker.ports, `dur.same.${pub}`);
      await publisher.publish([{ body: Buffer.from(`probe-${pub}`), probe: true }]);
      await publisher.close();
    }
    await crash();

    const seen: Partial<Record<Protocol, { headers: Record<string, string>; timestamp?: number | undefined }>> = {};
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const m = await (await conn.createChannel()).get('dur.same.amqp', { noAck: true });
      expect(m && m.content.toString()).toBe('probe-amqp');
      seen.amqp = { headers: textHeaders(m ? (m.properties.headers ?? {}) : {}), timestamp: m ? Number(m.properties.timestamp) * 1000 : undefined };
    } finally {
      await conn.close();
    }
    const sub = await mqttSession(broker.ports, 'dur-same-mqtt', 'dur/same/mqtt/#');
    try {
      const [m] = await sub.next(1);
      expect(m!.payload.toString()).toBe('probe-mqtt');
      seen.mqtt = { headers: textHeaders(Object.fromEntries(Object.entries(m!.userProperties).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]))) };
    } finally {
      await sub.close();
    }
    const stomp = await stompSubscriber(broker.ports, stompDurable);
    try {
      const [m] = await stomp.next(1);
      expect(m!.body.toString()).toBe('probe-stomp');
      seen.stomp = { headers: m!.headers };
    } finally {
      await stomp.close();
    }
    const kafka = await kafkaConsumer(broker.ports, 'dur.same.kafka');
    try {
      const [m] = await kafka.next(1);
      expect(m!.body.toString()).toBe('probe-kafka');
      seen.kafka = { headers: m!.headers, timestamp: m!.timestamp };
    } finally {
      await kafka.close();
    }
    // amqplib and mqtt.js are read directly here: the probe's `x-kafka-key` header is one of their user headers.
    for (const pub of PROTOCOLS) expect(seen[pub]?.headers, pub).toEqual(pub === 'amqp' || pub === 'mqtt' ? { ...P.headers, [KEY_HEADER]: P.key } : P.headers);
    expect(seen.amqp?.timestamp, 'AMQP timestamp').toBe(P.timestampMs);
    expect(seen.kafka?.timestamp, 'Kafka record timestamp').toBe(P.timestampMs);
  });
});

const publishers = { amqp: amqpPublisher, mqtt: mqttPublisher, stomp: stompPublisher, kafka: kafkaPublisher } as const;

/** A consumer whose destination outlives its connection: made before the publishes, read after the crashes. */
interface DurableConsumer {
  setup(t: string): Promise<void>;
  read(t: string, n: number): Promise<string[]>;
}

const stompDurableFor = (t: string) => ({ destination: `/topic/${t}.#`, id: `d-${t}`, durable: 'true', 'auto-delete': 'false', ack: 'auto' });

const durableConsumers: Record<Protocol, DurableConsumer> = {
  amqp: {
    async setup(t) {
      const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
      const ch = await conn.createChannel();
      await ch.assertQueue(`q-${t}`, { durable: true });
      await ch.bindQueue(`q-${t}`, 'amq.topic', `${t}.#`);
      await conn.close();
    },
    async read(t, n) {
      const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
      try {
        const ch = await conn.createChannel();
        const got: string[] = [];
        await new Promise<void>((resolve) => {
          void ch.consume(`q-${t}`, (m) => {
            if (m && got.push(m.content.toString()) === n) resolve();
          }, { noAck: true });
        });
        return got;
      } finally {
        await conn.close();
      }
    },
  },
  mqtt: {
    async setup(t) {
      await (await mqttSession(broker.ports, `s-${t}`, `${mqttTopic(t)}/#`)).close();
    },
    async read(t, n) {
      const s = await mqttSession(broker.ports, `s-${t}`, `${mqttTopic(t)}/#`);
      try {
        return (await s.next(n)).map((m) => m.payload.toString());
      } finally {
        await s.close();
      }
    },
  },
  stomp: {
    async setup(t) {
      await (await stompSubscriber(broker.ports, stompDurableFor(t))).close();
    },
    async read(t, n) {
      const s = await stompSubscriber(broker.ports, stompDurableFor(t));
      try {
        return (await s.next(n)).map((m) => m.body.toString());
      } finally {
        await s.close();
      }
    },
  },
  kafka: {
    async setup(t) {
      await ensureTopic(broker.ports, t);
    },
    async read(t, n) {
      const k = await kafkaConsumer(broker.ports, t);
      try {
        return (await k.next(n)).map((m) => m.body.toString());
      } finally {
        await k.close();
      }
    },
  },
};

function textHeaders(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return out;
}

interface SessionMessage { payload: Buffer; qos: number; userProperties: Record<string, string | string[]> }

/**
 * An MQTT 5 client in a session that outlives its connection (clean start off, expiry 600 s),
 * subscribed to `filter` at QoS 1; what the session had queued arrives after the CONNACK.
 */
async function mqttSession(ports: Ports, clientId: string, filter: string): Promise<{ next(n: number): Promise<SessionMessage[]>; close(): Promise<void> }> {
  const got: SessionMessage[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  const client = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, { protocolVersion: 5, clientId, clean: false, properties: { sessionExpiryInterval: 600 }, username: 'guest', password: 'guest', reconnectPeriod: 0 });
  client.on('message', (_topic, payload, packet) => {
    got.push({ payload, qos: packet.qos, userProperties: (packet.properties?.userProperties ?? {}) as Record<string, string | string[]> });
    if (waiter && got.length >= waiter.n) waiter.resolve();
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    async next(n) {
      if (got.length < n) await new Promise<void>((resolve) => (waiter = { n, resolve }));
      return got.slice(0, n);
    },
    close: () => client.endAsync(),
  };
}

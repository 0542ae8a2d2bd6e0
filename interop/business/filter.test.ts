/**
 * Server-side filtering with stock clients (docs/business.md "Filtering"): tag filters
 * (`x-stream-filter-value` on publish; `x-stream-filter` + `x-stream-match-unfiltered` on
 * consume) and JMS selectors (`x-selector`, STOMP `selector`), on queues and streams, with the
 * publisher on AMQP, STOMP, MQTT 5 and Kafka.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { collect, connectStompit, disconnect, sendWithReceipt } from '../stomp/lib/stompit-client.js';
import { deferred, within, type StompTarget } from '../stomp/lib/target.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

let broker: RunningBroker;
let stompTarget: StompTarget;
let amqpUrl: string;
beforeAll(async () => {
  broker = await startBroker();
  amqpUrl = `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`;
  stompTarget = { name: 'polybroker', host: '127.0.0.1', port: broker.ports.stomp, vhost: '/', login: 'guest', passcode: 'guest' };
});
afterAll(async () => {
  await broker?.stop();
});

/** Consumes until `n` messages arrived; resolves with their bodies. */
function bodiesOf(ch: amqplib.Channel, queue: string, n: number, args: Record<string, unknown>, extra: amqplib.Options.Consume = {}): Promise<string[]> {
  const got: string[] = [];
  const d = deferred<string[]>();
  void ch.consume(
    queue,
    (m) => {
      if (!m) return;
      got.push(m.content.toString());
      ch.ack(m);
      if (got.length === n) d.resolve(got);
    },
    { arguments: args, ...extra },
  );
  return within(d.promise, 10_000, `${n} deliveries from ${queue}`);
}

describe('tag filters with amqplib', () => {
  it('a queue consumer with x-stream-filter gets only its values; the rest stays queued', async () => {
    const conn = await amqplib.connect(amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('filter.q1', { durable: true });
      for (const [body, tag] of [['r1', 'red'], ['b1', 'blue'], ['r2', 'red'], ['n1', null]] as const) {
        ch.sendToQueue('filter.q1', Buffer.from(body), { persistent: true, headers: tag ? { 'x-stream-filter-value': tag } : {} });
      }
      await ch.waitForConfirms();
      const sub = await conn.createChannel();
      await sub.prefetch(10);
      expect(await bodiesOf(sub, 'filter.q1', 2, { 'x-stream-filter': 'red' })).toEqual(['r1', 'r2']);
      const check = await conn.createChannel();
      expect((await check.checkQueue('filter.q1')).messageCount).toBe(2);
      const rest = await conn.createChannel();
      await rest.prefetch(10);
      expect(await bodiesOf(rest, 'filter.q1', 1, { 'x-stream-filter': ['blue', 'green'], 'x-stream-match-unfiltered': false })).toEqual(['b1']);
      const all = await conn.createChannel();
      await all.prefetch(10);
      expect(await bodiesOf(all, 'filter.q1', 1, { 'x-stream-filter': 'none', 'x-stream-match-unfiltered': true })).toEqual(['n1']);
    } finally {
      await conn.close();
    }
  });

  it('a stream consumer skips non-matching messages for itself only (RabbitMQ streams arguments)', async () => {
    const conn = await amqplib.connect(amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('filter.s1', { durable: true, arguments: { 'x-queue-type': 'stream' } });
      for (let i = 0; i < 300; i++) ch.sendToQueue('filter.s1', Buffer.from(`m${i}`), { headers: { 'x-stream-filter-value': i % 100 === 7 ? 'rare' : 'common' } });
      await ch.waitForConfirms();
      const a = await conn.createChannel();
      await a.prefetch(100);
      expect(await bodiesOf(a, 'filter.s1', 3, { 'x-stream-offset': 'first', 'x-stream-filter': 'rare' })).toEqual(['m7', 'm107', 'm207']);
      const b = await conn.createChannel();
      await b.prefetch(500);
      const everything = await bodiesOf(b, 'filter.s1', 300, { 'x-stream-offset': 'first' });
      expect(everything[0]).toBe('m0');
      expect(everything).toHaveLength(300);
    } finally {
      await conn.close();
    }
  });
});

describe('selectors with amqplib', () => {
  it('x-selector picks messages by headers and JMS fields', async () => {
    const conn = await amqplib.connect(amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('filter.sel', { durable: false });
      ch.sendToQueue('filter.sel', Buffer.from('cheap'), { headers: { amount: 5, region: 'eu' } });
      ch.sendToQueue('filter.sel', Buffer.from('big-eu'), { headers: { amount: 500, region: 'eu' }, priority: 8, type: 'order' });
      ch.sendToQueue('filter.sel', Buffer.from('big-ap'), { headers: { amount: 700, region: 'ap' } });
      await ch.waitForConfirms();
      const sub = await conn.createChannel();
      await sub.prefetch(10);
      const selector = "amount BETWEEN 100 AND 1000 AND region LIKE 'e%' AND JMSPriority > 4 AND JMSType = 'order'";
      expect(await bodiesOf(sub, 'filter.sel', 1, { 'x-selector': selector })).toEqual(['big-eu']);
      expect((await (await conn.createChannel()).checkQueue('filter.sel')).messageCount).toBe(2);
    } finally {
      await conn.close();
    }
  });

  it('a selector that does not parse closes the channel with 406 and the parser position', async () => {
    const conn = await amqplib.connect(amqpUrl);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('filter.bad', { durable: false });
      const closed = deferred<Error>();
      ch.on('error', (e: Error) => closed.resolve(e));
      await expect(ch.consume('filter.bad', () => {}, { arguments: { 'x-selector': "color = 'red' AND" } })).rejects.toThrow(/406/);
      const e = await within(closed.promise, 10_000, 'channel error');
      expect(e.message).toMatch(/PRECONDITION/);
      expect(e.message).toMatch(/unexpected end of selector.*at position 17/);
    } finally {
      await conn.close();
    }
  });
});

describe('filters with stompit', () => {
  it('SUBSCRIBE with selector and x-stream-filter headers; STOMP publisher headers are the properties', async () => {
    const s = await connectStompit(stompTarget);
    try {
      const ack = (m: Parameters<typeof s.client.ack>[0]) => s.client.ack(m);
      const sel = collect(s.client, { destination: '/queue/filter.stomp', id: 'sel', ack: 'client-individual', selector: "kind = 'a' AND n > 1" }, ack);
      const tag = collect(s.client, { destination: '/queue/filter.stomp', id: 'tag', ack: 'client-individual', 'x-stream-filter': 'blue,green' }, ack);
      await sendWithReceipt(s.client, { destination: '/queue/filter.stomp', kind: 'a', n: '1' }, 'a1');
      await sendWithReceipt(s.client, { destination: '/queue/filter.stomp', kind: 'a', n: '2' }, 'a2');
      await sendWithReceipt(s.client, { destination: '/queue/filter.stomp', 'x-stream-filter-value': 'green' }, 'g');
      await sendWithReceipt(s.client, { destination: '/queue/filter.stomp', 'x-stream-filter-value': 'red' }, 'r');
      expect((await sel.next(1)).map((m) => m.body.toString())).toEqual(['a2']);
      expect((await tag.next(1)).map((m) => m.body.toString())).toEqual(['g']);
    } finally {
      await disconnect(s);
    }
    const conn = await amqplib.connect(amqpUrl);
    try {
      expect((await (await conn.createChannel()).checkQueue('filter.stomp')).messageCount).toBe(2);
    } finally {
      await conn.close();
    }
  });

  it('a selector that does not parse is answered with an ERROR frame naming the position', async () => {
    const s = await connectStompit(stompTarget);
    s.client.subscribe({ destination: '/queue/filter.stomp.bad', id: 'x', selector: 'a IN (1,' }, () => {});
    await within(s.closed, 10_000, 'ERROR frame');
    expect(s.errors.join(' ')).toMatch(/invalid_argument/);
  });
});

describe('filter values from MQTT 5 and Kafka publishers', () => {
  it('an MQTT 5 user property x-stream-filter-value is the tag an AMQP consumer filters on', async () => {
    const conn = await amqplib.connect(amqpUrl);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('filter.mqtt', { durable: true });
      await ch.bindQueue('filter.mqtt', 'amq.topic', 'sensors.#');
      for (const [t, body] of [['temp', 't1'], ['hum', 'h1'], ['temp', 't2']] as const) {
        await c.publishAsync('sensors/room1', body, { qos: 1, properties: { userProperties: { 'x-stream-filter-value': t } } });
      }
      await ch.prefetch(10);
      expect(await bodiesOf(ch, 'filter.mqtt', 2, { 'x-stream-filter': 'temp' })).toEqual(['t1', 't2']);
    } finally {
      await c.endAsync();
      await conn.close();
    }
  });

  it('a Kafka record header x-stream-filter-value filters a stream read by AMQP', async () => {
    const conn = await amqplib.connect(amqpUrl);
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'filter', logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('filter-kafka', { durable: true, arguments: { 'x-queue-type': 'stream' } });
      await producer.connect();
      await producer.send({
        topic: 'filter-kafka',
        acks: -1,
        messages: [
          { value: 'k1', headers: { 'x-stream-filter-value': 'eu' }, partition: 0 },
          { value: 'k2', headers: { 'x-stream-filter-value': 'us' }, partition: 0 },
          { value: 'k3', headers: { 'x-stream-filter-value': 'eu', tier: 'gold' }, partition: 0 },
        ],
      });
      await ch.prefetch(10);
      expect(await bodiesOf(ch, 'filter-kafka', 2, { 'x-stream-offset': 'first', 'x-stream-filter': 'eu' })).toEqual(['k1', 'k3']);
      const sel = await conn.createChannel();
      await sel.prefetch(10);
      expect(await bodiesOf(sel, 'filter-kafka', 1, { 'x-stream-offset': 'first', 'x-selector': "tier = 'gold'" })).toEqual(['k3']);
    } finally {
      await producer.disconnect();
      await conn.close();
    }
  });
});

describe('filters with Python clients', () => {
  it('pika: x-stream-filter and x-selector on a queue; a bad selector is 406', async () => {
    const { stdout } = await run('/usr/bin/python3', [join(here, 'filter_clients.py'), 'pika', String(broker.ports.amqp), 'filter.pika'], { timeout: 30_000 });
    const got = JSON.parse(stdout) as { red: string[]; selector: string[]; bad: [number, string] | null };
    expect(got.red).toEqual(['a', 'c']);
    expect(got.selector).toEqual(['d']);
    expect(got.bad?.[0]).toBe(406);
    expect(got.bad?.[1]).toMatch(/at position 8/);
  });

  it('stomp.py: SUBSCRIBE with a selector header', async () => {
    const { stdout } = await run('/usr/bin/python3', [join(here, 'filter_clients.py'), 'stomp', String(broker.ports.stomp), 'filter.stomppy'], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ selector: ['x3'] });
  });
});

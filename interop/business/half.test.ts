/**
 * Transactional half messages with stock clients (docs/business.md "Half messages"): commit and
 * rollback from AMQP (amqplib), STOMP (stompit) and MQTT 5 (mqtt.js); and a pika producer that
 * crashes after its half message was confirmed, resolved by check-back across a broker SIGKILL.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { collect, connectStompit, disconnect, sendWithReceipt } from '../stomp/lib/stompit-client.js';
import { deferred, within, type StompTarget } from '../stomp/lib/target.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

let broker: RunningBroker;
let amqpUrl: string;
let stompTarget: StompTarget;
beforeAll(async () => {
  // Short check timings so the check-back test runs in seconds (the defaults are 6 s / 60 s).
  broker = await startBroker({ config: { transactions: { timeoutMs: 300, checkIntervalMs: 1000, maxChecks: 5 } } });
  amqpUrl = `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`;
  stompTarget = { name: 'polybroker', host: '127.0.0.1', port: broker.ports.stomp, vhost: '/', login: 'guest', passcode: 'guest' };
});
afterAll(async () => {
  await broker?.stop();
});

async function queueDepth(queue: string): Promise<number> {
  const conn = await amqplib.connect(amqpUrl);
  try {
    return (await (await conn.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}

/** Waits for the first message of `queue`; resolves with it (acked). */
async function firstMessage(conn: amqplib.ChannelModel, queue: string): Promise<amqplib.ConsumeMessage> {
  const ch = await conn.createChannel();
  const got = deferred<amqplib.ConsumeMessage>();
  await ch.consume(queue, (m) => {
    if (m) {
      ch.ack(m);
      got.resolve(m);
    }
  });
  return within(got.promise, 15_000, `a message on ${queue}`);
}

describe('half messages with amqplib', () => {
  it('a confirmed half message is delivered only after its commit, once', async () => {
    const conn = await amqplib.connect(amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('half.amqp', { durable: true });
      await ch.assertQueue('half.amqp.checks', { durable: true });
      ch.sendToQueue('half.amqp', Buffer.from('order 1'), {
        persistent: true,
        headers: { 'x-transaction': 'half', 'x-transaction-id': 'amqp-1', 'x-transaction-check-to': 'half.amqp.checks' },
      });
      await ch.waitForConfirms();
      expect(await queueDepth('half.amqp')).toBe(0);
      ch.publish('amq.transaction', 'commit', Buffer.alloc(0), { headers: { 'x-transaction-id': 'amqp-1' } });
      await ch.waitForConfirms();
      const m = await firstMessage(conn, 'half.amqp');
      expect(m.content.toString()).toBe('order 1');
      expect(m.properties.headers?.['x-transaction-id']).toBe('amqp-1');
      expect(m.properties.headers?.['x-transaction']).toBeUndefined();
      // A rollback: nothing is delivered.
      ch.sendToQueue('half.amqp', Buffer.from('order 2'), { persistent: true, headers: { 'x-transaction': 'half', 'x-transaction-id': 'amqp-2' } });
      await ch.waitForConfirms();
      ch.publish('amq.transaction', 'rollback', Buffer.from('amqp-2'));
      await ch.waitForConfirms();
      expect(await queueDepth('half.amqp')).toBe(0);
    } finally {
      await conn.close();
    }
  });

  it('a half message without x-transaction-id closes the channel with 406', async () => {
    const conn = await amqplib.connect(amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      const closed = deferred<Error>();
      ch.on('error', (e: Error) => closed.resolve(e));
      ch.sendToQueue('half.amqp', Buffer.from('x'), { headers: { 'x-transaction': 'half' } });
      const e = await within(closed.promise, 10_000, 'channel error');
      expect(e.message).toMatch(/406.*x-transaction-id/);
    } finally {
      await conn.close().catch(() => {});
    }
  });
});

describe('half messages with stompit', () => {
  it('SEND a half message, then SEND to /exchange/amq.transaction/commit', async () => {
    const s = await connectStompit(stompTarget);
    try {
      const sub = collect(s.client, { destination: '/queue/half.stomp', id: 'q', ack: 'auto' });
      await sendWithReceipt(s.client, { destination: '/queue/half.stomp', 'x-transaction': 'half', 'x-transaction-id': 'stomp-1', persistent: 'true' }, 'stomp order');
      await sendWithReceipt(s.client, { destination: '/queue/half.stomp', 'x-transaction': 'half', 'x-transaction-id': 'stomp-2', persistent: 'true' }, 'stomp never');
      await sendWithReceipt(s.client, { destination: '/exchange/amq.transaction/rollback', 'x-transaction-id': 'stomp-2' }, '');
      await sendWithReceipt(s.client, { destination: '/exchange/amq.transaction/commit', 'x-transaction-id': 'stomp-1' }, '');
      const [m] = await sub.next(1);
      expect(m!.body.toString()).toBe('stomp order');
      expect(m!.headers['x-transaction-id']).toBe('stomp-1');
    } finally {
      await disconnect(s);
    }
    expect(await queueDepth('half.stomp')).toBe(0);
  });
});

describe('half messages with mqtt.js (MQTT 5)', () => {
  it('a half publish with user properties, committed by a publish to $transaction/commit', async () => {
    const conn = await amqplib.connect(amqpUrl);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('half.mqtt', { durable: true });
      await ch.bindQueue('half.mqtt', 'amq.topic', 'payments.#');
      await c.publishAsync('payments/eu', 'pay 10', { qos: 1, properties: { userProperties: { 'x-transaction': 'half', 'x-transaction-id': 'mqtt-1' } } });
      expect(await queueDepth('half.mqtt')).toBe(0);
      await c.publishAsync('$transaction/commit', 'mqtt-1', { qos: 1 });
      const m = await firstMessage(conn, 'half.mqtt');
      expect(m.content.toString()).toBe('pay 10');
      expect(m.fields.routingKey).toBe('payments.eu');
    } finally {
      await c.endAsync();
      await conn.close();
    }
  });
});

describe('half messages with paho (MQTT 5, Python)', () => {
  it('a half publish with user properties, committed by $transaction/commit', async () => {
    const conn = await amqplib.connect(amqpUrl);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('half.paho', { durable: true });
      await ch.bindQueue('half.paho', 'amq.topic', 'paho.#');
      const { stdout } = await run('/usr/bin/python3', [join(here, 'half_paho.py'), String(broker.ports.mqtt), 'paho/orders', 'paho-1'], { timeout: 30_000 });
      expect(stdout).toContain('ok');
      const m = await firstMessage(conn, 'half.paho');
      expect(m.content.toString()).toBe('paho half');
      expect(m.properties.headers?.['x-transaction-id']).toBe('paho-1');
    } finally {
      await conn.close();
    }
  });
});

describe('check-back', () => {
  it('resolves the half message of a producer that crashed after its confirm, across a broker SIGKILL', async () => {
    {
      const conn = await amqplib.connect(amqpUrl);
      const ch = await conn.createChannel();
      await ch.assertQueue('half.crash', { durable: true });
      await ch.assertQueue('half.crash.checks', { durable: true });
      await conn.close();
    }
    const { stdout } = await run('/usr/bin/python3', [join(here, 'half_producer.py'), String(broker.ports.amqp), 'half.crash', 'crash-1', '/queue/half.crash.checks'], { timeout: 30_000 });
    expect(stdout).toContain('confirmed');
    // The broker dies too; the half message and its check schedule come back with it.
    await broker.kill();
    await broker.restart();
    amqpUrl = `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`;
    const conn = await amqplib.connect(amqpUrl);
    try {
      // The restarted producer answers the broker's check request: its local transaction committed.
      const check = await firstMessage(conn, 'half.crash.checks');
      expect(check.properties.headers?.['x-transaction']).toBe('check');
      expect(check.properties.headers?.['x-transaction-id']).toBe('crash-1');
      expect(check.content.toString()).toBe('debit account 42');
      const ch = await conn.createConfirmChannel();
      ch.publish('amq.transaction', 'commit', Buffer.alloc(0), { headers: { 'x-transaction-id': String(check.properties.headers?.['x-transaction-id']) } });
      await ch.waitForConfirms();
      const m = await firstMessage(conn, 'half.crash');
      expect(m.content.toString()).toBe('debit account 42');
      // Delivered once: a second commit finds nothing, and nothing else arrives.
      ch.publish('amq.transaction', 'commit', Buffer.alloc(0), { headers: { 'x-transaction-id': 'crash-1' } });
      await ch.waitForConfirms();
      expect(await queueDepth('half.crash')).toBe(0);
    } finally {
      await conn.close();
    }
  });
});

/**
 * Messages the broker re-encodes instead of delivering the publisher's AMQP property bytes:
 * routed with BCC (the header is removed) and dead-lettered (x-death added). Every basic
 * property the publisher set must survive the re-encode (timestamp and cluster-id included),
 * and a forged `x-pb-origin-*` header must not (docs/mapping.md "Publisher identity").
 * Stock clients: pika (every property, cluster-id included) and amqplib (BCC + timestamp).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

function run(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'buffer', timeout: 40_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr.toString()}`));
      resolve(stdout);
    });
  });
}

/** What pika published (pika_reencoded.py), less delivery-mode, headers and expiration. */
const PUBLISHED = {
  content_type: 'application/x-matrix',
  content_encoding: 'identity-x',
  correlation_id: 'corr-py',
  reply_to: 'matrix.replies',
  message_id: 'mid-py',
  priority: 4,
  timestamp: 1700000000,
  type: 't-py',
  user_id: 'guest',
  app_id: 'pika',
  cluster_id: 'cluster-py',
};

describe('AMQP properties survive the broker re-encoding a message', () => {
  it('pika: BCC copies and the routed copy keep every basic property; BCC and forged identity are gone', async () => {
    const out = await run('/usr/bin/python3', [join(import.meta.dirname, 'clients', 'pika_reencoded.py'), String(broker.ports.amqp), 'bcc']);
    const got = out.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { queue: string; body: string; headers: Record<string, string> });
    const copies = got.filter((m) => m.queue === 'q-direct' || m.queue === 'q-bcc');
    expect(copies.map((m) => `${m.queue}:${m.body}`)).toEqual(['q-direct:bcc-2', 'q-direct:bcc-1', 'q-bcc:bcc-2', 'q-bcc:bcc-1']);
    for (const m of copies) {
      expect(m, `${m.queue} ${m.body}`).toMatchObject({ ...PUBLISHED, expiration: '600000', delivery_mode: m.body === 'bcc-2' ? 2 : 1 });
      // The other headers as sent (x-n stays an integer); BCC and the forged identity removed.
      expect(m.headers, `${m.queue} ${m.body}`).toEqual({ 'x-h1': 'v1', 'x-n': '7' });
    }
  });

  it('pika: a dead-lettered copy keeps every basic property but its TTL (RabbitMQ moves it to x-death)', async () => {
    const out = await run('/usr/bin/python3', [join(import.meta.dirname, 'clients', 'pika_reencoded.py'), String(broker.ports.amqp), 'dlx']);
    const got = out.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { queue: string; headers: Record<string, string> });
    const dead = got.find((m) => m.queue === 'q-dlq');
    expect(dead).toMatchObject({ ...PUBLISHED, body: 'dead', delivery_mode: 2, expiration: null });
    expect(dead!.headers).toMatchObject({ 'x-h1': 'v1', 'x-n': '7', 'x-first-death-reason': 'rejected' });
    expect(Object.keys(dead!.headers).filter((k) => k.startsWith('x-pb-origin-'))).toEqual([]);
  });

  it('amqplib: a BCC copy keeps the publisher\'s timestamp', async () => {
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    try {
      const ch = await conn.createConfirmChannel();
      const [to, bcc] = ['ts-to', 'ts-bcc'];
      for (const q of [to, bcc]) await ch.assertQueue(q, { durable: false });
      ch.publish('', to, Buffer.from('stamped'), { timestamp: 1_600_000_000, BCC: [bcc], headers: { 'x-h1': 'v1' } });
      await ch.waitForConfirms();
      for (const q of [to, bcc]) {
        const m = await ch.get(q, { noAck: true });
        expect(m && m.content.toString(), q).toBe('stamped');
        expect(m && m.properties.timestamp, q).toBe(1_600_000_000);
        expect(m && m.properties.headers, q).toEqual({ 'x-h1': 'v1' });
      }
    } finally {
      await conn.close();
    }
  });
});

/**
 * Delayed delivery over AMQP 0-9-1 with stock clients, as RabbitMQ's delayed-message plugin
 * has it: an exchange of type `x-delayed-message` with `x-delayed-type`, header `x-delay` (ms).
 * amqplib and pika (Debian python3-pika). Timing is checked one way only: never early.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

const exec = promisify(execFile);
let broker: RunningBroker;
const url = (b: RunningBroker) => `amqp://guest:guest@127.0.0.1:${b.ports.amqp}`;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

async function delayedSetup(ch: amqp.Channel, ex: string, q: string, type = 'direct'): Promise<void> {
  await ch.assertExchange(ex, 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': type } });
  await ch.assertQueue(q, { durable: true });
  await ch.bindQueue(q, ex, 'k');
}

describe('x-delayed-message exchange (amqplib)', () => {
  it('delivers each message after its x-delay (100 ms .. 2.5 s), in due order, and at once without x-delay', async () => {
    const conn = await amqp.connect(url(broker));
    const ch = await conn.createConfirmChannel();
    await delayedSetup(ch, 'dx', 'dq');
    const got: { body: string; at: number }[] = [];
    const all = new Promise<void>((resolve) => {
      void ch.consume('dq', (m) => {
        if (!m) return;
        got.push({ body: m.content.toString(), at: Date.now() });
        ch.ack(m);
        if (got.length === 5) resolve();
      });
    });
    const sent = Date.now();
    for (const d of [2500, 1000, 300, 100]) ch.publish('dx', 'k', Buffer.from(String(d)), { persistent: true, headers: { 'x-delay': d } });
    ch.publish('dx', 'k', Buffer.from('now'), { persistent: true });
    await ch.waitForConfirms();
    await all;
    expect(got.map((g) => g.body)).toEqual(['now', '100', '300', '1000', '2500']);
    for (const g of got.slice(1)) expect(g.at - sent).toBeGreaterThanOrEqual(Number(g.body));
    await conn.close();
  });

  it('refuses an x-delayed-message exchange without x-delayed-type (406)', async () => {
    const conn = await amqp.connect(url(broker));
    const ch = await conn.createChannel();
    const closed = new Promise<Error>((r) => ch.on('error', r));
    await expect(ch.assertExchange('bad-dx', 'x-delayed-message', {})).rejects.toThrow(/406/);
    expect(String(await closed)).toMatch(/x-delayed-type/);
    await conn.close();
  });

  it('pika: publishes with x-delay and receives after it', async () => {
    const script = `
import pika, time, json, sys
c = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', int(sys.argv[1])))
ch = c.channel()
ch.exchange_declare('pika-dx', 'x-delayed-message', durable=True, arguments={'x-delayed-type': 'fanout'})
ch.queue_declare('pika-dq', durable=True)
ch.queue_bind('pika-dq', 'pika-dx', '')
ch.confirm_delivery()
t0 = time.time()
ch.basic_publish('pika-dx', '', b'hello', pika.BasicProperties(delivery_mode=2, headers={'x-delay': 700}))
early = ch.basic_get('pika-dq', auto_ack=True)[0] is not None
got = None
while got is None and time.time() - t0 < 10:
    m = ch.basic_get('pika-dq', auto_ack=True)
    if m[0] is not None: got = (m[2].decode(), m[1].headers.get('x-delay'), (time.time() - t0) * 1000)
    else: time.sleep(0.02)
print(json.dumps({'early': early, 'body': got[0], 'x-delay': got[1], 'elapsed_ok': got[2] >= 700}))
c.close()
`;
    const { stdout } = await exec('/usr/bin/python3', ['-c', script, String(broker.ports.amqp)]);
    expect(JSON.parse(stdout)).toEqual({ early: false, body: 'hello', 'x-delay': 700, elapsed_ok: true });
  });

  it('keeps delayed messages across a restart: minutes and hours checked by moving the broker clock', async () => {
    const b = await startBroker();
    try {
      let conn = await amqp.connect(url(b));
      let ch = await conn.createConfirmChannel();
      await delayedSetup(ch, 'dx2', 'dq2', 'topic');
      ch.publish('dx2', 'k', Buffer.from('2min'), { persistent: true, headers: { 'x-delay': 120_000 } });
      ch.publish('dx2', 'k', Buffer.from('3h'), { persistent: true, headers: { 'x-delay': 3 * 3_600_000 } });
      ch.publish('dx2', 'k', Buffer.from('2d'), { persistent: true, headers: { 'x-delay': 2 * 86_400_000 } });
      await ch.waitForConfirms();
      expect((await ch.checkQueue('dq2')).messageCount).toBe(0);
      await conn.close();
      await b.stop();
      // The machine's clock moved 3 hours and a minute while the broker was down.
      const later = await startBroker({ dataDir: b.dataDir, env: { POLYBROKER_TEST_CLOCK_OFFSET_MS: String(3 * 3_600_000 + 60_000) } });
      try {
        conn = await amqp.connect(url(later));
        ch = await conn.createConfirmChannel();
        const bodies: string[] = [];
        for (let i = 0; i < 500 && bodies.length < 2; i++) {
          const m = await ch.get('dq2', { noAck: true });
          if (m) bodies.push(m.content.toString());
          else await new Promise((r) => setTimeout(r, 10));
        }
        expect(bodies).toEqual(['2min', '3h']);
        expect((await ch.checkQueue('dq2')).messageCount).toBe(0);
        await conn.close();
      } finally {
        await later.stop();
      }
    } finally {
      await b.stop().catch(() => {});
    }
  });
});

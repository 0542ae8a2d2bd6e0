import { AMQPClient } from '@cloudamqp/amqp-client';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqpCallback from 'amqplib/callback_api';
import type { Scenario } from './scenario-kit.js';

const run = promisify(execFile);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/** Scenarios driven by the other stock clients: pika, amqp-tools, @cloudamqp/amqp-client, amqplib's callback API. */
export const STOCK_CLIENT_SCENARIOS: Scenario[] = [
  {
    name: 'pika-blocking-connection',
    async run(ctx) {
      const { stdout } = await run('/usr/bin/python3', [here('./pika_client.py'), ctx.host, String(ctx.port), ctx.id], { timeout: 30_000 });
      for (const [ev, data] of JSON.parse(stdout) as [string, unknown][]) ctx.log(ev, data);
    },
  },
  {
    name: 'amqp-tools',
    async run(ctx) {
      const server = ['-s', `${ctx.host}:${ctx.port}`];
      const q = `tools-${ctx.id}`;
      const declared = await run('amqp-declare-queue', [...server, '-q', q], { timeout: 10_000 });
      ctx.log('declare', declared.stdout.trim());
      for (const b of ['one', 'two', 'three']) await run('amqp-publish', [...server, '-r', q, '-b', b, '-p', '-C', 'text/plain'], { timeout: 10_000 });
      const consumed = await run('amqp-consume', [...server, '-q', q, '-c', '3', 'cat'], { timeout: 10_000 });
      ctx.log('consume', consumed.stdout);
      const deleted = await run('amqp-delete-queue', [...server, '-q', q], { timeout: 10_000 }).catch((e: { stdout?: string }) => ({ stdout: `failed ${e.stdout ?? ''}` }));
      ctx.log('delete', deleted.stdout.trim());
    },
  },
  {
    name: 'cloudamqp-amqp-client',
    async run(ctx) {
      const client = new AMQPClient(ctx.url);
      const conn = await client.connect();
      const ch = await conn.channel();
      const q = `cloud-${ctx.id}`;
      ctx.log('queue', await ch.queueDeclare(q, { durable: false }));
      await ch.confirmSelect();
      for (let i = 0; i < 10; i++) await ch.basicPublish('', q, `c${i}`, { deliveryMode: 2, headers: { n: i }, contentType: 'text/plain' });
      const first = await ch.basicGet(q, { noAck: false });
      ctx.log('get', { body: first?.bodyToString(), headers: first?.properties.headers, contentType: first?.properties.contentType, messageCount: first?.messageCount });
      await first?.reject(true);
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        ch.basicConsume(q, { noAck: false }, async (msg) => {
          got.push(`${msg.bodyToString()}${msg.redelivered ? '*' : ''}`);
          await msg.ack();
          if (got.length === 10) resolve();
        }).catch(reject);
      });
      ctx.log('consumed', got);
      try {
        await (await conn.channel()).queueDeclare(`missing-${ctx.id}`, { passive: true });
      } catch (e) {
        ctx.log('passive-missing', String((e as Error).message));
      }
      ctx.log('deleted', await ch.queueDelete(q));
      await conn.close();
    },
  },
  {
    name: 'amqplib-callback-api',
    async run(ctx) {
      const result = await new Promise<unknown[]>((resolve, reject) => {
        amqpCallback.connect(ctx.url, (err, conn) => {
          if (err) return reject(err);
          conn.createConfirmChannel((err2, ch) => {
            if (err2) return reject(err2);
            const q = `cb-${ctx.id}`;
            ch.assertQueue(q, { durable: false }, (err3) => {
              if (err3) return reject(err3);
              const out: unknown[] = [];
              ch.sendToQueue(q, Buffer.from('cb1'), {}, (e) => {
                out.push(e ? 'nack' : 'ack');
                ch.get(q, { noAck: true }, (e4, m) => {
                  if (e4) return reject(e4);
                  out.push(m ? m.content.toString() : false);
                  ch.deleteQueue(q, {}, () => conn.close(() => resolve(out)));
                });
              });
            });
          });
        });
      });
      ctx.log('callback', result);
    },
  },
];

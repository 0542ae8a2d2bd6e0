import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Core, Vhost } from '../../../src/core/index.js';
import { createAmqpAdapter } from '../../../protocols/amqp/adapter.js';
import { startAmqpServer, type AmqpServer } from './harness.js';
import { createServer, type Server } from 'node:net';
import { pino } from 'pino';

/**
 * INTERNAL_ERROR (541): an unexpected failure inside the broker closes only the connection it
 * happened on. The failure is injected: a core whose vhost throws a plain Error when a queue
 * named 'explode' is declared (no client can make the real core fail on purpose).
 */
function faultyCore(core: Core): Core {
  const wrapVhost = (v: Vhost): Vhost =>
    new Proxy(v, {
      get(target, prop, receiver) {
        if (prop === 'declareQueue') {
          return (name: string, ...rest: unknown[]) => {
            if (name === 'explode') throw new Error('injected failure');
            return (target.declareQueue as (...a: unknown[]) => unknown).call(target, name, ...rest);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return new Proxy(core, {
    get(target, prop, receiver) {
      if (prop === 'connect') {
        return (...args: Parameters<Core['connect']>) => {
          const conn = target.connect(...args);
          const vhost = wrapVhost(conn.vhost);
          return new Proxy(conn, { get: (t, p, r) => (p === 'vhost' ? vhost : (v => (typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v))(Reflect.get(t, p, r))) }) as Connection;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('INTERNAL_ERROR', () => {
  let server: AmqpServer;
  let tcp: Server;
  let port: number;
  beforeAll(async () => {
    server = await startAmqpServer();
    const adapter = createAmqpAdapter(faultyCore(server.core), { log: pino({ level: 'silent' }) });
    tcp = createServer((s) => adapter.accept(s, { listener: 'amqp', remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0, localPort: 0, tls: false }));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => tcp.close(() => r()));
    await server.close();
  });

  it('closes the failing connection with 541 and leaves the others working', async () => {
    const bystander = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const bch = await bystander.createChannel();
    const victim = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const closed = new Promise<Error>((r) => victim.on('error', (e: Error) => r(e)));
    const ch = await victim.createChannel();
    ch.on('error', () => {});
    await ch.assertQueue('explode').catch(() => {});
    const err = await closed;
    expect(err.message).toMatch(/541 \(INTERNAL-ERROR\) with message "INTERNAL_ERROR - injected failure"/);
    const ok = await bch.assertQueue('fine', { durable: false });
    expect(ok.queue).toBe('fine');
    await bystander.close();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import amqp from 'amqplib';
import { afterAll, beforeAll } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createCore, type Core, type CoreOptions } from '../../../src/core/index.js';
import type { ProtocolAdapter } from '../../../src/listeners/adapter.js';
import { createStore } from '../../../storage/index.js';
import { createAmqpAdapter, type AmqpAdapterOptions } from '../../../protocols/amqp/adapter.js';

/**
 * The AMQP adapter on a real core and store in this process, on a port-0 TCP listener.
 * `restart()` closes everything and reopens on the same data dir.
 */
export interface AmqpServer {
  port: number;
  core: Core;
  dir: string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startAmqpServer(options: AmqpAdapterOptions = {}, coreOptions: CoreOptions = {}, dataDir?: string): Promise<AmqpServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'polybroker-amqp-'));
  let core!: Core;
  let adapter!: ProtocolAdapter;
  const sockets = new Set<Socket>();
  const log = pino({ level: process.env.AMQP_TEST_LOG ?? 'silent' });

  async function open(): Promise<void> {
    const store = createStore({ dir, segmentBytes: 16 * 1024 * 1024, durability: 'sync', intervalMs: 50 });
    core = createCore(store, { durability: 'sync', sweepIntervalMs: 20, ...coreOptions });
    await core.open();
    adapter = createAmqpAdapter(core, { log }, options);
  }
  await open();

  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    adapter.accept(socket, { listener: 'amqp', remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, localPort: socket.localPort ?? 0, tls: false });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const port = (tcp.address() as { port: number }).port;

  async function shutdown(): Promise<void> {
    await adapter.close();
    for (const s of sockets) s.destroy();
    await core.close();
  }

  return {
    port,
    get core() {
      return core;
    },
    dir,
    async restart() {
      await shutdown();
      await open();
    },
    async close() {
      await shutdown();
      await new Promise<void>((r) => tcp.close(() => r()));
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a describe block: a server of its own and one amqplib connection to it, opened before its
 * tests and closed after them. `conn()` returns the connection.
 */
export function amqplibOnOwnServer(): { conn: () => amqp.ChannelModel } {
  let server: AmqpServer;
  let conn: amqp.ChannelModel;
  beforeAll(async () => {
    server = await startAmqpServer();
    conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await conn.close();
    await server.close();
  });
  return { conn: () => conn };
}

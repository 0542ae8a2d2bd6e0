import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { createCore, type Core, type CoreOptions } from '../../../src/core/index.js';
import type { ProtocolAdapter } from '../../../src/listeners/adapter.js';
import { websocketDuplex } from '../../../src/listeners/websocket-stream.js';
import { createStore } from '../../../storage/index.js';
import { createStompAdapter } from '../../../protocols/stomp/adapter.js';
import type { StompSessionOptions } from '../../../protocols/stomp/session.js';

/**
 * The STOMP adapter on a real core and store, in this process: a TCP listener and an HTTP
 * listener with WebSocket `/ws` (v10/v11/v12.stomp), both on port 0. `restart()` closes
 * everything and reopens on the same data dir (a broker restart).
 */
export interface StompServer {
  port: number;
  wsUrl: string;
  core: Core;
  /** The adapter, to hand it streams of a test's own (a socket that never drains). */
  adapter: ProtocolAdapter;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startStompServer(overrides: Partial<StompSessionOptions> = {}, coreOptions: CoreOptions = {}): Promise<StompServer> {
  const dir = mkdtempSync(join(tmpdir(), 'polybroker-stomp-'));
  let core: Core;
  let adapter: ProtocolAdapter;
  const sockets = new Set<Socket>();
  const log = pino({ level: process.env.STOMP_TEST_LOG ?? 'silent' });

  async function open(): Promise<void> {
    const store = createStore({ dir, segmentBytes: 16 * 1024 * 1024, durability: 'sync', intervalMs: 50 });
    core = createCore(store, { durability: 'sync', sweepIntervalMs: 100, ...coreOptions });
    await core.open();
    adapter = createStompAdapter(core, { log }, overrides);
  }
  await open();

  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    adapter.accept(socket, {
      listener: 'stomp',
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
      tls: false,
    });
  });
  const http: HttpServer = createHttpServer();
  const wss = new WebSocketServer({
    server: http,
    path: '/ws',
    handleProtocols: (protocols) => ['v12.stomp', 'v11.stomp', 'v10.stomp'].find((p) => protocols.has(p)) ?? false,
  });
  wss.on('connection', (ws, req) => {
    adapter.accept(websocketDuplex(ws, 'text-if-utf8'), {
      listener: 'http',
      remoteAddress: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort ?? 0,
      localPort: req.socket.localPort ?? 0,
      tls: false,
      websocket: { path: '/ws', protocol: ws.protocol },
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as { port: number }).port;
  const httpPort = (http.address() as { port: number }).port;

  async function shut(): Promise<void> {
    await adapter.close();
    for (const s of sockets) s.destroy();
    for (const c of wss.clients) c.terminate();
    await core.close();
  }

  return {
    port,
    wsUrl: `ws://127.0.0.1:${httpPort}/ws`,
    get core() {
      return core;
    },
    get adapter() {
      return adapter;
    },
    async restart() {
      await shut();
      await open();
    },
    async close() {
      await shut();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { ConnectionOrigin } from './adapter.js';
import { bindDualStack, normalizeAddress, type BoundAddress } from './bind.js';
import { websocketDuplex } from './websocket-stream.js';

/** A WebSocket endpoint: the path, the protocol adapter it feeds and the subprotocols it speaks (preferred first). */
interface WebSocketRoute {
  protocol: 'mqtt' | 'stomp';
  subprotocols: readonly string[];
  frames: 'binary' | 'text-if-utf8';
}

/** `/mqtt` as MQTT.js and Paho expect it; `/ws` as RabbitMQ's web-stomp serves STOMP. */
export const WEBSOCKET_ROUTES: Readonly<Record<string, WebSocketRoute>> = {
  '/mqtt': { protocol: 'mqtt', subprotocols: ['mqtt', 'mqttv3.1'], frames: 'binary' },
  '/ws': { protocol: 'stomp', subprotocols: ['v12.stomp', 'v11.stomp', 'v10.stomp'], frames: 'text-if-utf8' },
};

export interface HttpListenerOptions {
  log: Logger;
  /** A WebSocket connection for a protocol adapter, as a byte stream. */
  onWebSocket(protocol: 'mqtt' | 'stomp', stream: Duplex, origin: ConnectionOrigin): void;
  /** Body of `GET /api/health`; `status` other than `ok` answers 503. */
  health(): { status: string } & Record<string, unknown>;
  /** Body of `GET /` for non-browser clients. */
  about(): Record<string, unknown>;
  /**
   * The management API, metrics and web UI (src/management): answers the request and returns
   * true, or returns false to leave it to the listener (404).
   */
  management?(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** HTTPS: the TLS server options (tls-context.ts); the listener is then named `https`. */
  tls?: TlsOptions;
}

/**
 * The HTTP listener: a minimal JSON API (`/`, `/api/health`; the management API comes
 * later) and WebSocket upgrades for MQTT (`/mqtt`) and STOMP (`/ws`).
 */
/** Idle time before TCP keepalive probes start on a WebSocket connection. */
const WEBSOCKET_KEEPALIVE_IDLE_MS = 60_000;

export class HttpListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly wss = new Map<string, WebSocketServer>();
  address: BoundAddress | undefined;

  constructor(private readonly options: HttpListenerOptions) {
    this.server = options.tls ? createHttpsServer(options.tls, (req, res) => this.request(req, res)) : createServer((req, res) => this.request(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    this.server.on('error', (err) => options.log.error({ err, listener: 'http' }, 'listener error'));
    for (const [path, route] of Object.entries(WEBSOCKET_ROUTES)) {
      this.wss.set(
        path,
        new WebSocketServer({
          noServer: true,
          // Pick our most preferred subprotocol the client offers; none offered in common: none chosen.
          handleProtocols: (offered: Set<string>) => route.subprotocols.find((p) => offered.has(p)) ?? false,
        }),
      );
    }
  }

  async listen(host: string, port: number): Promise<BoundAddress> {
    this.address = await bindDualStack(this.server, this.options.tls ? 'https' : 'http', host, port);
    return this.address;
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const send = (status: number, body: unknown) => {
      if (res.headersSent) return;
      const text = JSON.stringify(body) + '\n';
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    const isGet = req.method === 'GET' || req.method === 'HEAD';
    const browser = (req.headers.accept ?? '').includes('text/html');
    if (isGet && path === '/api/health') {
      const health = this.options.health();
      send(health.status === 'ok' ? 200 : 503, health);
    } else if (isGet && path === '/' && !browser) {
      send(200, this.options.about());
    } else if (this.options.management) {
      this.options.management(req, res).then(
        (handled) => {
          if (!handled) send(404, { error: 'not found', path });
        },
        (err: unknown) => {
          this.options.log.error({ err, path }, 'management request failed');
          send(500, { error: 'internal_error', reason: String(err) });
        },
      );
    } else if (!isGet) {
      res.setHeader('allow', 'GET, HEAD');
      send(405, { error: 'method not allowed' });
    } else {
      send(404, { error: 'not found', path });
    }
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = WEBSOCKET_ROUTES[path];
    const wss = this.wss.get(path);
    if (!route || !wss) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // A client that vanished without a FIN (power loss, NAT timeout) and sends no heart-beats
      // or pings is found by TCP keepalive, as on the plain protocol listeners.
      socket.setKeepAlive(true, WEBSOCKET_KEEPALIVE_IDLE_MS);
      const origin: ConnectionOrigin = {
        listener: 'http',
        remoteAddress: normalizeAddress(socket.remoteAddress),
        remotePort: socket.remotePort ?? 0,
        localPort: socket.localPort ?? 0,
        tls: this.options.tls !== undefined,
        websocket: { path, protocol: ws.protocol },
      };
      const stream = websocketDuplex(ws, route.frames);
      try {
        this.options.onWebSocket(route.protocol, stream, origin);
      } catch (err) {
        this.options.log.error({ err, listener: 'http', path }, 'WebSocket handler failed; closing the connection');
        stream.destroy();
      }
    });
  }

  /** HTTPS: swaps the certificate for new connections. */
  setSecureContext(options: SecureContextOptions): void {
    if (this.options.tls) (this.server as HttpsServer).setSecureContext(options);
  }

  stopAccepting(): void {
    if (this.server.listening) this.server.close();
    this.server.closeIdleConnections();
  }

  openConnections(): number {
    return this.sockets.size;
  }

  destroyConnections(): void {
    for (const wss of this.wss.values()) {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    }
    for (const socket of this.sockets) socket.destroy();
  }
}

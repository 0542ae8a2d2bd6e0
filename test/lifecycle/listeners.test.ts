import { connect } from 'node:net';
import { Writable, type Duplex } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Broker } from '../../src/broker.js';
import { parseConfig } from '../../src/config/index.js';
import type { ConnectionOrigin } from '../../src/listeners/adapter.js';
import { HttpListener } from '../../src/listeners/http-listener.js';
import { TcpListener } from '../../src/listeners/tcp-listener.js';
import { tempDir } from '../helpers/broker.js';

/** A pino logger whose lines the test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function untilClosed(ws: WebSocket): Promise<{ code: number }> {
  return new Promise((resolve) => ws.once('close', (code) => resolve({ code })));
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary }));
    ws.once('error', reject);
  });
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

describe('listeners without an adapter', () => {
  async function startRefusingBroker() {
    const { log, lines } = capturedLogger();
    const config = parseConfig('', 'test', {
      env: {
        POLYBROKER_DATA_DIR: tempDir(),
        POLYBROKER_AMQP_HOST: '127.0.0.1',
        POLYBROKER_AMQP_PORT: '0',
        POLYBROKER_MQTT_HOST: '127.0.0.1',
        POLYBROKER_MQTT_PORT: '0',
        POLYBROKER_STOMP_HOST: '127.0.0.1',
        POLYBROKER_STOMP_PORT: '0',
        POLYBROKER_KAFKA_HOST: '127.0.0.1',
        POLYBROKER_KAFKA_PORT: '0',
        POLYBROKER_HTTP_HOST: '127.0.0.1',
        POLYBROKER_HTTP_PORT: '0',
      },
    });
    // An empty adapter table: every protocol is "not built yet".
    const broker = new Broker({ config, configSource: 'test', log, adapters: {} });
    await broker.start();
    cleanups.push(() => broker.stop());
    return { broker, lines };
  }

  it('still bind their port and close each connection with a log line', async () => {
    const { broker, lines } = await startRefusingBroker();
    for (const name of ['amqp', 'mqtt', 'stomp', 'kafka'] as const) {
      const port = broker.listeners.get(name)!.port;
      expect(port).toBeGreaterThan(0);
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', () => {}); // a reset is as good as a close here
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(lines.some((l) => l.msg === `no ${name} adapter yet: connection closed` && l.listener === name)).toBe(true);
    }
    const ready = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('polybroker ready'));
    expect(ready?.msg).toContain('no adapter yet, refusing: amqp, mqtt, stomp, kafka');
  });

  it('close WebSocket connections on /mqtt and /ws too', async () => {
    const { broker, lines } = await startRefusingBroker();
    const port = broker.listeners.get('http')!.port;
    for (const [path, protocol] of [['/mqtt', 'mqtt'], ['/ws', 'v12.stomp']] as const) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, [protocol]);
      ws.on('error', () => {});
      await untilClosed(ws);
    }
    expect(lines.filter((l) => l.msg === 'no mqtt adapter yet: connection closed' && l.websocket === '/mqtt')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'no stomp adapter yet: connection closed' && l.websocket === '/ws')).toHaveLength(1);
  });
});

describe('TcpListener', () => {
  it('hands accepted sockets to its handler with their origin, on IPv4 and IPv6 of a dual-stack bind', async () => {
    const { log } = capturedLogger();
    const origins: ConnectionOrigin[] = [];
    const listener = new TcpListener('amqp', (socket, origin) => {
      origins.push(origin);
      socket.end('hello');
    }, log);
    const bound = await listener.listen('::', 0);
    cleanups.push(() => {
      listener.stopAccepting();
      listener.destroyConnections();
    });
    for (const host of ['127.0.0.1', '::1']) {
      const socket = connect({ host, port: bound.port });
      const received = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.once('end', () => resolve(text));
      });
      expect(received).toBe('hello');
    }
    expect(origins.map((o) => o.remoteAddress)).toEqual(['127.0.0.1', '::1']);
    expect(origins.every((o) => o.listener === 'amqp' && o.localPort === bound.port && o.remotePort > 0 && !o.tls)).toBe(true);
  });
});

describe('HttpListener WebSocket routes', () => {
  async function echoListener() {
    const { log } = capturedLogger();
    const accepted: { protocol: string; origin: ConnectionOrigin }[] = [];
    const listener = new HttpListener({
      log,
      onWebSocket: (protocol, stream: Duplex, origin) => {
        accepted.push({ protocol, origin });
        stream.on('data', (chunk: Buffer) => stream.write(chunk));
      },
      health: () => ({ status: 'ok' }),
      about: () => ({ name: 'test' }),
    });
    const bound = await listener.listen('127.0.0.1', 0);
    cleanups.push(() => {
      listener.stopAccepting();
      listener.destroyConnections();
    });
    return { port: bound.port, accepted };
  }

  it('/mqtt negotiates subprotocol mqtt and carries binary frames both ways', async () => {
    const { port, accepted } = await echoListener();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ['mqtt']);
    await opened(ws);
    expect(ws.protocol).toBe('mqtt');
    ws.send(Buffer.from([0xc0, 0x00])); // PINGREQ
    const reply = await nextMessage(ws);
    expect(reply.isBinary).toBe(true);
    expect([...reply.data]).toEqual([0xc0, 0x00]);
    expect(accepted).toEqual([
      { protocol: 'mqtt', origin: expect.objectContaining({ listener: 'http', remoteAddress: '127.0.0.1', tls: false, websocket: { path: '/mqtt', protocol: 'mqtt' } }) },
    ]);
    const closed = untilClosed(ws);
    ws.close();
    await closed;
  });

  it('/ws picks the newest STOMP version offered and sends UTF-8 frames as text, other bytes as binary', async () => {
    const { port, accepted } = await echoListener();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['v10.stomp', 'v11.stomp', 'v12.stomp']);
    await opened(ws);
    expect(ws.protocol).toBe('v12.stomp');
    ws.send('CONNECT\naccept-version:1.2\n\n\0');
    const text = await nextMessage(ws);
    expect(text.isBinary).toBe(false);
    expect(text.data.toString()).toBe('CONNECT\naccept-version:1.2\n\n\0');
    ws.send(Buffer.from([0xff, 0xfe, 0x00]));
    const binary = await nextMessage(ws);
    expect(binary.isBinary).toBe(true);
    expect(accepted[0]).toMatchObject({ protocol: 'stomp', origin: { websocket: { path: '/ws', protocol: 'v12.stomp' } } });
    const closed = untilClosed(ws);
    ws.close();
    await closed;
  });

  it('answers 404 to an upgrade on another path', async () => {
    const { port, accepted } = await echoListener();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toContain('404');
    expect(accepted).toEqual([]);
  });

  it('ends the adapter stream when the client closes', async () => {
    const { log } = capturedLogger();
    let streamClosed!: () => void;
    const closedPromise = new Promise<void>((resolve) => (streamClosed = resolve));
    const listener = new HttpListener({
      log,
      onWebSocket: (_p, stream) => {
        stream.resume();
        stream.once('close', () => streamClosed());
      },
      health: () => ({ status: 'ok' }),
      about: () => ({}),
    });
    const { port } = await listener.listen('127.0.0.1', 0);
    cleanups.push(() => {
      listener.stopAccepting();
      listener.destroyConnections();
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ['mqtt']);
    await opened(ws);
    ws.close();
    await closedPromise;
  });

  it('delivers what the client sent just before closing, then ends the stream', async () => {
    const { log } = capturedLogger();
    let resolveText!: (text: string) => void;
    const textAtEnd = new Promise<string>((resolve) => (resolveText = resolve));
    const listener = new HttpListener({
      log,
      onWebSocket: (_p, stream) => {
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.once('end', () => resolveText(text));
      },
      health: () => ({ status: 'ok' }),
      about: () => ({}),
    });
    const { port } = await listener.listen('127.0.0.1', 0);
    cleanups.push(() => {
      listener.stopAccepting();
      listener.destroyConnections();
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['v12.stomp']);
    await opened(ws);
    ws.send('DISCONNECT\n\n\0');
    ws.close();
    expect(await textAtEnd).toBe('DISCONNECT\n\n\0');
  });
});

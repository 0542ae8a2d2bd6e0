/**
 * Fuzz test against every listener, plain and TLS: many connections at once send random bytes
 * and mutated valid frames (AMQP, MQTT, STOMP, Kafka, HTTP/WebSocket), including garbage in
 * place of and in the middle of TLS handshakes. Meanwhile well-behaved amqplib and mqtt.js
 * clients do round trips on their own connections. The broker must stay up, its memory stay
 * bounded, and every well-behaved round trip succeed. Seeded: a failure prints the seed
 * (FUZZ_SEED=<n> reruns it).
 */
import amqp from 'amqplib';
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 15_000);
const PARALLEL = 48;
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

/** mulberry32: small, seedable. */
function prng(s: number): () => number {
  return () => {
    s |= 0;
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(seed);
const int = (n: number) => Math.floor(rand() * n);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

function kafkaRequest(apiKey: number, version: number, body: Buffer): Buffer {
  const clientId = Buffer.from('fuzz');
  const head = Buffer.alloc(10);
  head.writeInt16BE(apiKey, 0);
  head.writeInt16BE(version, 2);
  head.writeInt32BE(int(1 << 30), 4);
  head.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([head, clientId, body]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(payload.length, 0);
  return Buffer.concat([len, payload]);
}

/** Valid openings per protocol, to be mutated. */
const SEEDS: Record<string, Buffer[]> = {
  amqp: [
    Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'),
    Buffer.concat([Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'), Buffer.from([1, 0, 0, 0, 0, 0, 12, 0, 10, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0xce])]),
  ],
  mqtt: [
    mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'fuzz', keepalive: 10 }),
    Buffer.concat([
      mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: '', keepalive: 10 }),
      mqttPacket.generate({ cmd: 'publish', topic: 'fuzz/t', payload: Buffer.from('x'), qos: 1, messageId: 7, retain: false, dup: false }),
      mqttPacket.generate({ cmd: 'subscribe', messageId: 8, subscriptions: [{ topic: 'fuzz/#', qos: 1 }] }),
    ]),
  ],
  stomp: [Buffer.from('CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\n\n\0SEND\ndestination:/queue/fuzz\ncontent-length:4\n\nbody\0SUBSCRIBE\nid:1\ndestination:/topic/fuzz\n\n\0')],
  kafka: [kafkaRequest(18, 0, Buffer.alloc(0)), Buffer.concat([kafkaRequest(18, 3, Buffer.from([0, 0, 0])), kafkaRequest(3, 1, Buffer.from([0, 0, 0, 1, 0, 4, 0x66, 0x75, 0x7a, 0x7a]))])],
  http: [
    Buffer.from('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from('GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n'),
  ],
};

function mutate(b: Buffer): Buffer {
  const out = Buffer.from(b);
  switch (int(5)) {
    case 0: // flip bytes
      for (let i = 0; i < 1 + int(8); i++) out[int(out.length)] = int(256);
      return out;
    case 1: // truncate
      return out.subarray(0, int(out.length));
    case 2: // hostile length prefix somewhere
      if (out.length >= 8) out.writeUInt32BE(0xfffffff0 - int(1000), int(out.length - 4));
      return out;
    case 3: // append garbage
      return Buffer.concat([out, randomBytes(int(4096))]);
    default: // repeat a slice many times
      return Buffer.concat(Array.from({ length: 2 + int(50) }, () => out.subarray(int(out.length))));
  }
}

function payloadFor(protocol: string): Buffer {
  if (rand() < 0.25) return randomBytes(1 + int(8192));
  const seeds = SEEDS[protocol]!;
  return mutate(seeds[int(seeds.length)]!);
}

let certs: TestCerts;
let broker: RunningBroker;

beforeAll(async () => {
  certs = makeTestCerts();
  broker = await startBroker({
    config: {
      listeners: { amqps: { enabled: true }, mqtts: { enabled: true }, stomps: { enabled: true }, kafkas: { enabled: true }, https: { enabled: true } },
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientCertificates: 'optional' },
      limits: { tlsHandshakeTimeoutMs: 2000 },
      amqp: { handshakeTimeoutMs: 2000 },
      auth: { failedLoginDelayMs: 0 },
    },
  });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** One hostile connection: writes fuzz in a few bursts, then closes (or leaves it to the broker). */
function hostile(listener: string): Promise<void> {
  const protocol = listener.replace(/s$/, '') === 'http' || listener === 'https' ? 'http' : listener.replace(/s$/, '');
  const port = broker.ports[listener as keyof typeof broker.ports];
  const tlsListener = listener.endsWith('s') && listener !== 'https' ? true : listener === 'https';
  return new Promise<void>((resolve) => {
    let socket: Socket;
    const mode = int(3);
    if (tlsListener && mode === 0) {
      // Garbage in place of a ClientHello, sometimes looking like a handshake record.
      socket = createConnection(port, '127.0.0.1');
      socket.on('connect', () => socket.write(rand() < 0.5 ? Buffer.concat([Buffer.from([0x16, 3, 1]), randomBytes(2 + int(600))]) : randomBytes(1 + int(2000))));
    } else if (tlsListener) {
      // A real handshake, then fuzz inside TLS (or a reset mid-handshake).
      socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => socket.write(payloadFor(protocol)));
      if (mode === 1 && rand() < 0.5) setImmediate(() => socket.destroy());
    } else {
      socket = createConnection(port, '127.0.0.1');
      socket.on('connect', () => socket.write(payloadFor(protocol)));
    }
    socket.on('error', () => {});
    socket.on('data', () => {
      if (rand() < 0.3) socket.write(payloadFor(protocol));
    });
    socket.once('close', () => resolve());
    // Leave some open until the broker's handshake timeout, end the others soon.
    setTimeout(() => socket.destroy(), rand() < 0.2 ? 3000 : 50 + int(500)).unref();
  });
}

describe('fuzz', () => {
  it(`keeps serving well-behaved clients while every listener is fuzzed (seed ${seed})`, async () => {
    const listeners = ['amqp', 'mqtt', 'stomp', 'kafka', 'http', 'amqps', 'mqtts', 'stomps', 'kafkas', 'https'];
    const rssBefore = rssBytes(broker.pid);
    const deadline = Date.now() + FUZZ_MS;

    // Well-behaved clients on their own connections, doing round trips all along.
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('fuzz-good', { durable: false });
    const mq = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.ports.mqtts}`, { ca: readFileSync(certs.ca), servername: 'localhost', reconnectPeriod: 0, clientId: 'fuzz-good' });
    await mq.subscribeAsync('good/#', { qos: 1 });
    let amqpRoundTrips = 0;
    let mqttRoundTrips = 0;
    const good = (async () => {
      while (Date.now() < deadline) {
        ch.sendToQueue('fuzz-good', Buffer.from(String(amqpRoundTrips)));
        await ch.waitForConfirms();
        const m = await ch.get('fuzz-good', { noAck: true });
        expect(m && m.content.toString()).toBe(String(amqpRoundTrips));
        amqpRoundTrips++;
        const got = new Promise<string>((resolve) => mq.once('message', (_t, p) => resolve(p.toString())));
        await mq.publishAsync('good/x', String(mqttRoundTrips), { qos: 1 });
        expect(await got).toBe(String(mqttRoundTrips));
        mqttRoundTrips++;
      }
    })();

    let hostileConnections = 0;
    const workers = Array.from({ length: PARALLEL }, async () => {
      while (Date.now() < deadline) {
        await hostile(listeners[int(listeners.length)]!);
        hostileConnections++;
      }
    });
    await Promise.all([good, ...workers]);

    const health = await fetch(`http://127.0.0.1:${broker.ports.http}/api/health`);
    expect(health.status).toBe(200);
    const rssAfter = rssBytes(broker.pid);
    console.log(`fuzz seed ${seed}: ${hostileConnections} hostile connections, ${amqpRoundTrips} AMQP and ${mqttRoundTrips} MQTTS round trips, RSS ${Math.round(rssBefore / 2 ** 20)} -> ${Math.round(rssAfter / 2 ** 20)} MiB`);
    expect(hostileConnections).toBeGreaterThan(PARALLEL);
    expect(amqpRoundTrips).toBeGreaterThan(0);
    expect(mqttRoundTrips).toBeGreaterThan(0);
    // Bounded: fuzzing must not grow the broker by more than a fixed allowance.
    expect(rssAfter - rssBefore).toBeLessThan(300 * 2 ** 20);
    await mq.endAsync();
    await conn.close();
    // The process never exited.
    expect(broker.output()).not.toMatch(/uncaught|FATAL/i);
  }, 90_000);
});

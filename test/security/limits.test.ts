/**
 * Abuse limits (docs/security.md "Limits"), each hit from a client: connections in total and
 * per user (AMQP and MQTT), the protocol and TLS handshake timeouts, MQTT's in-flight limit, and the
 * message size. The output cap is in output-limit.test.ts.
 */
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/certs.js';

let broker: RunningBroker;

beforeAll(async () => {
  const certs = makeTestCerts();
  broker = await startBroker({
    config: {
      listeners: { amqps: { enabled: true } },
      tls: { cert: certs.serverCert, key: certs.serverKey },
      limits: { maxConnections: 4, maxConnectionsPerUser: 2, tlsHandshakeTimeoutMs: 300, maxMessageBytes: 4096 },
      amqp: { handshakeTimeoutMs: 300 },
      mqtt: { receiveMaximum: 2 },
      auth: { failedLoginDelayMs: 0 },
      users: [
        { name: 'alice', password: 'pw', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
        { name: 'capper', password: 'pw', permissions: { capped: { configure: '.*', write: '.*', read: '.*' } } },
      ],
      vhosts: { capped: { limits: { maxConnections: 1 } } },
    },
  });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

async function amqpConnections(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${broker.ports.http}/api/health`);
  return ((await res.json()) as { connections: { amqp: number } }).connections.amqp;
}

function closedWithin(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('connection limits', () => {
  it('limits.maxConnectionsPerUser refuses a third connection of one user (530 at connection.open); limits.maxConnections closes the fifth at accept', async () => {
    const url = (u: string) => `amqp://${u}@127.0.0.1:${broker.ports.amqp}`;
    const a1 = await amqp.connect(url('alice:pw'));
    const a2 = await amqp.connect(url('alice:pw'));
    await expect(amqp.connect(url('alice:pw'))).rejects.toThrow(/ConnectionClose/);
    // The broker's log line may reach its stdout after the client saw the close.
    await expect.poll(() => broker.output()).toContain("user 'alice' has reached its limit of 2 connections");
    // The refused connection must be gone before the total is counted again.
    await expect.poll(amqpConnections).toBe(2);
    const g1 = await amqp.connect(url('guest:guest'));
    const g2 = await amqp.connect(url('guest:guest'));
    // Four open: the fifth is closed before any protocol byte.
    await expect(amqp.connect(url('guest:guest'))).rejects.toThrow();
    await expect.poll(() => broker.output()).toContain('connection limit reached (limits.maxConnections)');
    await g2.close();
    await expect.poll(amqpConnections).toBe(3);
    const g3 = await amqp.connect(url('guest:guest'));
    for (const c of [a1, a2, g1, g3]) await c.close();
  });

  it('limits.maxConnectionsPerUser refuses an MQTT CONNECT in its CONNACK (0x97 Quota exceeded) when the user has its connections on AMQP', async () => {
    const url = `amqp://alice:pw@127.0.0.1:${broker.ports.amqp}`;
    const a1 = await amqp.connect(url);
    const a2 = await amqp.connect(url);
    const refused = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'alice-refused', protocolVersion: 5, username: 'alice', password: 'pw', reconnectPeriod: 0 })
      .then(() => null, (e: Error & { code?: number }) => e);
    expect(refused?.code).toBe(0x97);
    // Refused before any session state: no session is left behind.
    const sessions = await fetch(`http://127.0.0.1:${broker.ports.http}/api/mqtt/sessions`, { headers: { authorization: 'Basic ' + Buffer.from('guest:guest').toString('base64') } });
    expect(((await sessions.json()) as { client_id: string }[]).map((x) => x.client_id)).not.toContain('alice-refused');
    await a2.close();
    await expect.poll(amqpConnections).toBe(1);
    const ok = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, username: 'alice', password: 'pw', reconnectPeriod: 0 });
    await ok.endAsync();
    await a1.close();
  });
});

describe('vhost limits', () => {
  it('vhosts.<name>.limits.maxConnections refuses the second AMQP connection to the vhost at connection.open; a close frees the slot', async () => {
    const url = `amqp://capper:pw@127.0.0.1:${broker.ports.amqp}/capped`;
    const first = await amqp.connect(url);
    await expect(amqp.connect(url)).rejects.toThrow(/got <ConnectionClose/);
    await expect.poll(() => broker.output()).toContain("connection limit (1) of vhost 'capped' is reached");
    await first.close();
    await expect.poll(async () => amqp.connect(url).then((c) => c.close().then(() => true), () => false)).toBe(true);
  });
});

describe('handshake timeouts', () => {
  it('amqp.handshakeTimeoutMs closes a connection that never sends the protocol header', async () => {
    const s = createConnection(broker.ports.amqp, '127.0.0.1');
    await closedWithin(s);
  });

  it('limits.tlsHandshakeTimeoutMs closes a TLS connection that never says ClientHello', async () => {
    const s = createConnection(broker.ports.amqps, '127.0.0.1');
    await closedWithin(s);
  });
});

/** An MQTT 5 packet: fixed header byte, remaining length (varint), body. */
function mqttPacket(first: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...len]), body]);
}

const mqttString = (s: string) => Buffer.concat([Buffer.from([s.length >> 8, s.length & 0xff]), Buffer.from(s)]);

describe('MQTT in-flight limit', () => {
  it('mqtt.receiveMaximum: a third QoS 2 PUBLISH while two wait for PUBREL gets DISCONNECT 0x93', async () => {
    const s = createConnection(broker.ports.mqtt, '127.0.0.1');
    let seen = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (seen = Buffer.concat([seen, d])));
    // CONNECT: "MQTT" level 5, clean start, keep-alive 60, no properties, client id.
    s.write(mqttPacket(0x10, Buffer.concat([mqttString('MQTT'), Buffer.from([5, 0x02, 0, 60, 0]), mqttString('rm-client')])));
    await expect.poll(() => seen[0] === 0x20).toBe(true);
    const publish = (id: number) => mqttPacket(0x34, Buffer.concat([mqttString('limits/rm'), Buffer.from([0, id, 0]), Buffer.from('x')]));
    const closed = closedWithin(s);
    s.write(Buffer.concat([publish(1), publish(2), publish(3)]));
    await closed;
    // After the CONNACK (and any PUBREC already written): DISCONNECT (0xE0) with reason 0x93 Receive Maximum exceeded.
    const disconnect = seen.indexOf(0xe0, seen[1]! + 2);
    expect(disconnect).toBeGreaterThan(0);
    expect(seen[disconnect + 2]).toBe(0x93);
  });
});

describe('message size', () => {
  const big = Buffer.alloc(8192, 1);
  it('limits.maxMessageBytes: AMQP closes the channel with 406', async () => {
    const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await c.createConfirmChannel();
    const closed = new Promise<Error>((resolve) => ch.on('error', resolve));
    ch.publish('', 'nowhere', big);
    expect((await closed).message).toMatch(/406|PRECONDITION_FAILED|larger/i);
    await c.close().catch(() => {});
  }, 15_000);

  it('limits.maxMessageBytes: an MQTT 5 QoS 1 publish gets PUBACK 0x83 (a code PUBACK may carry) and the connection goes on', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: 5, reconnectPeriod: 0 });
    const failed = await c.publishAsync('limits/big', big, { qos: 1 }).then(() => null, (e: Error & { code?: number }) => e);
    expect(failed?.code).toBe(0x83);
    expect(await c.publishAsync('limits/small', Buffer.from('ok'), { qos: 1 })).toBeDefined();
    await c.endAsync();
  }, 15_000);

  it('limits.maxMessageBytes: STOMP ERROR, and the broker keeps serving', async () => {
    const s = createConnection(broker.ports.stomp, '127.0.0.1');
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
    s.write(`SEND\ndestination:/queue/big\ncontent-length:${big.length}\n\n`);
    s.write(Buffer.concat([big, Buffer.from([0])]));
    await expect.poll(() => text.includes('ERROR')).toBe(true);
    s.destroy();
    const ok = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    await ok.close();
  }, 15_000);
});

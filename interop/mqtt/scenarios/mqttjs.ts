import net from 'node:net';
import { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IConnackPacket, IPublishPacket } from 'mqtt-packet';
import { ScramClient } from '../../../test/protocols/mqtt/scram-client.js';
import type { MqttTarget } from '../lib/target.js';

/**
 * Scenarios driven by mqtt.js (the stock npm client), for protocol levels 4 (3.1.1) and 5.
 * Each returns an observation (plain JSON) that the interop test compares with `expected`
 * and the diff compares between brokers.
 */
export interface Scenario {
  name: string;
  /** Uses broker restarts: polybroker only. */
  restart?: boolean;
  /** Needs something only polybroker offers here (the WebSocket listener). */
  polybrokerOnly?: boolean;
  run(t: MqttTarget): Promise<unknown>;
  expected: unknown;
}

interface Client {
  c: MqttClient;
  msgs: { topic: string; payload: string; packet: IPublishPacket }[];
  waitFor(n: number, timeoutMs?: number): Promise<Client['msgs']>;
  /** Resolves once `ms` passed (used only to show nothing more arrives). */
  end(): Promise<void>;
  connack: { sessionPresent: boolean };
}

async function client(t: MqttTarget, opts: IClientOptions): Promise<Client> {
  const c = mqtt.connect({ host: t.host, port: t.port, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  const msgs: Client['msgs'] = [];
  let waiters: (() => void)[] = [];
  c.on('message', (topic, payload, packet) => {
    msgs.push({ topic, payload: payload.toString(), packet });
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    c.once('connect', (p) => resolve({ sessionPresent: p.sessionPresent }));
    c.once('error', reject);
  });
  return {
    c,
    msgs,
    connack,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = setTimeout(() => { for (const f of waiters) f(); waiters = []; }, timeoutMs);
      const start = Date.now();
      while (msgs.length < n && Date.now() - start < timeoutMs) await new Promise<void>((r) => waiters.push(r));
      clearTimeout(deadline);
      return msgs.slice(0, n);
    },
    async end() {
      await c.endAsync();
    },
  };
}

/** A marker published after the messages under test: everything before it has been routed. */
async function marker(pub: Client, topic: string): Promise<void> {
  await pub.c.publishAsync(topic, '__marker__', { qos: 1 });
}

function levels(): (4 | 5)[] {
  return [4, 5];
}

const scenarios: Scenario[] = [];

for (const v of levels()) {
  for (const qos of [0, 1, 2] as const) {
    scenarios.push({
      name: `mqtt.js v${v} QoS ${qos} publish/subscribe in order`,
      async run(t) {
        const sub = await client(t, { protocolVersion: v, clientId: `${t.prefix}s` });
        const pub = await client(t, { protocolVersion: v, clientId: `${t.prefix}p` });
        await sub.c.subscribeAsync(`${t.prefix}/q/+`, { qos });
        for (let i = 0; i < 10; i++) await pub.c.publishAsync(`${t.prefix}/q/${i % 2}`, `m${i}`, { qos });
        const got = await sub.waitFor(10);
        await pub.end();
        await sub.end();
        return got.map((m) => `${m.topic.slice(t.prefix.length)} ${m.payload} q${m.packet.qos}`);
      },
      expected: Array.from({ length: 10 }, (_, i) => `/q/${i % 2} m${i} q${qos}`),
    });
  }

  scenarios.push({
    name: `mqtt.js v${v} retained messages to a wildcard subscription (overwrite, clear)`,
    async run(t) {
      const pub = await client(t, { protocolVersion: v, clientId: `${t.prefix}p` });
      await pub.c.publishAsync(`${t.prefix}/r/a`, '1', { qos: 1, retain: true });
      await pub.c.publishAsync(`${t.prefix}/r/b`, '2', { qos: 1, retain: true });
      await pub.c.publishAsync(`${t.prefix}/r/b`, '3', { qos: 1, retain: true });
      await pub.c.publishAsync(`${t.prefix}/r/c`, '4', { qos: 1, retain: true });
      await pub.c.publishAsync(`${t.prefix}/r/c`, '', { qos: 1, retain: true });
      const sub = await client(t, { protocolVersion: v, clientId: `${t.prefix}s` });
      await sub.c.subscribeAsync(`${t.prefix}/r/#`, { qos: 1 });
      await marker(pub, `${t.prefix}/r/z`);
      const got = await sub.waitFor(3);
      await pub.end();
      await sub.end();
      return got.map((m) => `${m.topic.slice(t.prefix.length)}=${m.payload} retain=${m.packet.retain}`).sort();
    },
    expected: ['/r/a=1 retain=true', '/r/b=3 retain=true', '/r/z=__marker__ retain=false'],
  });

  scenarios.push({
    name: `mqtt.js v${v} will message on a killed client, none on DISCONNECT`,
    async run(t) {
      const watch = await client(t, { protocolVersion: v, clientId: `${t.prefix}w` });
      await watch.c.subscribeAsync(`${t.prefix}/will/#`, { qos: 1 });
      const killed = await client(t, { protocolVersion: v, clientId: `${t.prefix}k`, will: { topic: `${t.prefix}/will/k`, payload: Buffer.from('lost'), qos: 1, retain: false } });
      const polite = await client(t, { protocolVersion: v, clientId: `${t.prefix}o`, will: { topic: `${t.prefix}/will/o`, payload: Buffer.from('lost'), qos: 1, retain: false } });
      await polite.end();
      killed.c.stream.destroy();
      const got = await watch.waitFor(1);
      const pub = await client(t, { protocolVersion: v, clientId: `${t.prefix}p` });
      await marker(pub, `${t.prefix}/will/z`);
      const all = await watch.waitFor(2);
      killed.c.end(true);
      await pub.end();
      await watch.end();
      return { first: got.map((m) => m.topic.slice(t.prefix.length)), all: all.map((m) => m.topic.slice(t.prefix.length)) };
    },
    expected: { first: ['/will/k'], all: ['/will/k', '/will/z'] },
  });

  scenarios.push({
    name: `mqtt.js v${v} persistent session keeps subscriptions and QoS 1 messages while offline`,
    async run(t) {
      const sessionOpts: IClientOptions = v === 5
        ? { protocolVersion: 5, clean: false, clientId: `${t.prefix}d`, properties: { sessionExpiryInterval: 300 } }
        : { protocolVersion: 4, clean: false, clientId: `${t.prefix}d` };
      const first = await client(t, sessionOpts);
      await first.c.subscribeAsync(`${t.prefix}/cmd/#`, { qos: 1 });
      await first.end();
      const pub = await client(t, { protocolVersion: v, clientId: `${t.prefix}p` });
      for (let i = 0; i < 5; i++) await pub.c.publishAsync(`${t.prefix}/cmd/x`, `c${i}`, { qos: 1 });
      const again = await client(t, sessionOpts);
      const got = await again.waitFor(5);
      await pub.end();
      await again.end();
      // Leave nothing behind on a peer.
      const clean = await client(t, { ...sessionOpts, clean: true, properties: {} });
      await clean.end();
      return { firstPresent: first.connack.sessionPresent, sessionPresent: again.connack.sessionPresent, got: got.map((m) => m.payload) };
    },
    expected: { firstPresent: false, sessionPresent: true, got: ['c0', 'c1', 'c2', 'c3', 'c4'] },
  });

  scenarios.push({
    name: `mqtt.js v${v} QoS 2 exactly once with a publisher that drops between PUBREC and PUBREL`,
    async run(t) {
      const sub = await client(t, { protocolVersion: v, clientId: `${t.prefix}s` });
      await sub.c.subscribeAsync(`${t.prefix}/once`, { qos: 1 });
      // The client's stores must outlive the first connection (mqtt.js closes them on end()).
      class KeptStore extends mqtt.Store {
        override close(cb?: () => void): void { cb?.(); }
      }
      const store = { incoming: new KeptStore(), outgoing: new KeptStore() };
      const opts: IClientOptions = {
        protocolVersion: v, clientId: `${t.prefix}q2`, clean: false, incomingStore: store.incoming, outgoingStore: store.outgoing,
        ...(v === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}),
      };
      // The publisher's network is a pipe we can cut: after the PUBREC arrives nothing more
      // reaches the broker (the PUBREL is lost) and the socket closes.
      let cut = false;
      let socket!: net.Socket;
      const droppable = () => {
        socket = net.connect(t.port, t.host);
        const pipe = new Duplex({
          write(chunk, _enc, cb) { if (!cut) socket.write(chunk); cb(); },
          read() {},
        });
        socket.on('data', (d) => pipe.push(d));
        socket.on('close', () => pipe.destroy());
        socket.on('error', () => undefined);
        return pipe;
      };
      const pubClient = new mqtt.MqttClient(droppable, { reconnectPeriod: 0, ...opts });
      await new Promise<void>((resolve) => pubClient.once('connect', () => resolve()));
      const dropped = new Promise<void>((resolve) => {
        pubClient.on('packetreceive', (p) => {
          if (p.cmd === 'pubrec') {
            cut = true;
            setImmediate(() => { socket.destroy(); resolve(); });
          }
        });
      });
      pubClient.on('error', () => undefined);
      pubClient.publish(`${t.prefix}/once`, 'exactly', { qos: 2 });
      await dropped;
      pubClient.end(true);
      const again = await client(t, opts);
      // mqtt.js resends the stored PUBREL first thing on connect; the marker follows it.
      await marker(again, `${t.prefix}/once`);
      const got = await sub.waitFor(2);
      await again.end();
      await sub.end();
      return got.map((m) => m.payload);
    },
    expected: ['exactly', '__marker__'],
  });
}

scenarios.push({
  name: 'mqtt.js v5 shared subscription balances between a 5.0 and a 3.1.1 member',
  async run(t) {
    const a = await client(t, { protocolVersion: 5, clientId: `${t.prefix}a` });
    const b = await client(t, { protocolVersion: 4, clientId: `${t.prefix}b` });
    await a.c.subscribeAsync(`$share/g${t.prefix}/${t.prefix}/jobs/#`, { qos: 1 });
    await b.c.subscribeAsync(`$share/g${t.prefix}/${t.prefix}/jobs/#`, { qos: 1 });
    const pub = await client(t, { protocolVersion: 5, clientId: `${t.prefix}p` });
    for (let i = 0; i < 20; i++) await pub.c.publishAsync(`${t.prefix}/jobs/${i}`, `${i}`, { qos: 1 });
    const start = Date.now();
    while (a.msgs.length + b.msgs.length < 20 && Date.now() - start < 10_000) await Promise.race([a.waitFor(a.msgs.length + 1, 200), b.waitFor(b.msgs.length + 1, 200)]);
    const all = [...a.msgs, ...b.msgs].map((m) => Number(m.payload)).sort((x, y) => x - y);
    const result = { total: all.length, distinct: new Set(all).size, bothGotSome: a.msgs.length > 0 && b.msgs.length > 0 };
    await pub.end();
    await a.end();
    await b.end();
    return result;
  },
  expected: { total: 20, distinct: 20, bothGotSome: true },
});

scenarios.push({
  name: 'mqtt.js v5 topic aliases both ways',
  async run(t) {
    const sub = await client(t, { protocolVersion: 5, clientId: `${t.prefix}s`, properties: { topicAliasMaximum: 10 } });
    await sub.c.subscribeAsync(`${t.prefix}/alias/#`, { qos: 1 });
    const pub = await client(t, { protocolVersion: 5, clientId: `${t.prefix}p`, autoUseTopicAlias: true });
    for (let i = 0; i < 4; i++) await pub.c.publishAsync(`${t.prefix}/alias/long/topic/name`, `a${i}`, { qos: 1 });
    const got = await sub.waitFor(4);
    await pub.end();
    await sub.end();
    return got.map((m) => `${m.topic.slice(t.prefix.length)} ${m.payload}`);
  },
  expected: ['/alias/long/topic/name a0', '/alias/long/topic/name a1', '/alias/long/topic/name a2', '/alias/long/topic/name a3'],
});

scenarios.push({
  name: 'mqtt.js v5 message expiry: remaining interval forwarded, expired message dropped',
  async run(t) {
    const opts: IClientOptions = { protocolVersion: 5, clean: false, clientId: `${t.prefix}e`, properties: { sessionExpiryInterval: 60 } };
    const first = await client(t, opts);
    await first.c.subscribeAsync(`${t.prefix}/exp`, { qos: 1 });
    await first.end();
    const pub = await client(t, { protocolVersion: 5, clientId: `${t.prefix}p` });
    await pub.c.publishAsync(`${t.prefix}/exp`, 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.c.publishAsync(`${t.prefix}/exp`, 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
    // The behaviour under test is the passage of time: the 1 s message must be gone.
    await new Promise((r) => setTimeout(r, 2100));
    const again = await client(t, opts);
    const got = await again.waitFor(1);
    await pub.end();
    await again.end();
    const clean = await client(t, { ...opts, clean: true, properties: {} });
    await clean.end();
    const left = got[0]?.packet.properties?.messageExpiryInterval ?? -1;
    return { payloads: got.map((m) => m.payload), remainingBelowSent: left > 0 && left < 100 };
  },
  expected: { payloads: ['long'], remainingBelowSent: true },
});

scenarios.push({
  name: 'mqtt.js v5 request/response properties and user properties forwarded',
  async run(t) {
    const sub = await client(t, { protocolVersion: 5, clientId: `${t.prefix}s` });
    await sub.c.subscribeAsync(`${t.prefix}/req`, { qos: 1 });
    const pub = await client(t, { protocolVersion: 5, clientId: `${t.prefix}p` });
    await pub.c.publishAsync(`${t.prefix}/req`, '{}', {
      qos: 1,
      properties: { payloadFormatIndicator: true, contentType: 'application/json', responseTopic: 'resp/x', correlationData: Buffer.from('c1'), userProperties: { k: ['v1', 'v2'], z: 'last' } },
    });
    const [m] = await sub.waitFor(1);
    await pub.end();
    await sub.end();
    const p = m!.packet.properties!;
    return { pfi: p.payloadFormatIndicator, ct: p.contentType, rt: p.responseTopic, cd: p.correlationData?.toString(), up: p.userProperties };
  },
  expected: { pfi: true, ct: 'application/json', rt: 'resp/x', cd: 'c1', up: { k: ['v1', 'v2'], z: 'last' } },
});

scenarios.push({
  name: 'mqtt.js v5 session takeover: the old connection is told 0x8E',
  async run(t) {
    const old = await client(t, { protocolVersion: 5, clientId: `${t.prefix}same` });
    const told = new Promise<number | undefined>((resolve) => old.c.on('disconnect', (p) => resolve(p.reasonCode)));
    const fresh = await client(t, { protocolVersion: 5, clientId: `${t.prefix}same` });
    const code = await told;
    old.c.end(true);
    await fresh.end();
    return { reasonCode: code };
  },
  expected: { reasonCode: 0x8e },
});

scenarios.push({
  name: 'mqtt.js v4 persistent session and retained message survive a broker restart',
  restart: true,
  async run(t) {
    const opts: IClientOptions = { protocolVersion: 4, clean: false, clientId: `${t.prefix}keep` };
    const first = await client(t, opts);
    await first.c.subscribeAsync(`${t.prefix}/keep/#`, { qos: 1 });
    await first.end();
    const pub = await client(t, { protocolVersion: 4, clientId: `${t.prefix}p` });
    await pub.c.publishAsync(`${t.prefix}/keep/1`, 'queued', { qos: 1 });
    await pub.c.publishAsync(`${t.prefix}/ret`, 'retained', { qos: 1, retain: true });
    await pub.end();
    await t.restart!();
    const again = await client(t, opts);
    const queued = await again.waitFor(1);
    await again.c.subscribeAsync(`${t.prefix}/ret`, { qos: 1 });
    const withRetained = await again.waitFor(2);
    const pub2 = await client(t, { protocolVersion: 4, clientId: `${t.prefix}p2` });
    await pub2.c.publishAsync(`${t.prefix}/keep/2`, 'after', { qos: 1 });
    const all = await again.waitFor(3);
    await pub2.end();
    await again.end();
    return { sessionPresent: again.connack.sessionPresent, queued: queued.map((m) => m.payload), all: all.map((m) => m.payload), retainFlag: withRetained[1]?.packet.retain };
  },
  expected: { sessionPresent: true, queued: ['queued'], all: ['queued', 'retained', 'after'], retainFlag: true },
});

scenarios.push({
  name: 'mqtt.js v5 over WebSocket (/mqtt, subprotocol mqtt) to a TCP subscriber',
  polybrokerOnly: true,
  async run(t) {
    if (!t.wsUrl) return { skipped: 'no WebSocket listener' };
    const sub = await client(t, { protocolVersion: 4, clientId: `${t.prefix}tcp` });
    await sub.c.subscribeAsync(`${t.prefix}/ws`, { qos: 1 });
    const ws = mqtt.connect(t.wsUrl, { protocolVersion: 5, clientId: `${t.prefix}ws`, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => { ws.once('connect', () => resolve()); ws.once('error', reject); });
    await ws.publishAsync(`${t.prefix}/ws`, 'over websocket', { qos: 1 });
    const [m] = await sub.waitFor(1);
    await ws.endAsync();
    await sub.end();
    return m?.payload;
  },
  expected: 'over websocket',
});

scenarios.push({
  name: 'mqtt.js v5 enhanced authentication SCRAM-SHA-256 (AUTH exchange via handleAuth, server-final in CONNACK)',
  polybrokerOnly: true,
  async run(t) {
    // The default user guest/guest, from loopback.
    const scram = new ScramClient('sha256', 'guest', 'guest');
    const c = mqtt.connect({
      host: t.host, port: t.port, protocolVersion: 5, clientId: `${t.prefix}scram`, reconnectPeriod: 0,
      properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.clientFirst) },
    });
    let authPackets = 0;
    c.handleAuth = (packet, callback) => {
      authPackets++;
      const serverFirst = packet.properties?.authenticationData?.toString('utf8') ?? '';
      callback(undefined, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.final(serverFirst)) } });
    };
    const connack = await new Promise<IConnackPacket>((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
    await c.subscribeAsync(`${t.prefix}/scram`, { qos: 1 });
    const got = new Promise<string>((resolve) => c.once('message', (_t, payload) => resolve(payload.toString())));
    await c.publishAsync(`${t.prefix}/scram`, 'authenticated', { qos: 1 });
    const payload = await got;
    await c.endAsync();
    return {
      authPackets,
      reasonCode: connack.reasonCode,
      method: connack.properties?.authenticationMethod,
      serverVerified: scram.verifyServer(connack.properties?.authenticationData?.toString('utf8') ?? ''),
      payload,
    };
  },
  expected: { authPackets: 1, reasonCode: 0, method: 'SCRAM-SHA-256', serverVerified: true, payload: 'authenticated' },
});

scenarios.push({
  name: 'mqtt.js v5 unsupported authentication method gets CONNACK 0x8C',
  async run(t) {
    const c = mqtt.connect({ host: t.host, port: t.port, protocolVersion: 5, clientId: `${t.prefix}badauth`, reconnectPeriod: 0, properties: { authenticationMethod: 'NO-SUCH-METHOD' } });
    const code = await new Promise<number | undefined>((resolve) => {
      c.once('error', (e) => resolve((e as Error & { code?: number }).code));
      c.once('connect', () => resolve(0));
    });
    c.end(true);
    return { code };
  },
  expected: { code: 0x8c },
});

export const MQTTJS_SCENARIOS = scenarios;

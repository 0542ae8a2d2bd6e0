/**
 * One user model, enforced in every protocol (docs/security.md "What each operation needs"),
 * from stock clients: amqplib, mqtt.js, stompit, kafkajs. Each denial is in the protocol's own
 * terms and names the resource.
 */
import amqp from 'amqplib';
import { createConnection } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Connection as KafkaConnection, addPartitionsToTxnV3, initProducerIdV4, offsetCommitV9, offsetDeleteV0, offsetFetchV9, offsetForLeaderEpochV4 } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { Client as StompClient, type IFrame } from '@stomp/stompjs';
import stompit from 'stompit';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';
import { managementClient } from '../management/mgmt-client.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({
    config: {
      auth: { failedLoginDelayMs: 0 },
      users: [
        {
          name: 'lim',
          password: 'lim-pw',
          // Its own names, and the MQTT session queues the broker declares (configure), binds (write) and consumes (read) for its subscriptions.
          permissions: { '/': { configure: '^lim|^mqtt\\.session\\.', write: '^lim|^mqtt\\.session\\.|amq\\.default|amq\\.topic', read: '^lim|^mqtt\\.session\\.|amq\\.topic' } },
          // Kafka topics are routed through amq.topic with routing key = topic: the topic permission applies to them too.
          topicPermissions: {
            '/': [
              { exchange: 'amq.topic', write: '^sensors\\.|^lim', read: '^sensors\\.|^lim' },
              // The same rule on a topic and on a direct exchange: RabbitMQ applies it to the topic one only.
              { exchange: 'lim-tx-topic', write: '^ok', read: '^ok' },
              { exchange: 'lim-tx-direct', write: '^ok', read: '^ok' },
            ],
          },
        },
        { name: 'admin', password: 'admin-pw', tags: ['administrator'], permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
        { name: 'novhost', password: 'nv-pw' },
        // Kafka: write on its transactional id and on txw-out only; may read (so see) every topic.
        { name: 'txw', password: 'txw-pw', permissions: { '/': { configure: '^txw', write: '^txw', read: '.*' } } },
        // May read amq.topic (every topic) but configure nothing: no subscription queue may be declared for it.
        { name: 'noq', password: 'noq-pw', permissions: { '/': { configure: '', write: 'amq\\.topic', read: '.*' } } },
        // May declare subscription queues but not bind them (no write on them) / not consume them (no read on them).
        { name: 'mq-nw', password: 'pw', permissions: { '/': { configure: '^mqtt\\.session\\.', write: 'amq\\.topic', read: '.*' } } },
        { name: 'mq-nr', password: 'pw', permissions: { '/': { configure: '^mqtt\\.session\\.', write: '^mqtt\\.session\\.|amq\\.topic', read: 'amq\\.topic' } } },
        { name: 'st-nw', password: 'pw', permissions: { '/': { configure: '^stomp-subscription-', write: '', read: '.*' } } },
        { name: 'st-nr', password: 'pw', permissions: { '/': { configure: '^stomp-subscription-', write: '^stomp-subscription-', read: 'amq\\.topic' } } },
        // Everything at first; tests take permissions away through the management API.
        { name: 'mq-rev', password: 'pw', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
        { name: 'st-rev', password: 'pw', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
      ],
      kafka: { sasl: { mechanisms: ['PLAIN', 'SCRAM-SHA-256'], required: true } },
    },
  });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

describe('AMQP 0-9-1 (amqplib)', () => {
  const url = (user = 'lim:lim-pw') => `amqp://${user}@127.0.0.1:${broker.ports.amqp}`;
  async function channel(user?: string) {
    const c = await amqp.connect(url(user));
    const ch = await c.createChannel();
    ch.on('error', () => {});
    c.on('error', () => {});
    return { c, ch };
  }
  const refused = (what: string) => new RegExp(`403 \\(ACCESS-REFUSED\\) with message "ACCESS_REFUSED - access to ${what} in vhost '/' refused for user 'lim'"`);

  it('configure: declare and delete within the expression; outside it 403 naming the queue/exchange', async () => {
    const { c, ch } = await channel();
    await ch.assertQueue('lim-q', { durable: false });
    await ch.assertExchange('lim-x', 'fanout', { durable: false });
    await expect(ch.assertQueue('other-q', { durable: false })).rejects.toThrow(refused("queue 'other-q'"));
    const { ch: ch2 } = await channel();
    await expect(ch2.assertExchange('other-x', 'topic')).rejects.toThrow(refused("exchange 'other-x'"));
    await c.close().catch(() => {});
  });

  it('write: publishing to an exchange outside the expression closes the channel with 403', async () => {
    const { ch: admin, c: ac } = await channel('admin:admin-pw');
    await admin.assertExchange('secret-x', 'fanout', { durable: false });
    await ac.close();
    const { c, ch } = await channel();
    const closed = new Promise<Error>((resolve) => ch.on('error', resolve));
    ch.publish('secret-x', '', Buffer.from('x'));
    expect((await closed).message).toMatch(refused("exchange 'secret-x'"));
    await c.close().catch(() => {});
  });

  it('read: consume, get and purge of a queue outside the expression are 403; bind needs write on the queue and read on the exchange', async () => {
    const { ch: admin, c: ac } = await channel('admin:admin-pw');
    await admin.assertQueue('private-q', { durable: false });
    await admin.assertExchange('private-x', 'direct', { durable: false });
    await ac.close();
    for (const op of [
      (ch: amqp.Channel) => ch.consume('private-q', () => {}),
      (ch: amqp.Channel) => ch.get('private-q'),
      (ch: amqp.Channel) => ch.purgeQueue('private-q'),
    ]) {
      const { c, ch } = await channel();
      await expect(op(ch)).rejects.toThrow(refused("queue 'private-q'"));
      await c.close().catch(() => {});
    }
    const { c, ch } = await channel();
    await ch.assertQueue('lim-bound', { durable: false });
    await expect(ch.bindQueue('lim-bound', 'private-x', 'k')).rejects.toThrow(refused("exchange 'private-x'"));
    await c.close().catch(() => {});
  });

  it('queue.bind and queue.unbind need write on the queue (read on the exchange is not enough)', async () => {
    const { ch: admin, c: ac } = await channel('admin:admin-pw');
    await admin.assertQueue('ro-q', { durable: false });
    await admin.bindQueue('ro-q', 'amq.direct', 'bound');
    await ac.close();
    // txw may read everything but write only ^txw.
    const refusedTxw = new RegExp(`403 \\(ACCESS-REFUSED\\) with message "ACCESS_REFUSED - access to queue 'ro-q' in vhost '/' refused for user 'txw'"`);
    for (const op of [(ch: amqp.Channel) => ch.bindQueue('ro-q', 'amq.direct', 'k'), (ch: amqp.Channel) => ch.unbindQueue('ro-q', 'amq.direct', 'bound')]) {
      const { c, ch } = await channel('txw:txw-pw');
      await expect(op(ch)).rejects.toThrow(refusedTxw);
      await c.close().catch(() => {});
    }
  });

  it('a server-named queue needs configure on the amq.gen-… name it gets (403 naming it); x-dead-letter-exchange needs write on that exchange and read on the queue, as RabbitMQ', async () => {
    const { c, ch } = await channel();
    await expect(ch.assertQueue('', { exclusive: true })).rejects.toThrow(/403 \(ACCESS-REFUSED\) with message "ACCESS_REFUSED - access to queue 'amq\.gen-[A-Za-z0-9_-]{22}' in vhost '\/' refused for user 'lim'"/);
    const { ch: ch2 } = await channel();
    await ch2.assertQueue('lim-dlx-ok', { durable: false, deadLetterExchange: 'amq.topic' });
    await expect(ch2.assertQueue('lim-dlx-q', { durable: false, deadLetterExchange: 'amq.fanout' })).rejects.toThrow(refused("exchange 'amq.fanout'"));
    const { ch: admin, c: ac } = await channel('admin:admin-pw');
    expect(await admin.checkQueue('lim-dlx-ok')).toMatchObject({ queue: 'lim-dlx-ok' });
    await expect(admin.checkQueue('lim-dlx-q')).rejects.toThrow(/404/);
    const { ch: admin2, c: ac2 } = await channel('admin:admin-pw');
    await admin2.deleteQueue('lim-dlx-ok');
    await ac2.close().catch(() => {});
    await ac.close().catch(() => {});
    await c.close().catch(() => {});
  });

  it('topic permissions: publish and bind on amq.topic are checked against the routing key', async () => {
    const { c, ch } = await channel();
    await ch.assertQueue('lim-topic', { durable: false });
    await ch.bindQueue('lim-topic', 'amq.topic', 'sensors.#');
    await expect(ch.bindQueue('lim-topic', 'amq.topic', 'billing.#')).rejects.toThrow(/access to topic 'billing\.#' in exchange 'amq\.topic' in vhost '\/' refused for user 'lim'/);
    const { c: c2, ch: ch2 } = await channel();
    const closed = new Promise<Error>((resolve) => ch2.on('error', resolve));
    ch2.publish('amq.topic', 'sensors.t1', Buffer.from('ok'));
    ch2.publish('amq.topic', 'billing.x', Buffer.from('no'));
    expect((await closed).message).toMatch(/access to topic 'billing\.x' in exchange 'amq\.topic'/);
    await c.close().catch(() => {});
    await c2.close().catch(() => {});
  });

  it('topic permissions apply to topic exchanges only, as RabbitMQ: the same rule refuses on a topic exchange and not on a direct one', async () => {
    const { c, ch } = await channel();
    await ch.assertExchange('lim-tx-topic', 'topic', { durable: false });
    await ch.assertExchange('lim-tx-direct', 'direct', { durable: false });
    await ch.assertQueue('lim-tx-q', { durable: false });
    await ch.bindQueue('lim-tx-q', 'lim-tx-direct', 'other');
    ch.publish('lim-tx-direct', 'other', Buffer.from('direct'));
    const got = await (async () => {
      for (;;) {
        const m = await ch.get('lim-tx-q', { noAck: true });
        if (m) return m.content.toString();
      }
    })();
    expect(got).toBe('direct');
    const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
    ch.publish('lim-tx-topic', 'other', Buffer.from('topic'));
    expect((await closed).message).toMatch(/403 \(ACCESS-REFUSED\) with message "ACCESS_REFUSED - access to topic 'other' in exchange 'lim-tx-topic' in vhost '\/' refused for user 'lim'"/);
    await c.close().catch(() => {});
  });

  it('a user without permissions on the vhost is refused at connection.open (530); a wrong password is ACCESS_REFUSED', async () => {
    // amqplib reports the connection.close (530) without its text; the broker's log has it.
    await expect(amqp.connect(url('novhost:nv-pw'))).rejects.toThrow(/ConnectionClose/);
    await expect.poll(() => broker.output()).toContain("access to vhost '/' refused for user 'novhost'");
    await expect(amqp.connect(url('lim:wrong'))).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it('guest is refused from a non-loopback address', async (ctx) => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!external) ctx.skip();
    await expect(amqp.connect(`amqp://guest:guest@${external}:${broker.ports.amqp}`)).rejects.toThrow(/ACCESS_REFUSED|403/);
    await expect.poll(() => broker.output()).toContain("user 'guest' can only connect via localhost");
  });
});

describe('MQTT (mqtt.js)', () => {
  const url = () => `mqtt://127.0.0.1:${broker.ports.mqtt}`;

  it('5.0: a PUBLISH outside the topic permission gets PUBACK 0x87; inside it is routed', async () => {
    const c = await mqtt.connectAsync(url(), { username: 'lim', password: 'lim-pw', protocolVersion: 5, reconnectPeriod: 0 });
    await expect(c.publishAsync('sensors/t1', 'ok', { qos: 1 })).resolves.toBeDefined();
    await expect(c.publishAsync('billing/x', 'no', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await c.endAsync();
  });

  it('SUBSCRIBE outside the topic permission: 0x87 in 5.0, 0x80 in 3.1.1', async () => {
    const c5 = await mqtt.connectAsync(url(), { username: 'lim', password: 'lim-pw', protocolVersion: 5, reconnectPeriod: 0 });
    // mqtt.js rejects a SUBACK with any failure code and hands over the packet.
    await expect(c5.subscribeAsync({ 'sensors/#': { qos: 1 }, 'billing/#': { qos: 1 } })).rejects.toMatchObject({ packet: { granted: [1, 0x87] } });
    await c5.endAsync();
    const c4 = await mqtt.connectAsync(url(), { username: 'lim', password: 'lim-pw', protocolVersion: 4, reconnectPeriod: 0 });
    await expect(c4.subscribeAsync({ 'billing/#': { qos: 1 } })).rejects.toMatchObject({ packet: { granted: [0x80] } });
    await c4.endAsync();
  });

  it('SUBSCRIBE needs configure on the session queue the broker declares for it (RabbitMQ: mqtt-subscription-<id>qos<n>): 0x87 in 5.0, 0x80 in 3.1.1', async () => {
    const c5 = await mqtt.connectAsync(url(), { clientId: 'noq-5', username: 'noq', password: 'noq-pw', protocolVersion: 5, reconnectPeriod: 0 });
    await expect(c5.subscribeAsync({ 'sensors/#': { qos: 1 } })).rejects.toMatchObject({ packet: { granted: [0x87] } });
    await c5.endAsync();
    const c4 = await mqtt.connectAsync(url(), { clientId: 'noq-4', username: 'noq', password: 'noq-pw', protocolVersion: 4, reconnectPeriod: 0 });
    await expect(c4.subscribeAsync({ 'sensors/#': { qos: 0 } })).rejects.toMatchObject({ packet: { granted: [0x80] } });
    await c4.endAsync();
    await expect.poll(() => broker.output()).toContain("access to queue 'mqtt.session.noq-5");
    // Nothing was declared on its behalf.
    const queues = (await managementClient(broker.ports.http, 'admin', 'admin-pw').get<{ name: string }[]>('/api/queues/%2F')).body.map((q) => q.name);
    expect(queues.some((q) => q.startsWith('mqtt.session.noq-'))).toBe(false);
  });

  it('SUBSCRIBE needs write (queue.bind) and read (consume) on the session queue, as RabbitMQ: 0x87 with a reason naming the queue in 5.0, 0x80 in 3.1.1; nothing is declared', async () => {
    for (const user of ['mq-nw', 'mq-nr']) {
      const c5 = await mqtt.connectAsync(url(), { clientId: `${user}-5`, username: user, password: 'pw', protocolVersion: 5, reconnectPeriod: 0 });
      const refused = (await c5.subscribeAsync({ 'sensors/#': { qos: 1 } }).then(() => null, (e: unknown) => e)) as { packet: { granted: number[]; properties?: { reasonString?: string } } };
      expect(refused.packet.granted).toEqual([0x87]);
      expect(refused.packet.properties?.reasonString).toBe(`sensors/#: access to queue 'mqtt.session.${user}-5' in vhost '/' refused for user '${user}'`);
      await c5.endAsync();
      const c4 = await mqtt.connectAsync(url(), { clientId: `${user}-4`, username: user, password: 'pw', protocolVersion: 4, reconnectPeriod: 0 });
      await expect(c4.subscribeAsync({ 'sensors/#': { qos: 0 } })).rejects.toMatchObject({ packet: { granted: [0x80] } });
      await c4.endAsync();
    }
    // A client that turned problem information off gets the code without the Reason String [MQTT-3.1.2-29].
    const quiet = await mqtt.connectAsync(url(), { clientId: 'mq-nw-quiet', username: 'mq-nw', password: 'pw', protocolVersion: 5, reconnectPeriod: 0, properties: { requestProblemInformation: false } });
    const bare = (await quiet.subscribeAsync({ 'sensors/#': { qos: 1 } }).then(() => null, (e: unknown) => e)) as { packet: { granted: number[]; properties?: { reasonString?: string } } };
    expect(bare.packet.granted).toEqual([0x87]);
    expect(bare.packet.properties?.reasonString).toBeUndefined();
    await quiet.endAsync();
    const queues = (await managementClient(broker.ports.http, 'admin', 'admin-pw').get<{ name: string }[]>('/api/queues/%2F')).body.map((q) => q.name);
    expect(queues.filter((q) => q.startsWith('mqtt.session.mq-n'))).toEqual([]);
  });

  it('5.0 UNSUBSCRIBE needs what the binding needed (write on the queue): 0x87 naming it, and the subscription stays', async () => {
    const api = managementClient(broker.ports.http, 'admin', 'admin-pw');
    const c = await mqtt.connectAsync(url(), { clientId: 'mq-rev-u', username: 'mq-rev', password: 'pw', protocolVersion: 5, reconnectPeriod: 0 });
    try {
      await c.subscribeAsync({ 'rev/u': { qos: 1 } });
      expect((await api.put('/api/permissions/%2F/mq-rev', { configure: '.*', write: '^amq\\.', read: '.*' })).status).toBe(204);
      const unsuback = (await c.unsubscribeAsync('rev/u')) as { granted?: number[]; properties?: { reasonString?: string } };
      expect(unsuback.granted).toEqual([0x87]);
      expect(unsuback.properties?.reasonString).toBe("rev/u: access to queue 'mqtt.session.mq-rev-u' in vhost '/' refused for user 'mq-rev'");
      const got = new Promise<string>((resolve) => c.once('message', (_t, payload) => resolve(payload.toString())));
      await c.publishAsync('rev/u', 'still subscribed', { qos: 1 });
      expect(await got).toBe('still subscribed');
    } finally {
      await api.put('/api/permissions/%2F/mq-rev', { configure: '.*', write: '.*', read: '.*' });
      await c.endAsync();
    }
  });

  it('resuming a session needs read on its queue, a clean start that discards it configure on it (RabbitMQ checks both at CONNECT): CONNACK 0x87 (3.1.1: 5), the session stays', async () => {
    const api = managementClient(broker.ports.http, 'admin', 'admin-pw');
    const sub = await mqtt.connectAsync(url(), { clientId: 'mq-rev-s', username: 'mq-rev', password: 'pw', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 300 }, reconnectPeriod: 0 });
    await sub.subscribeAsync({ 'rev/s': { qos: 1 } });
    await sub.endAsync();
    const pub = await mqtt.connectAsync(url(), { username: 'admin', password: 'admin-pw', protocolVersion: 5, reconnectPeriod: 0 });
    await pub.publishAsync('rev/s', 'queued', { qos: 1 });
    await pub.endAsync();
    expect((await api.put('/api/permissions/%2F/mq-rev', { configure: '^amq\\.', write: '.*', read: '^amq\\.' })).status).toBe(204);
    try {
      for (const clean of [false, true]) {
        const refused = await mqtt.connectAsync(url(), { clientId: 'mq-rev-s', username: 'mq-rev', password: 'pw', protocolVersion: 5, clean, properties: { sessionExpiryInterval: 300 }, reconnectPeriod: 0 }).then(() => null, (e: unknown) => e);
        expect(refused).toMatchObject({ code: 0x87 });
        await expect(mqtt.connectAsync(url(), { clientId: 'mq-rev-s', username: 'mq-rev', password: 'pw', protocolVersion: 4, clean, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 5 });
      }
      await expect.poll(() => broker.output()).toContain("access to queue 'mqtt.session.mq-rev-s' in vhost '/' refused for user 'mq-rev'");
    } finally {
      await api.put('/api/permissions/%2F/mq-rev', { configure: '.*', write: '.*', read: '.*' });
    }
    // Listeners first: the queued message may follow the CONNACK at once.
    const back = mqtt.connect(url(), { clientId: 'mq-rev-s', username: 'mq-rev', password: 'pw', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 300 }, reconnectPeriod: 0 });
    const got = new Promise<string>((resolve) => back.once('message', (_t, payload) => resolve(payload.toString())));
    const connack = new Promise<{ sessionPresent: boolean }>((resolve) => back.once('connect', resolve));
    expect((await connack).sessionPresent).toBe(true);
    expect(await got).toBe('queued');
    await back.endAsync();
  });

  it('a will goes out only when its user may publish to its topic (RabbitMQ checks at send time too)', async () => {
    const watcher = await mqtt.connectAsync(url(), { username: 'admin', password: 'admin-pw', protocolVersion: 5, reconnectPeriod: 0 });
    const got: string[] = [];
    const allowedArrived = new Promise<void>((resolve) =>
      watcher.on('message', (topic, payload) => {
        got.push(`${topic}=${payload}`);
        if (topic === 'sensors/will') resolve();
      }),
    );
    await watcher.subscribeAsync({ 'billing/#': { qos: 1 }, 'sensors/will': { qos: 1 } });
    // One after the other, each gone without a DISCONNECT: the refused will would arrive first.
    for (const [clientId, topic] of [['will-denied', 'billing/alarm'], ['will-allowed', 'sensors/will']] as const) {
      const c = await mqtt.connectAsync(url(), { clientId, username: 'lim', password: 'lim-pw', protocolVersion: 5, reconnectPeriod: 0, will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false } });
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.stream.destroy();
      await closed;
      if (clientId === 'will-denied') await expect.poll(() => broker.output()).toContain('will message not published: not authorized');
    }
    await allowedArrived;
    expect(got).toEqual(['sensors/will=gone']);
    expect(broker.output()).toContain("access to topic 'billing/alarm' (exchange 'amq.topic', routing key 'billing.alarm') in vhost '/' refused for user 'lim'");
    await watcher.endAsync();
  });

  it('5.0: a permission change applies to an open connection at its next PUBLISH (decisions cached per topic are dropped)', async () => {
    const api = managementClient(broker.ports.http, 'admin', 'admin-pw');
    const c = await mqtt.connectAsync(url(), { username: 'lim', password: 'lim-pw', protocolVersion: 5, reconnectPeriod: 0 });
    try {
      await expect(c.publishAsync('sensors/t2', 'ok', { qos: 1 })).resolves.toBeDefined();
      expect((await api.put('/api/permissions/%2F/lim', { configure: '^lim|^mqtt\\.session\\.', write: '^lim|^mqtt\\.session\\.|amq\\.default', read: '^lim|^mqtt\\.session\\.|amq\\.topic' })).status).toBe(204);
      await expect(c.publishAsync('sensors/t2', 'no', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
      expect((await api.put('/api/permissions/%2F/lim', { configure: '^lim|^mqtt\\.session\\.', write: '^lim|^mqtt\\.session\\.|amq\\.default|amq\\.topic', read: '^lim|^mqtt\\.session\\.|amq\\.topic' })).status).toBe(204);
      await expect(c.publishAsync('sensors/t2', 'ok again', { qos: 1 })).resolves.toBeDefined();
    } finally {
      await c.endAsync();
    }
  });

  it('3.1.1: an unauthorized PUBLISH closes the connection', async () => {
    const c = await mqtt.connectAsync(url(), { username: 'lim', password: 'lim-pw', protocolVersion: 4, reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    c.publish('billing/x', 'no', { qos: 1 });
    await closed;
    c.end(true);
  });

  it('a wrong password is CONNACK 0x86 (5.0) / 4 (3.1.1); no permission on the vhost is 0x87', async () => {
    await expect(mqtt.connectAsync(url(), { username: 'lim', password: 'wrong', protocolVersion: 5, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 0x86 });
    await expect(mqtt.connectAsync(url(), { username: 'lim', password: 'wrong', protocolVersion: 4, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 4 });
    await expect(mqtt.connectAsync(url(), { username: 'novhost', password: 'nv-pw', protocolVersion: 5, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 0x87 });
  });
});

describe('STOMP (stompit, @stomp/stompjs, and raw frames to read ERROR frames whole)', () => {
  function connect(login: string, passcode: string): Promise<stompit.Client> {
    return new Promise((resolve, reject) => {
      stompit.connect({ host: '127.0.0.1', port: broker.ports.stomp, connectHeaders: { host: '/', login, passcode, 'accept-version': '1.2' } }, (err, client) => (err ? reject(err) : resolve(client)));
    });
  }
  /** Sends frames on a raw socket and resolves with everything read once an ERROR frame is complete. */
  async function errorAfter(frames: string[]): Promise<string> {
    const socket = createConnection(broker.ports.stomp, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    for (const f of frames) socket.write(f);
    await expect.poll(() => /ERROR[\s\S]*\0/.test(text)).toBe(true);
    socket.destroy();
    return text;
  }
  const CONNECT = (login: string, passcode: string) => `CONNECT\naccept-version:1.2\nhost:/\nlogin:${login}\npasscode:${passcode}\n\n\0`;

  it('SEND inside the permissions gets its RECEIPT (stompit)', async () => {
    const client = await connect('lim', 'lim-pw');
    await new Promise<void>((resolve) => client.send({ destination: '/queue/lim-stomp', receipt: 'r' }, { onReceipt: () => resolve() }).end('x'));
    client.disconnect();
  });

  it('SEND to a queue outside configure/write is an ERROR access_refused naming it', async () => {
    const text = await errorAfter([CONNECT('lim', 'lim-pw'), 'SEND\ndestination:/queue/other-q\n\nx\0']);
    expect(text).toContain('message:access_refused');
    expect(text).toContain("access to queue 'other-q' in vhost '/' refused for user 'lim'");
  });

  it('SUBSCRIBE to a topic outside the topic permission is an ERROR access_refused', async () => {
    const text = await errorAfter([CONNECT('lim', 'lim-pw'), 'SUBSCRIBE\nid:1\ndestination:/topic/billing.a\n\n\0']);
    expect(text).toContain("access to topic 'billing.a' in exchange 'amq.topic' in vhost '/' refused for user 'lim'");
  });

  it('SUBSCRIBE to a queue outside read is an ERROR access_refused', async () => {
    const text = await errorAfter([CONNECT('lim', 'lim-pw'), 'SUBSCRIBE\nid:1\ndestination:/amq/queue/private-q\n\n\0']);
    expect(text).toContain("access to queue 'private-q' in vhost '/' refused for user 'lim'");
  });

  it('SUBSCRIBE to a topic needs configure on the stomp-subscription queue the broker declares for it', async () => {
    const text = await errorAfter([CONNECT('noq', 'noq-pw'), 'SUBSCRIBE\nid:1\ndestination:/topic/sensors.a\n\n\0']);
    expect(text).toContain('message:access_refused');
    expect(text).toMatch(/access to queue 'stomp-subscription-[^']+' in vhost '\/' refused for user 'noq'/);
  });

  /**
   * @stomp/stompjs over WebSocket (`/ws`): it hands over an ERROR frame whole (stompit loses
   * the body of an ERROR that comes with the socket's end).
   */
  function stompjs(login: string, passcode: string, onConnect: (client: StompClient) => void): Promise<IFrame> {
    return new Promise((resolve) => {
      const client = new StompClient({
        webSocketFactory: () => new WebSocket(`ws://127.0.0.1:${broker.ports.http}/ws`, ['v12.stomp']),
        connectHeaders: { host: '/', login, passcode },
        reconnectDelay: 0,
        heartbeatIncoming: 0,
        heartbeatOutgoing: 0,
        onConnect: () => onConnect(client),
        onStompError: (frame) => {
          resolve(frame);
          void client.deactivate();
        },
      });
      client.activate();
    });
  }

  it('SUBSCRIBE to a topic needs write (queue.bind) and read (consume) on the queue the broker declares for it, as RabbitMQ (@stomp/stompjs)', async () => {
    for (const user of ['st-nw', 'st-nr']) {
      const error = await stompjs(user, 'pw', (client) => client.subscribe('/topic/sensors.b', () => {}));
      expect(error.headers.message).toBe('access_refused');
      expect(error.body).toMatch(new RegExp(`^ACCESS_REFUSED - access to queue 'stomp-subscription-[^']+' in vhost '/' refused for user '${user}'$`));
    }
    // Checked before anything was declared: no subscription queue without its consumer.
    const queues = (await managementClient(broker.ports.http, 'admin', 'admin-pw').get<{ name: string; consumers: number }[]>('/api/queues/%2F')).body;
    expect(queues.filter((q) => q.name.startsWith('stomp-subscription-') && q.consumers === 0)).toEqual([]);
  });

  it('UNSUBSCRIBE that deletes a durable subscription queue needs configure on it (@stomp/stompjs); refused, the queue stays', async () => {
    const api = managementClient(broker.ports.http, 'admin', 'admin-pw');
    try {
      const error = await stompjs('st-rev', 'pw', (client) => {
        client.watchForReceipt('subscribed', () => {
          void api.put('/api/permissions/%2F/st-rev', { configure: '^st-rev-other', write: '.*', read: '.*' }).then(() => sub.unsubscribe({ durable: 'true' }));
        });
        const sub = client.subscribe('/topic/rev.d', () => {}, { id: 'rev-d', durable: 'true', 'x-queue-name': 'st-rev-durable', receipt: 'subscribed' });
      });
      expect(error.headers.message).toBe('access_refused');
      expect(error.body).toBe("ACCESS_REFUSED - access to queue 'st-rev-durable' in vhost '/' refused for user 'st-rev'");
      expect((await api.get('/api/queues/%2F/st-rev-durable')).status).toBe(200);
    } finally {
      await api.put('/api/permissions/%2F/st-rev', { configure: '.*', write: '.*', read: '.*' });
    }
  });

  it('a /temp-queue reply-to needs configure and read on the stomp.gen-… queue the broker declares and consumes for it, as RabbitMQ (@stomp/stompjs)', async () => {
    const error = await stompjs('lim', 'lim-pw', (client) => client.publish({ destination: '/queue/lim-stomp', headers: { 'reply-to': '/temp-queue/answers' }, body: 'ask' }));
    expect(error.headers.message).toBe('access_refused');
    expect(error.body).toMatch(/^ACCESS_REFUSED - access to queue 'stomp\.gen-[A-Za-z0-9_-]+' in vhost '\/' refused for user 'lim'$/);
  });

  it('a queue declared with x-dead-letter-exchange needs write on that exchange (and read on the queue), as RabbitMQ: SUBSCRIBE and SEND (@stomp/stompjs)', async () => {
    // lim may declare, read and write ^lim queues, but not write the exchange secret-x.
    const onSubscribe = await stompjs('lim', 'lim-pw', (client) => client.subscribe('/queue/lim-dlx-sub', () => {}, { 'x-dead-letter-exchange': 'secret-x' }));
    expect(onSubscribe.headers.message).toBe('access_refused');
    expect(onSubscribe.body).toBe("ACCESS_REFUSED - access to exchange 'secret-x' in vhost '/' refused for user 'lim'");
    const onSend = await stompjs('lim', 'lim-pw', (client) => client.publish({ destination: '/queue/lim-dlx-send', headers: { 'x-dead-letter-exchange': 'secret-x' }, body: 'x' }));
    expect(onSend.body).toBe("ACCESS_REFUSED - access to exchange 'secret-x' in vhost '/' refused for user 'lim'");
    const queues = (await managementClient(broker.ports.http, 'admin', 'admin-pw').get<{ name: string }[]>('/api/queues/%2F')).body.map((q) => q.name);
    expect(queues.filter((q) => q.startsWith('lim-dlx-'))).toEqual([]);
  });

  it('a wrong passcode is an ERROR at CONNECT', async () => {
    const text = await errorAfter([CONNECT('lim', 'wrong')]);
    expect(text).toContain("Access refused for user 'lim'");
  });
});

describe('Kafka (kafkajs, SASL)', () => {
  const kafka = (username: string, password: string, mechanism: 'plain' | 'scram-sha-256' = 'plain') =>
    new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'perm', logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl: { mechanism, username, password } as never });

  it('Produce: a topic in write is stored; one outside is TOPIC_AUTHORIZATION_FAILED', async () => {
    const p = kafka('lim', 'lim-pw', 'scram-sha-256').producer();
    await p.connect();
    const [ok] = await p.send({ topic: 'lim-events', messages: [{ value: 'a' }] });
    expect(ok!.errorCode).toBe(0);
    await expect(p.send({ topic: 'other-events', messages: [{ value: 'a' }] })).rejects.toThrow(/Not authorized to access topics/);
    await p.disconnect();
  });

  it('CreateTopics outside configure is TOPIC_AUTHORIZATION_FAILED; broker configs need administrator (CLUSTER_AUTHORIZATION_FAILED)', async () => {
    const admin = kafka('lim', 'lim-pw').admin();
    await admin.connect();
    await expect(admin.createTopics({ topics: [{ topic: 'other-new' }] })).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })] });
    await expect(admin.describeConfigs({ resources: [{ type: 4, name: '1' }], includeSynonyms: false })).rejects.toMatchObject({ type: 'CLUSTER_AUTHORIZATION_FAILED' });
    await admin.disconnect();
    const root = kafka('admin', 'admin-pw').admin();
    await root.connect();
    const r = await root.describeConfigs({ resources: [{ type: 4, name: '1' }], includeSynonyms: false });
    expect(r.resources[0]!.errorCode).toBe(0);
    await root.disconnect();
  });

  it('a consumer group outside read is GROUP_AUTHORIZATION_FAILED; Fetch of a topic outside read is TOPIC_AUTHORIZATION_FAILED', async () => {
    const denied = kafka('lim', 'lim-pw').consumer({ groupId: 'other-group' });
    await denied.connect();
    await denied.subscribe({ topics: ['lim-events'], fromBeginning: true });
    const crashed = new Promise<string>((resolve) => denied.on(denied.events.CRASH, (e) => resolve(String(e.payload.error.message))));
    void denied.run({ eachMessage: async () => {} });
    expect(await crashed).toMatch(/Not authorized to access group/);
    await denied.disconnect();
  });

  it('a transactional id needs write on it: inside, a transaction commits; outside, InitProducerId is TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53)', async () => {
    // kafkajs wants retries for an idempotent producer; TRANSACTIONAL_ID_AUTHORIZATION_FAILED is not retried.
    const txKafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'perm-tx', logLevel: logLevel.NOTHING, retry: { retries: 2 }, sasl: { mechanism: 'plain', username: 'lim', password: 'lim-pw' } });
    const ok = txKafka.producer({ transactionalId: 'lim-tx', idempotent: true, maxInFlightRequests: 1 });
    await ok.connect();
    const txn = await ok.transaction();
    await txn.send({ topic: 'lim-events', messages: [{ value: 'in a transaction' }] });
    await txn.commit();
    await ok.disconnect();
    const denied = txKafka.producer({ transactionalId: 'other-tx', idempotent: true, maxInFlightRequests: 1 });
    await denied.connect();
    await expect(denied.transaction()).rejects.toMatchObject({ type: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' });
    await denied.disconnect();
  });

  it('AddPartitionsToTxn needs write on each topic: a denied topic is TOPIC_AUTHORIZATION_FAILED (29), the other partitions OPERATION_NOT_ATTEMPTED (55), nothing is produced', async () => {
    const root = kafka('admin', 'admin-pw').producer();
    await root.connect();
    await root.send({ topic: 'readonly-events', messages: [{ value: 'existing' }] });
    await root.disconnect();
    const txKafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'perm-txw', logLevel: logLevel.NOTHING, retry: { retries: 2 }, sasl: { mechanism: 'plain', username: 'txw', password: 'txw-pw' } });
    const producer = txKafka.producer({ transactionalId: 'txw-tx', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // kafkajs adds both topics' partitions in one AddPartitionsToTxn and reports its first error.
    let txn = await producer.transaction();
    await expect(txn.sendBatch({ topicMessages: [{ topic: 'txw-out', messages: [{ value: 'a' }] }, { topic: 'readonly-events', messages: [{ value: 'b' }] }] })).rejects.toMatchObject({ type: 'OPERATION_NOT_ATTEMPTED' });
    await txn.abort();
    txn = await producer.transaction();
    await expect(txn.send({ topic: 'readonly-events', messages: [{ value: 'c' }] })).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
    await txn.abort();
    // Allowed alone, the transaction goes through.
    txn = await producer.transaction();
    await txn.send({ topic: 'txw-out', messages: [{ value: 'committed' }] });
    await txn.commit();
    await producer.disconnect();

    // The whole response, per partition, from @platformatic/kafka's request API.
    const conn = new KafkaConnection('perm-txw-raw', { sasl: { mechanism: 'PLAIN', username: 'txw', password: 'txw-pw' } });
    await conn.connect('127.0.0.1', broker.ports.kafka);
    try {
      const init = await initProducerIdV4.api.async(conn, 'txw-raw', 60_000, -1n, -1);
      const err = await addPartitionsToTxnV3.api
        .async(conn, [{ transactionalId: 'txw-raw', producerId: init.producerId, producerEpoch: init.producerEpoch, verifyOnly: false, topics: [{ name: 'txw-out', partitions: [0] }, { name: 'readonly-events', partitions: [0] }, { name: '__transaction_state', partitions: [0] }] }])
        .then(() => null, (e: { response?: { resultsByTransaction: { topicResults: { name: string; resultsByPartition: { partitionErrorCode: number }[] }[] }[] } }) => e);
      const codes = Object.fromEntries(err!.response!.resultsByTransaction[0]!.topicResults.map((t) => [t.name, t.resultsByPartition.map((p) => p.partitionErrorCode)]));
      expect(codes).toEqual({ 'txw-out': [55], 'readonly-events': [29], __transaction_state: [29] });
    } finally {
      await conn.close();
    }

    // Nothing was appended but the committed record and its commit marker.
    const admin = kafka('admin', 'admin-pw').admin();
    await admin.connect();
    expect((await admin.fetchTopicOffsets('txw-out')).map((o) => o.high)).toEqual(['2']);
    expect((await admin.fetchTopicOffsets('readonly-events')).map((o) => o.high)).toEqual(['1']);
    await admin.disconnect();
  });

  /** An administrator's kafkajs admin client, with kafkajs's default retries. */
  const rootAdmin = () => new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'perm-root', logLevel: logLevel.NOTHING, sasl: { mechanism: 'plain', username: 'admin', password: 'admin-pw' } }).admin();
  const offsetsOf = (committed: { topic: string; partitions: { offset: string }[] }[]) => Object.fromEntries(committed.map((t) => [t.topic, t.partitions.map((p) => p.offset)]));

  it('TxnOffsetCommit needs read on each topic (kafkajs sendOffsets): TOPIC_AUTHORIZATION_FAILED, nothing committed for it', async () => {
    const txKafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'perm-txo', logLevel: logLevel.NOTHING, retry: { retries: 2 }, sasl: { mechanism: 'plain', username: 'lim', password: 'lim-pw' } });
    const producer = txKafka.producer({ transactionalId: 'lim-txo', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const txn = await producer.transaction();
    // lim may read lim-group and lim-events, not readonly-events.
    await expect(txn.sendOffsets({ consumerGroupId: 'lim-group', topics: [{ topic: 'readonly-events', partitions: [{ partition: 0, offset: '1' }] }] })).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
    await txn.abort();
    const ok = await producer.transaction();
    await ok.sendOffsets({ consumerGroupId: 'lim-group', topics: [{ topic: 'lim-events', partitions: [{ partition: 0, offset: '1' }] }] });
    await ok.commit();
    await producer.disconnect();
    const admin = rootAdmin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'lim-group', topics: ['lim-events', 'readonly-events'] });
    await admin.disconnect();
    expect(offsetsOf(committed)).toEqual({ 'lim-events': ['1'], 'readonly-events': ['-1'] });
  });

  it('OffsetDelete needs read on the group (GROUP_AUTHORIZATION_FAILED) and on each topic (TOPIC_AUTHORIZATION_FAILED), as Kafka (@platformatic/kafka)', async () => {
    const conn = new KafkaConnection('perm-offset-delete', { sasl: { mechanism: 'PLAIN', username: 'lim', password: 'lim-pw' } });
    await conn.connect('127.0.0.1', broker.ports.kafka);
    type Response = { errorCode: number; topics: { name: string; partitions: { errorCode: number }[] }[] };
    const call = (groupId: string) =>
      offsetDeleteV0.api
        .async(conn, groupId, [{ name: 'lim-events', partitions: [{ partitionIndex: 0 }] }, { name: 'readonly-events', partitions: [{ partitionIndex: 0 }] }])
        .then((r) => r as Response, (e: { response?: Response }) => e.response!);
    try {
      expect((await call('other-group')).errorCode).toBe(30);
      // lim-group has lim-events committed (the test above).
      const r = await call('lim-group');
      expect(Object.fromEntries(r.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)]))).toEqual({ 'lim-events': [0], 'readonly-events': [29] });
    } finally {
      await conn.close();
    }
    const admin = rootAdmin();
    await admin.connect();
    const left = await admin.fetchOffsets({ groupId: 'lim-group', topics: ['lim-events'] });
    await admin.disconnect();
    expect(offsetsOf(left)).toEqual({ 'lim-events': ['-1'] });
  });

  it("Kafka's DESCRIBE checks: OffsetFetch and OffsetForLeaderEpoch refuse what the user may not see; ListGroups lists only its groups (@platformatic/kafka, kafkajs)", async () => {
    const connect = async (username: string, password: string) => {
      const c = new KafkaConnection(`perm-describe-${username}`, { sasl: { mechanism: 'PLAIN', username, password } });
      await c.connect('127.0.0.1', broker.ports.kafka);
      return c;
    };
    // A group only the administrator may see.
    const root = await connect('admin', 'admin-pw');
    await offsetCommitV9.api.async(root, 'admin-only-group', -1, '', null, [{ name: 'lim-events', partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1 }] }]);
    await root.close();
    const conn = await connect('lim', 'lim-pw');
    const codes = <T,>(p: Promise<T>) => p.then((r) => r, (e: { response?: T }) => e.response!);
    try {
      const fetched = await codes(offsetFetchV9.api.async(conn, [
        { groupId: 'lim-group', memberEpoch: -1, topics: [{ name: 'lim-events', partitionIndexes: [0] }, { name: 'readonly-events', partitionIndexes: [0] }] },
        { groupId: 'other-group', memberEpoch: -1, topics: null },
      ], false));
      expect(fetched.groups.map((g) => [g.groupId, g.errorCode, Object.fromEntries(g.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)]))])).toEqual([
        ['lim-group', 0, { 'lim-events': [0], 'readonly-events': [29] }],
        ['other-group', 30, {}],
      ]);

      // @platformatic/kafka 1.35 writes OffsetForLeaderEpoch v4 requests right but reads the
      // response's partition before its error code (Kafka's schema has error_code first): its
      // request, sent on its connection, read here in Kafka's field order.
      const epochCodes = await new Promise<[string, number[]][]>((resolve, reject) =>
        conn.send(
          offsetForLeaderEpochV4.api.key,
          4,
          () => offsetForLeaderEpochV4.createRequest(-1, [
            { name: 'lim-events', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
            { name: 'readonly-events', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
          ]),
          (_id, _key, _version, r) => {
            r.readInt32(); // throttle_time_ms
            return r.readArray((t) => {
              const topic = t.readString();
              const errorCodes = t.readArray((p) => {
                const errorCode = p.readInt16();
                p.readInt32(); // partition
                p.readInt32(); // leader_epoch
                p.readInt64(); // end_offset
                return errorCode;
              });
              return [topic, errorCodes] as [string, number[]];
            });
          },
          true,
          true,
          (err, value) => (err ? reject(err) : resolve(value!)),
        ),
      );
      expect(epochCodes).toEqual([['lim-events', [0]], ['readonly-events', [29]]]);
    } finally {
      await conn.close();
    }

    const groupsOf = async (user: string, password: string) => {
      const admin = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: `perm-list-${user}`, logLevel: logLevel.NOTHING, sasl: { mechanism: 'plain', username: user, password } }).admin();
      await admin.connect();
      const { groups } = await admin.listGroups();
      await admin.disconnect();
      return groups.map((g) => g.groupId);
    };
    const limSees = await groupsOf('lim', 'lim-pw');
    expect(limSees).toContain('lim-group');
    expect(limSees.every((g) => g.startsWith('lim'))).toBe(true);
    expect(await groupsOf('admin', 'admin-pw')).toEqual(expect.arrayContaining(['lim-group', 'admin-only-group']));
  });

  it('a wrong password is SASL_AUTHENTICATION_FAILED', async () => {
    await expect(kafka('lim', 'wrong').producer().connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
  });
});

import amqplib from 'amqplib';
import { Connection as KafkaConnection, apiVersionsV3 } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import stompit from 'stompit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startBroker, type RunningBroker } from '../helpers/broker.js';
import { eventually, managementClient } from './mgmt-client.js';

const CONFIG = {
  auth: { failedLoginDelayMs: 0 },
  users: [
    { name: 'ops', password: 'ops-pw', tags: ['monitoring'], permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
    { name: 'dev', password: 'dev-pw', tags: ['management'], permissions: { dev: { configure: '.*', write: '.*', read: '.*' } } },
    { name: 'app', password: 'app-pw', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
    { name: 'limited', password: 'lim-pw', tags: ['management'], permissions: { '/': { configure: '^lim\\.', write: '^lim\\.', read: '^lim\\.' } } },
  ],
  vhosts: {
    '/': {
      exchanges: [{ name: 'events', type: 'topic' }],
      queues: [{ name: 'orders', durable: true, arguments: { 'x-max-length': 1000 } }],
      bindings: [{ source: 'events', destination: 'orders', routingKey: 'order.#' }],
      policies: [{ name: 'ttl', pattern: '^orders$', applyTo: 'queues', definition: { 'message-ttl': 600000 } }],
      streams: [{ name: 'clicks', partitions: 2 }],
    },
    dev: { queues: [{ name: 'dev-q', durable: true }] },
  },
};

let broker: RunningBroker;
let api: ReturnType<typeof managementClient>;

beforeAll(async () => {
  broker = await startBroker({ config: CONFIG });
  api = managementClient(broker.ports.http);
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

describe('management API: authentication and tags', () => {
  it('refuses requests without credentials, with a wrong password and for a user without a management tag (401)', async () => {
    expect((await fetch(`http://127.0.0.1:${broker.ports.http}/api/overview`)).status).toBe(401);
    expect((await managementClient(broker.ports.http, 'guest', 'nope').get('/api/overview')).status).toBe(401);
    const app = await managementClient(broker.ports.http, 'app', 'app-pw').get('/api/overview');
    expect(app.status).toBe(401);
    expect(app.body.reason).toMatch(/no management tag/);
  });

  it('answers whoami with the tags, and limits a management user to its vhosts', async () => {
    expect((await api.get('/api/whoami')).body).toEqual({ name: 'guest', tags: ['administrator'] });
    const dev = managementClient(broker.ports.http, 'dev', 'dev-pw');
    const queues = await dev.get<{ vhost: string }[]>('/api/queues');
    expect(queues.status).toBe(200);
    expect(new Set(queues.body.map((q) => q.vhost))).toEqual(new Set(['dev']));
    expect((await dev.get('/api/queues/%2F')).status).toBe(404);
    expect((await dev.get('/api/users')).status).toBe(403);
    expect((await dev.get('/api/nodes')).status).toBe(403);
    expect((await dev.put('/api/queues/%2F/sneaky')).status).toBe(404);
  });

  it('enforces the user\'s configure/write/read permissions and the policymaker tag, as RabbitMQ', async () => {
    const lim = managementClient(broker.ports.http, 'limited', 'lim-pw');
    expect((await lim.put('/api/queues/%2F/lim.q')).status).toBe(201);
    const refused = await lim.put('/api/queues/%2F/other');
    expect(refused.status).toBe(403);
    expect(refused.body.reason).toBe("access to queue 'other' in vhost '/' refused for user 'limited'");
    expect((await lim.post('/api/exchanges/%2F/amq.topic/publish', { routing_key: 'x', payload: 'p', payload_encoding: 'string', properties: {} })).status).toBe(403);
    expect((await lim.post('/api/queues/%2F/orders/get', { count: 1, ackmode: 'ack_requeue_true' })).status).toBe(403);
    expect((await lim.del('/api/queues/%2F/orders/contents')).status).toBe(403);
    expect((await lim.post('/api/bindings/%2F/e/amq.topic/q/lim.q', { routing_key: 'k' })).status).toBe(403);
    expect((await lim.put('/api/policies/%2F/p1', { pattern: '^lim', definition: { 'message-ttl': 1 } })).status).toBe(403);
    expect((await lim.del('/api/queues/%2F/lim.q')).status).toBe(204);
  });

  it('lets a monitoring user read every vhost but not change definitions of vhosts without permissions', async () => {
    const ops = managementClient(broker.ports.http, 'ops', 'ops-pw');
    const vhosts = await ops.get<{ name: string }[]>('/api/vhosts');
    expect(vhosts.body.map((v) => v.name).sort()).toEqual(['/', 'dev']);
    expect((await ops.get('/api/nodes')).status).toBe(200);
    expect((await ops.put('/api/queues/dev/ops-q')).status).toBe(403);
    expect((await ops.get('/api/definitions')).status).toBe(403);
  });
});

describe('management API: RabbitMQ-compatible objects', () => {
  it('/api/overview has totals, listeners and rates', async () => {
    const o = (await api.get('/api/overview')).body;
    expect(o).toMatchObject({ product_name: 'polybroker', object_totals: { queues: expect.any(Number), exchanges: expect.any(Number) }, queue_totals: { messages: expect.any(Number) } });
    expect(o.message_stats.publish_details).toHaveProperty('rate');
    expect(o.listeners.map((l: { protocol: string }) => l.protocol).sort()).toEqual(['amqp', 'http', 'kafka', 'mqtt', 'stomp']);
  });

  it('lists exchanges, queues, bindings and policies as defined in the YAML', async () => {
    const x = (await api.get('/api/exchanges/%2F/events')).body;
    expect(x).toMatchObject({ name: 'events', vhost: '/', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} });
    const q = (await api.get('/api/queues/%2F/orders')).body;
    expect(q).toMatchObject({ name: 'orders', vhost: '/', durable: true, arguments: { 'x-max-length': 1000 }, policy: 'ttl', messages: 0, consumers: 0 });
    const bindings = (await api.get<Record<string, unknown>[]>('/api/bindings/%2F')).body;
    expect(bindings).toContainEqual(expect.objectContaining({ source: 'events', destination: 'orders', destination_type: 'queue', routing_key: 'order.#' }));
    expect((await api.get('/api/policies')).body).toContainEqual({ vhost: '/', name: 'ttl', pattern: '^orders$', 'apply-to': 'queues', definition: { 'message-ttl': 600000 }, priority: 0 });
    expect((await api.get('/api/queues/%2F/missing')).status).toBe(404);
  });

  it('publishes, gets (requeue and ack modes) and purges through the API', async () => {
    for (let i = 0; i < 3; i++) expect((await api.post('/api/exchanges/%2F/events/publish', { routing_key: 'order.new', payload: `m${i}`, payload_encoding: 'string', properties: { content_type: 'text/plain' } })).body).toEqual({ routed: true });
    expect((await api.post('/api/exchanges/%2F/events/publish', { routing_key: 'nowhere', payload: 'x', payload_encoding: 'string', properties: {} })).body).toEqual({ routed: false });
    const peek = await api.post<Record<string, unknown>[]>('/api/queues/%2F/orders/get', { count: 2, ackmode: 'ack_requeue_true', encoding: 'auto' });
    expect(peek.body.map((m) => m.payload)).toEqual(['m0', 'm1']);
    expect(peek.body[0]).toMatchObject({ payload_encoding: 'string', routing_key: 'order.new', exchange: 'events', properties: { content_type: 'text/plain' } });
    expect((await api.get('/api/queues/%2F/orders')).body.messages).toBe(3);
    const taken = await api.post<Record<string, unknown>[]>('/api/queues/%2F/orders/get', { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' });
    expect(taken.body[0]!.payload).toBe('m0');
    expect((await api.get('/api/queues/%2F/orders')).body.messages).toBe(2);
    expect((await api.del('/api/queues/%2F/orders/contents')).status).toBe(204);
    expect((await api.get('/api/queues/%2F/orders')).body.messages).toBe(0);
  });

  it('declares and deletes queues, exchanges, bindings, vhosts, users and permissions', async () => {
    expect((await api.put('/api/vhosts/tmp')).status).toBe(201);
    expect((await api.put('/api/exchanges/tmp/x1', { type: 'fanout', durable: true })).status).toBe(201);
    expect((await api.put('/api/queues/tmp/q1', { durable: true, arguments: { 'x-message-ttl': 1000 } })).status).toBe(201);
    expect((await api.put('/api/queues/tmp/q1', { durable: false })).status).toBe(400);
    expect((await api.post('/api/bindings/tmp/e/x1/q/q1', { routing_key: 'k' })).status).toBe(201);
    const b = (await api.get<{ source: string; properties_key: string }[]>('/api/queues/tmp/q1/bindings')).body.find((x) => x.source === 'x1')!;
    expect((await api.del(`/api/bindings/tmp/e/x1/q/q1/${encodeURIComponent(b.properties_key)}`)).status).toBe(204);
    expect((await api.put('/api/users/tmp-user', { password: 'pw', tags: 'management' })).status).toBe(201);
    expect((await api.put('/api/permissions/tmp/tmp-user', { configure: '', write: '.*', read: '.*' })).status).toBe(201);
    expect((await api.get('/api/permissions/tmp/tmp-user')).body).toEqual({ user: 'tmp-user', vhost: 'tmp', configure: '', write: '.*', read: '.*' });
    expect((await api.get('/api/users/tmp-user')).body).toMatchObject({ name: 'tmp-user', tags: ['management'] });
    expect(JSON.stringify((await api.get('/api/users')).body)).not.toContain('"pw"');
    expect((await managementClient(broker.ports.http, 'tmp-user', 'pw').get('/api/queues/tmp')).status).toBe(200);
    expect((await api.del('/api/users/tmp-user')).status).toBe(204);
    expect((await api.get<{ user: string; vhost: string }[]>('/api/permissions')).body).toContainEqual(expect.objectContaining({ user: 'guest', vhost: 'tmp' }));
    expect((await api.del('/api/vhosts/tmp')).status).toBe(204);
    expect((await api.get('/api/vhosts/tmp')).status).toBe(404);
    // The creator's permissions went with the vhost, as in RabbitMQ.
    expect((await api.get<{ vhost: string }[]>('/api/permissions')).body.filter((p) => p.vhost === 'tmp')).toEqual([]);
  });

  it('health checks answer ok, and 503 for a port nobody listens on', async () => {
    expect((await api.get('/api/health/checks/alarms')).body).toEqual({ status: 'ok' });
    expect((await api.get('/api/health/checks/virtual-hosts')).status).toBe(200);
    expect((await api.get(`/api/health/checks/port-listener/${broker.ports.amqp}`)).status).toBe(200);
    expect((await api.get('/api/health/checks/port-listener/1')).status).toBe(503);
    expect((await api.get('/api/health/checks/protocol-listener/amqp091')).status).toBe(200);
    expect((await api.get('/api/aliveness-test/%2F')).body).toEqual({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document that describes every route', async () => {
    const doc = (await (await fetch(`http://127.0.0.1:${broker.ports.http}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/overview', '/api/connections', '/api/queues/{vhost}/{name}/get', '/api/definitions', '/api/consumer-groups', '/api/mqtt/sessions', '/api/streams', '/metrics']) expect(doc.paths).toHaveProperty([p]);
    expect(doc.paths['/api/queues/{vhost}/{name}']).toHaveProperty(['delete']);
  });
});

describe('management API: connections of all four protocols', () => {
  it('lists AMQP, MQTT, STOMP and Kafka connections with user and client properties, and closes them', async () => {
    const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`, { clientProperties: { connection_name: 'billing-worker' } });
    const amqpClosed = new Promise<void>((r) => amqp.on('close', () => r()));
    amqp.on('error', () => {});
    const amqpChannel = await amqp.createChannel();
    amqpChannel.on('error', () => {});
    await amqpChannel.prefetch(7);
    const m = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'sensor-7', username: 'guest', password: 'guest', protocolVersion: 5 });
    await m.subscribeAsync('telemetry/#', { qos: 1 });
    const stomp = await new Promise<stompit.Client>((resolve, reject) =>
      stompit.connect({ host: '127.0.0.1', port: broker.ports.stomp, connectHeaders: { host: '/', login: 'guest', passcode: 'guest', 'accept-version': '1.2' } }, (err, c) => (err ? reject(err) : resolve(c))),
    );
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'kafka-admin-1', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.listTopics();
    try {
      const conns = await eventually(async () => {
        const list = (await api.get<Record<string, any>[]>('/api/connections')).body;
        const protocols = new Set(list.map((c) => c.polybroker_protocol));
        return ['amqp', 'mqtt', 'stomp', 'kafka'].every((p) => protocols.has(p)) ? list : null;
      }, 'a connection of every protocol');
      const byProto = (p: string) => conns.find((c) => c.polybroker_protocol === p)!;
      expect(byProto('amqp')).toMatchObject({ protocol: 'AMQP 0-9-1', vhost: '/', user: 'guest', peer_host: '127.0.0.1', client_properties: { connection_name: 'billing-worker', product: 'amqplib' }, user_provided_name: 'billing-worker' });
      expect(byProto('mqtt')).toMatchObject({ protocol: 'MQTT 5.0', client_id: 'sensor-7', client_properties: { protocolLevel: 5 } });
      expect(byProto('stomp')).toMatchObject({ protocol: 'STOMP 1.2', client_properties: { version: '1.2', host: '/' } });
      expect(byProto('kafka')).toMatchObject({ protocol: 'Kafka', client_id: 'kafka-admin-1' });
      expect((await api.get<Record<string, unknown>[]>('/api/connections?protocol=mqtt')).body.every((c) => c.polybroker_protocol === 'mqtt')).toBe(true);
      expect((await api.get<Record<string, unknown>[]>('/api/channels')).body).toContainEqual(expect.objectContaining({ connection_details: expect.objectContaining({ name: byProto('amqp').name }), prefetch_count: 7 }));
      const sessions = (await api.get<Record<string, unknown>[]>('/api/mqtt/sessions')).body;
      expect(sessions).toContainEqual(expect.objectContaining({ client_id: 'sensor-7', connected: true, subscriptions: ['telemetry/#'] }));

      const closedByServer = await fetch(`http://127.0.0.1:${broker.ports.http}/api/connections/${byProto('amqp').name}`, {
        method: 'DELETE',
        headers: { authorization: 'Basic ' + Buffer.from('guest:guest').toString('base64'), 'x-reason': 'maintenance' },
      });
      expect(closedByServer.status).toBe(204);
      await amqpClosed;
      const mqttGone = new Promise<void>((r) => m.once('close', () => r()));
      const mqttReason = new Promise<number | undefined>((r) => m.once('disconnect', (p) => r(p.reasonCode)));
      m.options.reconnectPeriod = 0;
      await api.del(`/api/connections/${byProto('mqtt').name}`);
      expect(await mqttReason).toBe(0x98);
      await mqttGone;
    } finally {
      await admin.disconnect();
      stomp.destroy();
      await m.endAsync(true).catch(() => {});
    }
  });
});

describe('management API: MQTT and Kafka connections are listed from their connect', () => {
  it('an MQTT client that only connected and a Kafka client that only sent ApiVersions appear in /api/connections, ctl list connections and /metrics', async () => {
    const m = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'idle-sensor', username: 'app', password: 'app-pw', protocolVersion: 4, reconnectPeriod: 0 });
    const k = new KafkaConnection('idle-kafka-client');
    await k.connect('127.0.0.1', broker.ports.kafka);
    // ApiVersions v3: the client's first request (its header names the client, its body the software).
    await apiVersionsV3.api.async(k, 'platformatic-kafka', '1.0.0');
    try {
      const list = await eventually(async () => {
        const l = (await api.get<Record<string, any>[]>('/api/connections')).body;
        return l.some((c) => c.client_id === 'idle-sensor') && l.some((c) => c.client_id === 'idle-kafka-client') ? l : null;
      }, 'the idle MQTT and Kafka connections');
      expect(list.find((c) => c.client_id === 'idle-sensor')).toMatchObject({ polybroker_protocol: 'mqtt', protocol: 'MQTT 3.1.1', user: 'app', vhost: '/', client_properties: { protocolLevel: 4 } });
      expect(list.find((c) => c.client_id === 'idle-kafka-client')).toMatchObject({ polybroker_protocol: 'kafka', protocol: 'Kafka', client_properties: { clientId: 'idle-kafka-client', softwareName: 'platformatic-kafka', softwareVersion: '1.0.0' } });

      const ctl = await runCli(['ctl', '--data-dir', broker.dataDir, 'list', 'connections', '--json'], { timeoutMs: 60_000 });
      expect(ctl.code).toBe(0);
      const fromCtl = JSON.parse(ctl.stdout) as { client_id: string; polybroker_protocol: string }[];
      expect(fromCtl).toContainEqual(expect.objectContaining({ client_id: 'idle-sensor', polybroker_protocol: 'mqtt' }));
      expect(fromCtl).toContainEqual(expect.objectContaining({ client_id: 'idle-kafka-client', polybroker_protocol: 'kafka' }));

      const metrics = await (await fetch(`http://127.0.0.1:${broker.ports.http}/metrics`)).text();
      const count = (protocol: string) => Number(new RegExp(`^polybroker_core_connections\\{protocol="${protocol}",vhost="/"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
      expect(count('mqtt')).toBeGreaterThanOrEqual(1);
      expect(count('kafka')).toBeGreaterThanOrEqual(1);
    } finally {
      await m.endAsync();
      await k.close();
    }
    await eventually(async () => !(await api.get<Record<string, any>[]>('/api/connections')).body.some((c) => c.client_id === 'idle-sensor' || c.client_id === 'idle-kafka-client'), 'both connections gone');
  });
});

describe('management API: streams and consumer groups', () => {
  it('shows stream depth per partition and a Kafka group with members, assignments and lag; resets its offsets', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'lag-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'clicks', messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    const consumer = kafka.consumer({ groupId: 'dashboards', sessionTimeout: 10000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'clicks', fromBeginning: true });
    let seen = 0;
    const got6 = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: true,
        autoCommitThreshold: 1,
        eachMessage: async () => {
          seen++;
          if (seen === 10) resolve();
        },
      });
    });
    try {
      await got6;
      const stream = (await api.get('/api/streams/%2F/clicks')).body;
      expect(stream).toMatchObject({ name: 'clicks', partitions: 2, messages: 10 });
      expect(stream.partition_details.map((p: { messages: number }) => p.messages).reduce((a: number, b: number) => a + b, 0)).toBe(10);
      const group = await eventually(async () => {
        const g = (await api.get('/api/consumer-groups/%2F/dashboards')).body;
        return g?.state === 'Stable' && g.offsets?.length === 2 && g.lag === 0 ? g : null;
      }, 'the group stable with every offset committed');
      expect(group.members).toHaveLength(1);
      expect(group.members[0]).toMatchObject({ client_id: 'lag-test', assignments: [{ stream: 'clicks', partitions: [0, 1] }] });
      await producer.send({ topic: 'clicks', messages: [{ key: 'late', value: 'x' }] });
      await consumer.stop();
      const refused = await api.post('/api/consumer-groups/%2F/dashboards/reset-offsets', { to: 'earliest', dry_run: false });
      // Kafka refuses a reset while members are live; after they leave it goes through.
      if (refused.status === 409) await consumer.disconnect();
      const plan = await api.post('/api/consumer-groups/%2F/dashboards/reset-offsets', { to: 'earliest' });
      expect(plan.body.dry_run).toBe(true);
      expect(plan.body.plan.map((p: { target: number }) => p.target)).toEqual([0, 0]);
      await consumer.disconnect();
      await eventually(async () => (await api.get('/api/consumer-groups/%2F/dashboards')).body.members.length === 0, 'the group empty');
      const done = await api.post('/api/consumer-groups/%2F/dashboards/reset-offsets', { to: 'earliest', dry_run: false });
      expect(done.status).toBe(200);
      expect((await api.get('/api/consumer-groups/%2F/dashboards')).body.lag).toBe(11);
      const lookup = await api.get<{ offset: number; payload: string; key: string }[]>('/api/streams/%2F/clicks/messages?partition=0&offset=0&count=100');
      expect(lookup.body.length).toBeGreaterThan(0);
      expect(lookup.body[0]).toMatchObject({ offset: 0 });
    } finally {
      await producer.disconnect();
      await consumer.disconnect().catch(() => {});
    }
  }, 60_000);
});

describe('management API: definitions', () => {
  it('exports RabbitMQ definitions JSON and imports it into another broker, idempotently', async () => {
    const defs = (await api.get('/api/definitions')).body;
    expect(defs).toMatchObject({ rabbitmq_version: expect.any(String) });
    expect(defs.queues).toContainEqual(expect.objectContaining({ name: 'orders', vhost: '/', durable: true, arguments: { 'x-max-length': 1000 } }));
    expect(defs.exchanges).toContainEqual(expect.objectContaining({ name: 'events', vhost: '/', type: 'topic' }));
    expect(defs.users.map((u: { name: string }) => u.name)).toEqual(expect.arrayContaining(['ops', 'dev', 'app']));
    expect(defs.permissions).toContainEqual({ user: 'dev', vhost: 'dev', configure: '.*', write: '.*', read: '.*' });
    const other = await startBroker({ config: { auth: { failedLoginDelayMs: 0 } } });
    try {
      const api2 = managementClient(other.ports.http);
      const first = await api2.post('/api/definitions', defs);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.changes).toEqual(expect.arrayContaining(["added queue 'orders' in vhost '/'", "added vhost 'dev'", "added user 'ops'"]));
      expect((await api2.post('/api/definitions', defs)).body.changes).toEqual([]);
      expect((await api2.get('/api/queues/dev/dev-q')).status).toBe(200);
      // Imported credentials work for login (the hash moved, never the password).
      expect((await managementClient(other.ports.http, 'ops', 'ops-pw').get('/api/overview')).status).toBe(200);
      const bad = await api2.post('/api/definitions', { exchanges: [{ name: 'e', vhost: '/', type: 'x-bogus' }] });
      expect(bad.status).toBe(400);
      expect(bad.body.reason).toMatch(/type 'x-bogus'/);
    } finally {
      await other.stop();
    }
  }, 60_000);
});

/**
 * The RabbitMQ 3.10 endpoints scripts call beyond the object lists: topic permissions per
 * vhost and user, vhost limits (and the vhost-limits runtime parameter), consumers of every
 * protocol, one channel, users without permissions and bulk delete, cluster name, extensions,
 * health checks (certificate expiry on real TLS certificates), `columns` and `sort`; with
 * RabbitMQ's tag rules, and checked against what the broker then does (a topic permission
 * refuses an AMQP publish, a limit refuses a declaration).
 */
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import stompit from 'stompit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startBroker, type RunningBroker } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/certs.js';
import { eventually, managementClient } from './mgmt-client.js';

const CONFIG = {
  auth: { failedLoginDelayMs: 0 },
  users: [
    { name: 'ops', password: 'ops-pw', tags: ['monitoring'] },
    { name: 'dev', password: 'dev-pw', tags: ['management'], permissions: { dev: { configure: '.*', write: '.*', read: '.*' } } },
    { name: 'sensor', password: 'sensor-pw', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } },
  ],
  vhosts: { '/': { queues: [{ name: 'jobs', durable: true }, { name: 'solo', durable: true, arguments: { 'x-single-active-consumer': true } }, { name: 'ticks', durable: true, arguments: { 'x-queue-type': 'stream' } }] }, dev: { limits: { maxQueues: 10 } }, other: {} },
};

let broker: RunningBroker;
let api: ReturnType<typeof managementClient>;
let dev: ReturnType<typeof managementClient>;
let ops: ReturnType<typeof managementClient>;

beforeAll(async () => {
  broker = await startBroker({ config: CONFIG });
  api = managementClient(broker.ports.http);
  dev = managementClient(broker.ports.http, 'dev', 'dev-pw');
  ops = managementClient(broker.ports.http, 'ops', 'ops-pw');
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

describe('topic permissions', () => {
  it('sets, lists and clears them per vhost and user, with RabbitMQ answers, and AMQP publishes obey them', async () => {
    expect((await api.get('/api/topic-permissions/%2F/sensor')).status).toBe(404);
    const put = (body: unknown) => api.put('/api/topic-permissions/%2F/sensor', body);
    expect((await put({ exchange: 'amq.topic', write: '^sensors\\.', read: '.*' })).status).toBe(201);
    expect((await put({ exchange: 'amq.topic', write: '^sensors\\.', read: '.*' })).status).toBe(204);
    expect((await put({ exchange: 'events', write: '^e\\.', read: '^e\\.' })).status).toBe(201);
    const both = [
      { user: 'sensor', vhost: '/', exchange: 'amq.topic', write: '^sensors\\.', read: '.*' },
      { user: 'sensor', vhost: '/', exchange: 'events', write: '^e\\.', read: '^e\\.' },
    ];
    expect((await api.get('/api/topic-permissions/%2F/sensor')).body).toEqual(both);
    expect((await api.get('/api/topic-permissions/%2F/sensor/events')).body).toEqual([both[1]]);
    expect((await api.get('/api/users/sensor/topic-permissions')).body).toEqual(both);
    expect((await api.get('/api/vhosts/%2F/topic-permissions')).body).toEqual(both);
    expect((await api.get('/api/topic-permissions')).body).toEqual(both);

    const bad = await put({ exchange: 'x', write: '(', read: '' });
    expect([bad.status, bad.body.reason]).toEqual([400, expect.stringMatching(/not a valid regular expression/)]);
    expect((await put({ write: '.*', read: '.*' })).status).toBe(400);
    expect((await api.put('/api/topic-permissions/%2F/nobody', { exchange: 'x', write: '', read: '' })).body).toEqual({ error: 'bad_request', reason: 'vhost_or_user_not_found' });
    expect((await api.put('/api/topic-permissions/nowhere/sensor', { exchange: 'x', write: '', read: '' })).status).toBe(400);
    // Administrators only, as in RabbitMQ.
    expect((await ops.get('/api/topic-permissions/%2F/sensor')).status).toBe(403);
    expect((await dev.put('/api/topic-permissions/dev/dev', { exchange: 'x', write: '', read: '' })).status).toBe(403);

    // They are the broker's: sensor may publish to amq.topic under sensors.* only.
    const conn = await amqplib.connect(`amqp://sensor:sensor-pw@127.0.0.1:${broker.ports.amqp}`);
    conn.on('error', () => {});
    try {
      const ch = await conn.createConfirmChannel();
      ch.on('error', () => {});
      await new Promise<void>((res, rej) => ch.publish('amq.topic', 'sensors.t1', Buffer.from('21.5'), {}, (err) => (err ? rej(err) : res())));
      const refused = new Promise<Error>((res) => ch.on('close', () => res(new Error('closed'))).on('error', res));
      ch.publish('amq.topic', 'admin.reboot', Buffer.from('now'));
      expect(String(await refused)).toMatch(/403|ACCESS_REFUSED|access/i);
    } finally {
      await conn.close().catch(() => {});
    }

    expect((await api.del('/api/topic-permissions/%2F/sensor/events')).status).toBe(204);
    expect((await api.del('/api/topic-permissions/%2F/sensor/events')).status).toBe(404);
    expect((await api.del('/api/topic-permissions/%2F/sensor')).status).toBe(204);
    expect((await api.del('/api/topic-permissions/%2F/sensor')).status).toBe(404);
    expect((await api.get('/api/topic-permissions')).body).toEqual([]);
  });
});

describe('vhost limits', () => {
  it('lists limits to those who may see the vhost, changes them for administrators only, and the core enforces them', async () => {
    expect((await api.get('/api/vhost-limits')).body).toEqual([{ vhost: 'dev', value: { 'max-queues': 10 } }]);
    expect((await dev.get('/api/vhost-limits')).body).toEqual([{ vhost: 'dev', value: { 'max-queues': 10 } }]);
    expect((await dev.get('/api/vhost-limits/other')).status).toBe(404);
    expect((await dev.put('/api/vhost-limits/dev/max-queues', { value: 100 })).status).toBe(403);
    expect((await ops.get('/api/vhost-limits/dev')).body).toEqual([{ vhost: 'dev', value: { 'max-queues': 10 } }]);

    expect((await api.put('/api/vhost-limits/dev/max-queues', { value: 1 })).status).toBe(204);
    expect((await api.put('/api/vhost-limits/dev/max-queues', { value: 'many' })).status).toBe(400);
    expect((await dev.put('/api/queues/dev/first', { durable: false })).status).toBe(201);
    const second = await dev.put('/api/queues/dev/second', { durable: false });
    expect([second.status, second.body.reason]).toEqual([400, "queue limit (1) of vhost 'dev' is reached"]);

    // The runtime-parameter view of the same limits (RabbitMQ's component vhost-limits).
    expect((await api.get('/api/parameters/vhost-limits/dev/limits')).body).toEqual({ value: { 'max-queues': 1 }, vhost: 'dev', component: 'vhost-limits', name: 'limits' });
    expect((await api.put('/api/permissions/other/guest', { configure: '.*', write: '.*', read: '.*' })).status).toBe(201);
    await (await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}/other`)).close();
    expect((await api.put('/api/parameters/vhost-limits/other/limits', { value: { 'max-connections': 0 } })).status).toBe(201);
    expect((await api.put('/api/parameters/vhost-limits/other/limits', { value: { 'max-connections': 0 } })).status).toBe(204);
    await expect(amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}/other`)).rejects.toThrow();
    expect((await api.get('/api/parameters')).body).toEqual([
      { value: { 'max-queues': 1 }, vhost: 'dev', component: 'vhost-limits', name: 'limits' },
      { value: { 'max-connections': 0 }, vhost: 'other', component: 'vhost-limits', name: 'limits' },
    ]);
    expect((await api.get('/api/parameters/federation-upstream')).body).toEqual([]);
    // Runtime parameters need the policymaker tag (RabbitMQ's rule); vhost-limits only a visible vhost.
    expect((await dev.get('/api/parameters')).status).toBe(403);
    expect((await ops.get('/api/parameters/vhost-limits')).status).toBe(403);
    expect((await api.put('/api/parameters/federation-upstream/other/up', { value: { uri: 'amqp://x' } })).status).toBe(400);
    expect((await api.del('/api/parameters/vhost-limits/other/limits')).status).toBe(204);
    expect((await api.del('/api/parameters/vhost-limits/other/limits')).status).toBe(404);
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}/other`);
    await conn.close();

    // Definitions carry them both ways.
    const defs = (await api.get('/api/definitions')).body;
    expect(defs.parameters).toEqual([{ value: { 'max-queues': 1 }, vhost: 'dev', component: 'vhost-limits', name: 'limits' }]);
    const imported = await api.post('/api/definitions', { vhosts: [{ name: 'fresh' }], parameters: [{ vhost: 'fresh', component: 'vhost-limits', name: 'limits', value: { 'max-connections': 3 } }] });
    expect(imported.body.changes).toEqual(expect.arrayContaining(["added vhost 'fresh'", "added vhost-limits of vhost 'fresh'"]));
    expect((await api.get('/api/vhost-limits/fresh')).body).toEqual([{ vhost: 'fresh', value: { 'max-connections': 3 } }]);
    const refused = await api.post('/api/definitions', { vhosts: [{ name: 'nope' }], parameters: [{ vhost: 'nope', component: 'vhost-limits', name: 'limits', value: { 'max-bananas': 3 } }] });
    expect([refused.status, refused.body.reason]).toEqual([400, expect.stringMatching(/unrecognised limit 'max-bananas'/)]);
    expect((await api.get('/api/vhosts/nope')).status).toBe(404);

    const listed = await runCli(['ctl', '--data-dir', broker.dataDir, 'list', 'vhost-limits'], { timeoutMs: 60_000 });
    expect(listed.stdout).toMatch(/^vhost\s+value\.max-connections\s+value\.max-queues\n/);
    expect(listed.stdout).toMatch(/\ndev\s+1\n/);
    expect(listed.stdout).toMatch(/\nfresh\s+3\s*\n/);
    expect((await api.del('/api/vhost-limits/dev/max-queues')).status).toBe(204);
    expect((await dev.put('/api/queues/dev/second', { durable: false })).status).toBe(201);
    expect((await api.get('/api/vhost-limits/dev')).body).toEqual([]);
  });
});

describe('consumers and channels', () => {
  it('lists consumers of AMQP (queues and stream queues), STOMP and MQTT with RabbitMQ fields, single-active state, and one channel by name', async () => {
    const amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const stomp = await new Promise<stompit.Client>((resolve, reject) =>
      stompit.connect({ host: '127.0.0.1', port: broker.ports.stomp, connectHeaders: { host: '/', login: 'guest', passcode: 'guest', 'accept-version': '1.2' } }, (err, c) => (err ? reject(err) : resolve(c))),
    );
    const m = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'probe-1', username: 'guest', password: 'guest', reconnectPeriod: 0 });
    try {
      const ch = await amqp.createChannel();
      await ch.prefetch(5);
      await ch.consume('solo', () => {}, { consumerTag: 'first' });
      await ch.consume('solo', () => {}, { consumerTag: 'second', noAck: true });
      await ch.consume('ticks', () => {}, { consumerTag: 'reader', arguments: { 'x-stream-offset': 'first' } });
      stomp.subscribe({ destination: '/queue/jobs', ack: 'client-individual' }, () => {});
      await m.subscribeAsync('probes/#', { qos: 1 });
      const all = await eventually(async () => {
        const l = (await api.get('/api/consumers')).body as Record<string, any>[];
        return l.length === 5 ? l : null;
      }, 'five consumers');
      const tag = (t: string) => all.find((c) => c.consumer_tag === t)!;
      expect(tag('first')).toMatchObject({ queue: { name: 'solo', vhost: '/' }, ack_required: true, prefetch_count: 5, active: true, activity_status: 'single_active', polybroker_protocol: 'amqp' });
      expect(tag('second')).toMatchObject({ ack_required: false, active: false, activity_status: 'waiting' });
      expect(tag('reader')).toMatchObject({ queue: { name: 'ticks', vhost: '/' }, ack_required: true, prefetch_count: 5, arguments: { 'x-stream-offset': 'first' }, activity_status: 'up' });
      expect(all.find((c) => c.polybroker_protocol === 'stomp')).toMatchObject({ queue: { name: 'jobs', vhost: '/' }, ack_required: true, activity_status: 'up' });
      expect(all.find((c) => c.polybroker_protocol === 'mqtt')).toMatchObject({ queue: { name: 'mqtt.session.probe-1', vhost: '/' } });
      expect((await api.get('/api/consumers/%2F')).body).toHaveLength(5);
      expect((await api.get('/api/consumers/dev')).body).toEqual([]);
      // A management user sees only its own connections' consumers.
      expect((await dev.get('/api/consumers')).body).toEqual([]);

      // The queues name their exclusive and single active consumers (RabbitMQ's fields).
      expect((await api.get('/api/queues/%2F/solo')).body).toMatchObject({ single_active_consumer_tag: 'first', exclusive_consumer_tag: null, consumers: 2 });
      expect((await api.get('/api/queues/%2F/jobs')).body).toMatchObject({ single_active_consumer_tag: null, exclusive_consumer_tag: null });
      const chName = tag('first').channel_details.name as string;
      const one = await api.get(`/api/channels/${encodeURIComponent(chName)}`);
      expect(one.body).toMatchObject({ name: chName, number: 1, consumer_count: 3, prefetch_count: 5 });
      expect(one.body.consumer_details.map((c: { consumer_tag: string }) => c.consumer_tag).sort()).toEqual(['first', 'reader', 'second']);
      expect((await api.get(`/api/channels/${encodeURIComponent('nope (1)')}`)).status).toBe(404);
      // The control CLI lists the same consumers.
      const listed = await runCli(['ctl', '--data-dir', broker.dataDir, 'list', 'consumers'], { timeoutMs: 60_000 });
      expect(listed.stdout).toMatch(/^queue\.vhost\s+queue\.name\s+consumer_tag\s+polybroker_protocol\s+ack_required\s+prefetch_count\s+activity_status\s+channel_details\.name/);
      expect(listed.stdout).toMatch(/\/\s+solo\s+first\s+amqp\s+true\s+5\s+single_active\s/);
    } finally {
      await amqp.close();
      stomp.disconnect();
      await m.endAsync();
    }
  });
});

describe('users, node and list queries', () => {
  it('lists users without permissions and bulk-deletes all or none', async () => {
    expect((await api.put('/api/users/temp-a', { password: 'x', tags: '' })).status).toBe(201);
    expect((await api.put('/api/users/temp-b', { password: 'x', tags: 'monitoring' })).status).toBe(201);
    const without = ((await api.get('/api/users/without-permissions')).body as { name: string }[]).map((u) => u.name);
    expect(without).toEqual(expect.arrayContaining(['ops', 'temp-a', 'temp-b']));
    expect(without).not.toContain('guest');
    const refused = await api.post('/api/users/bulk-delete', { users: ['temp-a', 'ghost'] });
    expect([refused.status, refused.body.reason]).toEqual([400, 'no_such_user: ghost']);
    expect((await api.get('/api/users/temp-a')).status).toBe(200);
    expect((await api.post('/api/users/bulk-delete', { users: ['temp-a', 'temp-b'] })).status).toBe(204);
    expect((await api.get('/api/users/temp-b')).status).toBe(404);
    expect((await ops.post('/api/users/bulk-delete', { users: ['dev'] })).status).toBe(403);
  });

  it('answers cluster-name, extensions, the older node health check and operator policies', async () => {
    const node = (await api.get('/api/overview')).body.node;
    expect((await api.get('/api/cluster-name')).body).toEqual({ name: node });
    expect((await api.get('/api/extensions')).body).toEqual([]);
    expect((await api.get('/api/healthchecks/node')).body).toEqual({ status: 'ok' });
    expect((await api.get('/api/operator-policies')).body).toEqual([]);
    expect((await api.put('/api/operator-policies/%2F/cap', { pattern: '.*', definition: { 'max-length': 1 } })).status).toBe(400);
    expect((await api.get('/api/health/checks/protocol-listener/amqp0-9-1')).body).toEqual({ status: 'ok', protocol: 'amqp' });
    const missing = await api.get('/api/health/checks/protocol-listener/amqps');
    expect([missing.status, missing.body.missing, missing.body.protocols]).toEqual([503, 'amqps', ['amqp', 'mqtt', 'stomp', 'kafka', 'http']]);
    // No TLS listener: no certificate to expire.
    expect((await api.get('/api/health/checks/certificate-expiration/10/years')).body).toEqual({ status: 'ok' });
    expect((await api.get('/api/health/checks/certificate-expiration/1/fortnights')).status).toBe(400);
  });

  it('applies columns (dotted for nested fields) and sort, also before paginating', async () => {
    expect((await api.get('/api/overview?columns=node,object_totals.queues')).body).toEqual({ node: expect.any(String), object_totals: { queues: expect.any(Number) } });
    const names = ((await api.get('/api/queues/%2F?columns=name&sort=name&sort_reverse=true')).body as { name: string }[]).map((q) => q.name);
    expect(names).toEqual([...names].sort().reverse());
    const page = (await api.get('/api/queues/%2F?page=1&page_size=2&sort=name&columns=name')).body;
    expect(page.items).toEqual([...names].sort().slice(0, 2).map((name) => ({ name })));
  });
});

describe('certificate expiry health check', () => {
  it('fails with the certificates that expire within the window while a TLS listener is on', async () => {
    const certs = makeTestCerts();
    const tls = await startBroker({ config: { tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }, listeners: { amqps: { enabled: true } } } });
    try {
      const t = managementClient(tls.ports.http);
      expect((await t.get('/api/health/checks/certificate-expiration/0/days')).body).toEqual({ status: 'ok' });
      const soon = await t.get('/api/health/checks/certificate-expiration/2/years');
      expect(soon.status).toBe(503);
      expect(soon.body).toMatchObject({ status: 'failed', reason: 'Certificates expiring' });
      expect(soon.body.expired.map((c: { file: string }) => c.file).sort()).toEqual([certs.ca, certs.serverCert].sort());
      expect(soon.body.expired[0].subject).toMatch(/CN=/);
    } finally {
      await tls.stop();
    }
  });
});

describe('vhost limits across a restart', () => {
  it('keeps limits set through the API; a vhost the YAML file defines takes the file’s limits again', async () => {
    expect((await api.put('/api/vhosts/api-made')).status).toBe(201);
    expect((await api.put('/api/vhost-limits/api-made/max-queues', { value: 3 })).status).toBe(204);
    expect((await api.put('/api/vhost-limits/dev/max-queues', { value: 50 })).status).toBe(204);
    await broker.restart();
    const after = managementClient(broker.ports.http);
    expect((await after.get('/api/vhost-limits/api-made')).body).toEqual([{ vhost: 'api-made', value: { 'max-queues': 3 } }]);
    expect((await after.get('/api/vhost-limits/dev')).body).toEqual([{ vhost: 'dev', value: { 'max-queues': 10 } }]);
  }, 60_000);
});

/**
 * The management API against RabbitMQ's (3.10, rabbitmq_management) for the same definitions:
 * both brokers get the same RabbitMQ definitions JSON, the same client traffic, and each
 * endpoint's objects are compared field by field (the fields scripts and monitoring read),
 * values included where the definitions determine them. Then definitions exported from
 * RabbitMQ are imported into polybroker and used by amqplib with the imported user.
 */
import { createHash, randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { eventually, managementClient } from '../../test/management/mgmt-client.js';
import { startRabbitManagement, type RabbitManagement } from './rabbitmq-management.js';
import { fieldDiffs, missingFields, sortKeys } from './shape.js';

/** RabbitMQ's password_hash: base64(salt(4) ++ sha256(salt ++ password)). */
function rabbitHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash('sha256').update(salt).update(password).digest()]).toString('base64');
}

const DEFS = {
  vhosts: [{ name: 'shop' }],
  users: [{ name: 'shopper', password_hash: rabbitHash('s3cret'), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['management'] }],
  permissions: [
    { user: 'shopper', vhost: 'shop', configure: '.*', write: '.*', read: '.*' },
    { user: 'guest', vhost: 'shop', configure: '.*', write: '.*', read: '.*' },
  ],
  exchanges: [
    { name: 'orders', vhost: 'shop', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} },
    { name: 'audit', vhost: 'shop', type: 'fanout', durable: true, auto_delete: false, internal: false, arguments: {} },
  ],
  queues: [
    { name: 'orders-eu', vhost: 'shop', durable: true, auto_delete: false, arguments: { 'x-max-length': 1000 } },
    { name: 'orders-all', vhost: 'shop', durable: true, auto_delete: false, arguments: { 'x-message-ttl': 600000 } },
    { name: 'audit-log', vhost: 'shop', durable: true, auto_delete: false, arguments: {} },
  ],
  bindings: [
    { source: 'orders', vhost: 'shop', destination: 'orders-eu', destination_type: 'queue', routing_key: 'order.eu.#', arguments: {} },
    { source: 'orders', vhost: 'shop', destination: 'orders-all', destination_type: 'queue', routing_key: '#', arguments: {} },
    { source: 'orders', vhost: 'shop', destination: 'audit', destination_type: 'exchange', routing_key: '#', arguments: {} },
    { source: 'audit', vhost: 'shop', destination: 'audit-log', destination_type: 'queue', routing_key: '', arguments: {} },
  ],
  policies: [{ vhost: 'shop', name: 'eu-limit', pattern: '^orders-eu$', 'apply-to': 'queues', definition: { 'max-length-bytes': 1048576 }, priority: 1 }],
  topic_permissions: [{ user: 'shopper', vhost: 'shop', exchange: 'orders', write: '^order\\.', read: '.*' }],
  parameters: [{ vhost: 'shop', component: 'vhost-limits', name: 'limits', value: { 'max-queues': 100, 'max-connections': 50 } }],
};

let rabbit: RabbitManagement;
let poly: RunningBroker;
let R: ReturnType<typeof managementClient>;
let P: ReturnType<typeof managementClient>;
const report: string[] = [];

beforeAll(async () => {
  [rabbit, poly] = await Promise.all([startRabbitManagement(), startBroker({ config: { auth: { failedLoginDelayMs: 0 } } })]);
  R = managementClient(rabbit.httpPort);
  P = managementClient(poly.ports.http);
  // The node keeps its data between runs: start from an empty 'shop'.
  await R.del('/api/vhosts/shop');
  await R.del('/api/users/shopper');
  for (const api of [R, P]) expect((await api.post('/api/definitions', DEFS)).status).toBeLessThan(300);
}, 600_000);

afterAll(async () => {
  if (report.length) console.log(`RabbitMQ fields polybroker does not have (informational):\n  ${report.join('\n  ')}`);
  await poly?.stop();
  await rabbit?.stop();
}, 120_000);

const byName = <T extends { name?: string; vhost?: string }>(list: T[], name: string, vhost = 'shop') => list.find((x) => x.name === name && (x.vhost === undefined || x.vhost === vhost));

describe('management API compared with RabbitMQ for the same definitions', () => {
  it('/api/overview and /api/nodes have the fields monitoring reads', async () => {
    const [r, p] = [(await R.get('/api/overview')).body, (await P.get('/api/overview')).body];
    const diffs = fieldDiffs('overview', r, p, ['management_version', 'rabbitmq_version', 'product_name', 'product_version', 'cluster_name', 'node', 'queue_totals', 'object_totals.connections', 'object_totals.channels', 'object_totals.exchanges', 'object_totals.queues', 'object_totals.consumers', 'listeners', 'message_stats']);
    // RabbitMQ fills node stats after its first collection interval.
    const rn = await eventually(async () => {
      const n = (await R.get('/api/nodes')).body[0];
      return n && 'mem_used' in n && 'sockets_used' in n ? n : null;
    }, "RabbitMQ's node stats", 30_000);
    const pn = (await P.get('/api/nodes')).body[0];
    diffs.push(...fieldDiffs('nodes[0]', rn, pn, ['name', 'type', 'running', 'mem_used', 'mem_limit', 'mem_alarm', 'disk_free', 'disk_free_limit', 'disk_free_alarm', 'uptime', 'processors', 'sockets_used']));
    expect(diffs).toEqual([]);
    report.push(`overview: ${missingFields(r, p).join(', ')}`, `nodes: ${missingFields(rn, pn).join(', ')}`);
  });

  it('/api/vhosts, /api/users and /api/permissions agree', async () => {
    const diffs: string[] = [];
    const [rv, pv] = [(await R.get('/api/vhosts/shop')).body, (await P.get('/api/vhosts/shop')).body];
    diffs.push(...fieldDiffs('vhost shop', rv, pv, ['description', 'tags', 'tracing'], ['name']));
    const [ru, pu] = [(await R.get('/api/users/shopper')).body, (await P.get('/api/users/shopper')).body];
    diffs.push(...fieldDiffs('user shopper', ru, pu, ['limits'], ['name', 'tags', 'password_hash', 'hashing_algorithm']));
    const [rp, pp] = [(await R.get('/api/permissions/shop/shopper')).body, (await P.get('/api/permissions/shop/shopper')).body];
    diffs.push(...fieldDiffs('permission shopper@shop', rp, pp, [], ['user', 'vhost', 'configure', 'write', 'read']));
    expect(diffs).toEqual([]);
    report.push(`vhosts: ${missingFields(rv, pv).join(', ')}`, `users: ${missingFields(ru, pu).join(', ')}`);
  });

  it('/api/exchanges, /api/queues, /api/bindings and /api/policies agree in fields and values', async () => {
    const diffs: string[] = [];
    const [rx, px] = [(await R.get('/api/exchanges/shop')).body, (await P.get('/api/exchanges/shop')).body];
    for (const name of ['orders', 'audit', 'amq.topic', 'amq.direct']) diffs.push(...fieldDiffs(`exchange ${name}`, byName(rx, name), byName(px, name), ['user_who_performed_action'], ['name', 'vhost', 'type', 'durable', 'auto_delete', 'internal', 'arguments']));
    const [rq, pq] = await eventually(async () => {
      const r = (await R.get('/api/queues/shop')).body;
      // RabbitMQ's stats (message counts) appear after its first collection interval.
      return r.every((q: Record<string, unknown>) => 'messages' in q) ? [r, (await P.get('/api/queues/shop')).body] : null;
    }, "RabbitMQ's queue stats", 30_000);
    for (const name of ['orders-eu', 'orders-all', 'audit-log']) {
      diffs.push(...fieldDiffs(`queue ${name}`, byName(rq, name), byName(pq, name), ['node', 'state', 'effective_policy_definition'], ['name', 'vhost', 'durable', 'auto_delete', 'exclusive', 'arguments', 'type', 'policy', 'messages', 'messages_ready', 'messages_unacknowledged', 'consumers', 'exclusive_consumer_tag', 'single_active_consumer_tag']));
    }
    const key = (b: Record<string, unknown>) => `${b.source}|${b.destination}|${b.destination_type}|${b.routing_key}`;
    const [rb, pb] = [(await R.get('/api/bindings/shop')).body as Record<string, unknown>[], (await P.get('/api/bindings/shop')).body as Record<string, unknown>[]];
    expect(pb.map(key).sort()).toEqual(rb.map(key).sort());
    for (const b of rb) diffs.push(...fieldDiffs(`binding ${key(b)}`, b, pb.find((x) => key(x) === key(b)), [], ['source', 'vhost', 'destination', 'destination_type', 'routing_key', 'arguments', 'properties_key']));
    const [rpol, ppol] = [(await R.get('/api/policies/shop')).body, (await P.get('/api/policies/shop')).body];
    expect(ppol).toEqual(rpol);
    expect(diffs).toEqual([]);
    report.push(`queues: ${missingFields(byName(rq, 'orders-eu'), byName(pq, 'orders-eu')).join(', ')}`, `exchanges: ${missingFields(byName(rx, 'orders'), byName(px, 'orders')).join(', ')}`);
  }, 60_000);

  it('/api/definitions exports the same objects', async () => {
    const [r, p] = [(await R.get('/api/definitions')).body, (await P.get('/api/definitions')).body];
    for (const k of Object.keys(r)) expect(p, `definitions key ${k}`).toHaveProperty([k]);
    const shop = (list: Record<string, unknown>[]) => list.filter((x) => x.vhost === 'shop').map((x) => JSON.stringify(Object.fromEntries(Object.entries(x).sort())));
    for (const k of ['exchanges', 'queues', 'bindings', 'policies', 'permissions', 'topic_permissions', 'parameters']) expect(shop(p[k]).sort(), k).toEqual(shop(r[k]).sort());
  });

  it('connections, channels, get, purge and health checks after the same traffic', async () => {
    const clients = await Promise.all(
      [rabbit.amqpPort, poly.ports.amqp].map(async (port) => {
        const c = await amqplib.connect(`amqp://shopper:s3cret@127.0.0.1:${port}/shop`, { clientProperties: { connection_name: 'compare-client' } });
        const ch = await c.createConfirmChannel();
        await ch.prefetch(10);
        for (const rk of ['order.eu.de', 'order.us.ny', 'order.eu.fr']) ch.publish('orders', rk, Buffer.from(`o:${rk}`), { contentType: 'text/plain', persistent: true });
        await ch.waitForConfirms();
        await ch.consume('audit-log', () => {}, { consumerTag: 'compare-consumer', arguments: { 'x-priority': 2 } });
        return c;
      }),
    );
    try {
      const diffs: string[] = [];
      const named = (list: Record<string, any>[]) => list.find((c) => c.client_properties?.connection_name === 'compare-client');
      const [rc, pc] = await eventually(async () => {
        const r = named((await R.get('/api/connections')).body);
        return r && r.channels === 1 ? [r, named((await P.get('/api/connections')).body)] : null;
      }, "RabbitMQ's connection stats", 30_000);
      diffs.push(...fieldDiffs('connection', rc, pc, ['name', 'node', 'peer_port', 'connected_at', 'client_properties', 'state'], ['vhost', 'user', 'protocol', 'peer_host', 'channels', 'client_properties.connection_name', 'client_properties.product', 'user_provided_name']));
      const [rch, pch] = await eventually(async () => {
        const r = (await R.get('/api/channels')).body[0];
        return r && r.prefetch_count === 10 ? [r, (await P.get('/api/channels')).body.find((c: any) => c.connection_details.name === pc.name)] : null;
      }, "RabbitMQ's channel stats", 30_000);
      diffs.push(...fieldDiffs('channel', rch, pch, ['name', 'node', 'connection_details.name', 'connection_details.peer_host'], ['number', 'vhost', 'user', 'consumer_count', 'messages_unacknowledged', 'prefetch_count']));
      const [rk, pk] = await eventually(async () => {
        const r = (await R.get('/api/consumers/shop')).body;
        return r.length === 1 ? [r[0], (await P.get('/api/consumers/shop')).body[0]] : null;
      }, "RabbitMQ's consumer", 30_000);
      diffs.push(...fieldDiffs('consumer', rk, pk, ['channel_details.name', 'channel_details.connection_name', 'channel_details.node', 'channel_details.peer_port'], ['consumer_tag', 'queue', 'ack_required', 'exclusive', 'prefetch_count', 'arguments', 'active', 'activity_status', 'channel_details.number', 'channel_details.user', 'channel_details.peer_host']));
      const [rq, pq] = await eventually(async () => {
        const r = (await R.get('/api/queues/shop/orders-eu')).body;
        return r.messages === 2 ? [r, (await P.get('/api/queues/shop/orders-eu')).body] : null;
      }, "RabbitMQ's queue depth", 30_000);
      diffs.push(...fieldDiffs('queue orders-eu after traffic', rq, pq, ['message_stats.publish', 'message_stats.publish_details.rate'], ['messages', 'messages_ready', 'messages_unacknowledged', 'message_bytes']));
      const get = { count: 5, ackmode: 'ack_requeue_true', encoding: 'auto' };
      const [rg, pg] = [(await R.post('/api/queues/shop/orders-eu/get', get)).body, (await P.post('/api/queues/shop/orders-eu/get', get)).body];
      expect(pg).toHaveLength(rg.length);
      for (let i = 0; i < rg.length; i++) diffs.push(...fieldDiffs(`get[${i}]`, rg[i], pg[i], [], ['payload', 'payload_bytes', 'payload_encoding', 'redelivered', 'exchange', 'routing_key', 'message_count', 'properties.content_type', 'properties.delivery_mode']));
      expect([(await P.del('/api/queues/shop/orders-all/contents')).status]).toEqual([(await R.del('/api/queues/shop/orders-all/contents')).status]);
      for (const path of ['/api/health/checks/alarms', '/api/health/checks/local-alarms', '/api/health/checks/virtual-hosts', '/api/health/checks/node-is-quorum-critical', '/api/health/checks/node-is-mirror-sync-critical', '/api/health/checks/protocol-listener/amqp091', '/api/health/checks/protocol-listener/nonesuch', '/api/health/checks/port-listener/1', '/api/health/checks/certificate-expiration/1/months', '/api/healthchecks/node', `/api/aliveness-test/shop`]) {
        const [r, p] = [await R.get(path), await P.get(path)];
        // The listeners themselves differ (ports, RabbitMQ's stream and clustering, polybroker's kafka): their lists compare by type.
        const listed = path.endsWith('/nonesuch') ? 'protocols' : path.endsWith('/port-listener/1') ? 'ports' : null;
        if (listed) diffs.push(...(r.status !== p.status ? [`${path}: polybroker ${p.status}, RabbitMQ ${r.status}`] : []), ...fieldDiffs(path, r.body, p.body, [listed], ['status', 'reason', 'missing']));
        else if (r.status !== p.status || JSON.stringify(r.body) !== JSON.stringify(p.body)) diffs.push(`${path}: polybroker ${p.status} ${JSON.stringify(p.body)}, RabbitMQ ${r.status} ${JSON.stringify(r.body)}`);
      }
      const closeR = await R.del(`/api/connections/${encodeURIComponent(rc.name)}`);
      const closeP = await P.del(`/api/connections/${encodeURIComponent(pc.name)}`);
      expect(closeP.status).toBe(closeR.status);
      expect(diffs).toEqual([]);
      report.push(`connections: ${missingFields(rc, pc).join(', ')}`, `channels: ${missingFields(rch, pch).join(', ')}`);
    } finally {
      for (const c of clients) await c.close().catch(() => {});
    }
  }, 120_000);
});

describe('the same script of changes answers the same on both', () => {
  it('status codes and bodies of declare, update and delete of each kind, vhost limits, topic permissions and users agree', async () => {
    // polybroker's own fields (polybroker_*) are extra; lists compare as sets (RabbitMQ sorts them, polybroker keeps creation order).
    const own = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(own).map((x) => JSON.stringify(sortKeys(x))).sort() : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('polybroker')).map(([k, x]) => [k, own(x)])) : v;
    const json = (v: unknown) => JSON.stringify(sortKeys(own(v)));
    const steps: [string, string, unknown?][] = [
      ['PUT', '/api/vhosts/scratch'],
      ['PUT', '/api/vhosts/scratch'],
      ['PUT', '/api/permissions/scratch/guest', { configure: '.*', write: '.*', read: '.*' }],
      ['PUT', '/api/queues/scratch/q1', { durable: true, arguments: { 'x-max-length': 10 } }],
      ['PUT', '/api/queues/scratch/q1', { durable: true, arguments: { 'x-max-length': 10 } }],
      ['PUT', '/api/exchanges/scratch/x1', { type: 'topic', durable: true }],
      ['PUT', '/api/exchanges/scratch/x1', { type: 'topic', durable: true }],
      ['POST', '/api/bindings/scratch/e/x1/q/q1', { routing_key: 'a.#' }],
      ['POST', '/api/bindings/scratch/e/x1/e/amq.fanout', { routing_key: 'b' }],
      ['GET', '/api/bindings/scratch/e/x1/e/amq.fanout'],
      ['GET', '/api/bindings/scratch/e/x1/q/q1'],
      ['GET', '/api/exchanges/scratch/x1/bindings/source'],
      ['GET', '/api/exchanges/scratch/amq.fanout/bindings/destination'],
      ['DELETE', '/api/bindings/scratch/e/x1/e/amq.fanout/b'],
      ['DELETE', '/api/bindings/scratch/e/x1/q/q1/a.%2523'],
      ['DELETE', '/api/bindings/scratch/e/x1/q/q1/a.%2523'],
      ['PUT', '/api/policies/scratch/p1', { pattern: '^q', definition: { 'message-ttl': 1000 }, 'apply-to': 'queues' }],
      ['PUT', '/api/policies/scratch/p1', { pattern: '^q', definition: { 'message-ttl': 2000 }, 'apply-to': 'queues' }],
      ['GET', '/api/policies/scratch'],
      ['DELETE', '/api/policies/scratch/p1'],
      ['DELETE', '/api/policies/scratch/p1'],
      ['PUT', '/api/vhost-limits/scratch/max-queues', { value: 10 }],
      ['PUT', '/api/vhost-limits/scratch/max-connections', { value: 5 }],
      ['GET', '/api/vhost-limits/scratch'],
      ['GET', '/api/parameters/vhost-limits/scratch'],
      ['GET', '/api/parameters/vhost-limits/scratch/limits'],
      ['PUT', '/api/vhost-limits/scratch/max-bananas', { value: 1 }],
      ['DELETE', '/api/vhost-limits/scratch/max-queues'],
      ['DELETE', '/api/vhost-limits/scratch/max-queues'],
      ['GET', '/api/vhost-limits/scratch'],
      ['DELETE', '/api/vhost-limits/scratch/max-connections'],
      ['GET', '/api/vhost-limits/scratch'],
      ['GET', '/api/topic-permissions/scratch/guest'],
      ['PUT', '/api/topic-permissions/scratch/guest', { exchange: 'amq.topic', write: '^a', read: '.*' }],
      ['PUT', '/api/topic-permissions/scratch/guest', { exchange: 'amq.topic', write: '^b', read: '.*' }],
      ['GET', '/api/topic-permissions/scratch/guest'],
      ['GET', '/api/vhosts/scratch/topic-permissions'],
      ['PUT', '/api/topic-permissions/scratch/nobody', { exchange: 'amq.topic', write: '', read: '' }],
      ['DELETE', '/api/topic-permissions/scratch/guest/amq.topic'],
      ['GET', '/api/topic-permissions/scratch/guest'],
      ['PUT', '/api/users/scratch-user', { password: 'x', tags: 'monitoring' }],
      ['PUT', '/api/users/scratch-user', { password: 'y', tags: 'monitoring' }],
      ['GET', '/api/users/scratch-user/topic-permissions'],
      ['POST', '/api/users/bulk-delete', { users: ['scratch-user'] }],
      ['GET', '/api/users/scratch-user'],
      ['DELETE', '/api/queues/scratch/q1'],
      ['DELETE', '/api/queues/scratch/q1'],
      ['DELETE', '/api/exchanges/scratch/x1'],
      ['DELETE', '/api/vhosts/scratch'],
      ['DELETE', '/api/vhosts/scratch'],
      ['GET', '/api/vhost-limits/scratch'],
      ['GET', '/api/whoami'],
      ['GET', '/api/operator-policies'],
    ];
    await R.del('/api/vhosts/scratch');
    await R.del('/api/users/scratch-user');
    const diffs: string[] = [];
    const call = (api: typeof R, [method, path, body]: [string, string, unknown?]) =>
      method === 'GET' ? api.get(path) : method === 'PUT' ? api.put(path, body ?? {}) : method === 'POST' ? api.post(path, body ?? {}) : api.del(path);
    for (const step of steps) {
      const [r, p] = [await call(R, step), await call(P, step)];
      if (r.status !== p.status) diffs.push(`${step[0]} ${step[1]}: polybroker ${p.status} ${JSON.stringify(p.body)}, RabbitMQ ${r.status} ${JSON.stringify(r.body)}`);
      else if (step[0] === 'GET' && r.status === 200 && json(r.body) !== json(p.body)) diffs.push(`${step[0]} ${step[1]}: polybroker ${json(p.body)}, RabbitMQ ${json(r.body)}`);
    }
    expect(diffs).toEqual([]);
  }, 120_000);

  it('vhost limits and topic permissions of the definitions, as each broker lists them', async () => {
    for (const path of ['/api/vhost-limits/shop', '/api/parameters/vhost-limits/shop', '/api/topic-permissions/shop/shopper', '/api/users/shopper/topic-permissions', '/api/vhosts/shop/topic-permissions']) {
      const [r, p] = [await R.get(path), await P.get(path)];
      expect([path, p.status, sortKeys(p.body)]).toEqual([path, r.status, sortKeys(r.body)]);
    }
    const [rn, pn] = [(await R.get('/api/cluster-name')).body, (await P.get('/api/cluster-name')).body];
    expect(fieldDiffs('cluster-name', rn, pn, ['name'])).toEqual([]);
    expect(Array.isArray((await P.get('/api/extensions')).body)).toBe(true);
  });
});

describe('a vhost exported from polybroker, imported into RabbitMQ', () => {
  it('RabbitMQ accepts the export and then holds the same objects and limits', async () => {
    const exported = (await P.get('/api/definitions/shop')).body;
    await R.del('/api/vhosts/shop-copy');
    expect((await R.put('/api/vhosts/shop-copy')).status).toBe(201);
    try {
      const res = await R.post('/api/definitions/shop-copy', exported);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      const copy = (await R.get('/api/definitions/shop-copy')).body;
      const objects = (d: Record<string, Record<string, unknown>[]>, k: string) => (d[k] ?? []).map((x) => JSON.stringify(sortKeys({ ...x, vhost: undefined }))).sort();
      for (const k of ['exchanges', 'queues', 'bindings', 'policies', 'parameters']) expect(objects(copy, k), k).toEqual(objects(exported, k));
    } finally {
      await R.del('/api/vhosts/shop-copy');
    }
  });
});

describe('definitions exported from RabbitMQ, imported into polybroker', () => {
  it('recreates the topology and the user (with its RabbitMQ password hash), which amqplib then uses', async () => {
    const exported = (await R.get('/api/definitions')).body;
    const fresh = await startBroker({ config: { auth: { failedLoginDelayMs: 0 } } });
    try {
      const api = managementClient(fresh.ports.http);
      const res = await api.post('/api/definitions', exported);
      expect(res.status).toBe(200);
      expect(res.body.changes).toEqual(expect.arrayContaining(["added queue 'orders-eu' in vhost 'shop'", "added exchange 'orders' in vhost 'shop'", "added user 'shopper'"]));
      const conn = await amqplib.connect(`amqp://shopper:s3cret@127.0.0.1:${fresh.ports.amqp}/shop`);
      try {
        const ch = await conn.createConfirmChannel();
        ch.publish('orders', 'order.eu.it', Buffer.from('ciao'), { persistent: true });
        await ch.waitForConfirms();
        const eu = await ch.get('orders-eu', { noAck: true });
        expect(eu && eu.content.toString()).toBe('ciao');
        const audit = await ch.get('audit-log', { noAck: true });
        expect(audit && audit.content.toString()).toBe('ciao');
      } finally {
        await conn.close();
      }
      await expect(amqplib.connect(`amqp://shopper:wrong@127.0.0.1:${fresh.ports.amqp}/shop`)).rejects.toThrow();
      expect((await api.get('/api/policies/shop')).body).toEqual([{ vhost: 'shop', name: 'eu-limit', pattern: '^orders-eu$', 'apply-to': 'queues', definition: { 'max-length-bytes': 1048576 }, priority: 1 }]);
    } finally {
      await fresh.stop();
    }
  }, 120_000);
});

/**
 * RabbitMQ's own CLI, rabbitmqadmin (Debian's rabbitmq-server package installs it as
 * /usr/bin/rabbitmqadmin; `npm test` installs the package when missing), driving polybroker's
 * management API as it drives
 * RabbitMQ's: every list, show overview, declare / delete of each object kind, publish and get
 * with ackmode and count, purge, export / import, close connection. What it changes is checked
 * through amqplib (a limit refuses a connection, a closed connection sees 320...), not only by
 * listing it back.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { makeTestCerts } from '../../test/helpers/certs.js';
import { eventually, managementClient } from '../../test/management/mgmt-client.js';

// The stock CLI from Debian's rabbitmq-server package (.ci/apt-packages.txt); RABBITMQADMIN overrides.
const RABBITMQADMIN = process.env.RABBITMQADMIN ?? '/usr/bin/rabbitmqadmin';
if (!existsSync(RABBITMQADMIN)) throw new Error(`${RABBITMQADMIN} is missing: install Debian's rabbitmq-server package (apt-get install -y rabbitmq-server), which ships rabbitmqadmin`);

const CONFIG = {
  auth: { failedLoginDelayMs: 0 },
  users: [{ name: 'watcher', password: 'watch-pw', tags: ['monitoring'], permissions: { '/': { configure: '', write: '', read: '.*' } } }],
  vhosts: {
    '/': {
      exchanges: [{ name: 'events', type: 'topic' }],
      queues: [{ name: 'orders', durable: true }],
      bindings: [{ source: 'events', destination: 'orders', routingKey: 'order.#' }],
    },
  },
};

let broker: RunningBroker;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs rabbitmqadmin with Debian's python3 against the broker's HTTP listener. */
function admin(args: string[], user = 'guest', password = 'guest', stdin?: string): Promise<Run> {
  return new Promise((res) => {
    const child = execFile('/usr/bin/python3', [RABBITMQADMIN, '-H', '127.0.0.1', '-P', String(broker.ports.http), '-u', user, '-p', password, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

/** rabbitmqadmin that must succeed. */
async function ok(...args: string[]): Promise<string> {
  const r = await admin(args);
  expect(r.code, `rabbitmqadmin ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

/** `-f raw_json list ...` parsed. */
async function list<T = Record<string, any>>(...args: string[]): Promise<T[]> {
  return JSON.parse(await ok('-f', 'raw_json', 'list', ...args)) as T[];
}

beforeAll(async () => {
  broker = await startBroker({ config: CONFIG });
  dir = mkdtempSync(join(tmpdir(), 'pb-rabbitmqadmin-'));
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

describe('rabbitmqadmin lists and shows', () => {
  it('lists every object kind it knows, in its table format with its default columns', async () => {
    const queues = await ok('list', 'queues');
    expect(queues).toMatch(/\|\s+name\s+\|\s+messages\s+\|/);
    expect(queues).toMatch(/\|\s+orders\s+\|\s+0\s+\|/);
    expect(await ok('list', 'exchanges')).toMatch(/\|\s+events\s+\|\s+topic\s+\|/);
    expect(await ok('list', 'bindings')).toMatch(/\|\s+events\s+\|\s+orders\s+\|\s+order\.#\s+\|/);
    expect(await ok('list', 'vhosts')).toMatch(/\|\s+\/\s+\|\s+0\s+\|/);
    expect(await ok('list', 'users')).toMatch(/watcher/);
    expect(await ok('list', 'permissions')).toMatch(/watcher/);
    expect(await ok('list', 'nodes')).toMatch(/\|\s+name\s+\|\s+type\s+\|\s+mem_used\s+\|/);
    for (const kind of ['connections', 'channels', 'consumers', 'policies', 'parameters', 'vhost_limits', 'operator_policies']) {
      const r = await admin(['list', kind]);
      expect(r.code, `${kind}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toBe('No items\n');
    }
    const overview = await ok('show', 'overview');
    expect(overview).toMatch(/rabbitmq_version\s+\|\s+cluster_name\s+\|\s+queue_totals\.messages\s+\|\s+object_totals\.queues/);
  });

  it('passes columns and sort to the server, as RabbitMQ answers them', async () => {
    await ok('declare', 'queue', 'name=zz-last');
    await ok('declare', 'queue', 'name=aa-first');
    const sorted = await list<{ name: string }>('queues', 'name', '--sort=name');
    expect(Object.keys(sorted[0]!)).toEqual(['name']);
    const names = sorted.map((q) => q.name);
    expect(names).toEqual([...names].sort());
    const reversed = (await list<{ name: string }>('queues', 'name', '--sort=name', '--sort-reverse')).map((q) => q.name);
    expect(reversed).toEqual([...names].reverse());
    const nested = await list('queues', 'name', 'message_stats.publish', 'arguments');
    expect(nested.find((q) => q.name === 'orders')).toEqual({ name: 'orders', message_stats: { publish: 0 }, arguments: {} });
    await ok('delete', 'queue', 'name=zz-last');
    await ok('delete', 'queue', 'name=aa-first');
  });

  it('refuses what the tags refuse: a monitoring user may list queues, not users', async () => {
    expect((await admin(['list', 'queues'], 'watcher', 'watch-pw')).code).toBe(0);
    const users = await admin(['list', 'users'], 'watcher', 'watch-pw');
    expect(users.code).not.toBe(0);
    expect(users.stderr).toMatch(/Received response 403/);
    const wrong = await admin(['list', 'queues'], 'watcher', 'nope');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toMatch(/Access refused/);
  });
});

describe('rabbitmqadmin declares and deletes', () => {
  it('declares a vhost, queue, exchange, bindings, user, permission and policy that AMQP clients then use', async () => {
    await ok('declare', 'vhost', 'name=shop');
    await ok('-V', 'shop', 'declare', 'exchange', 'name=orders-x', 'type=direct', 'durable=true');
    await ok('-V', 'shop', 'declare', 'queue', 'name=paid', 'durable=true', 'arguments={"x-max-length": 100}');
    await ok('-V', 'shop', 'declare', 'binding', 'source=orders-x', 'destination=paid', 'routing_key=paid');
    await ok('-V', 'shop', 'declare', 'exchange', 'name=audit', 'type=fanout');
    await ok('-V', 'shop', 'declare', 'binding', 'source=orders-x', 'destination_type=exchange', 'destination=audit', 'routing_key=paid');
    await ok('declare', 'user', 'name=clerk', 'password=clerk-pw', 'tags=management');
    await ok('declare', 'permission', 'vhost=shop', 'user=clerk', 'configure=^paid$', 'write=^orders-x$', 'read=^paid$');
    await ok('-V', 'shop', 'declare', 'policy', 'name=ttl', 'pattern=^paid$', 'definition={"message-ttl": 60000}', 'apply-to=queues', 'priority=1');

    expect((await list('queues', '-V', 'shop')).find((q) => q.name === 'paid')).toMatchObject({ durable: true, arguments: { 'x-max-length': 100 }, policy: 'ttl' });
    expect(await list('bindings', '-V', 'shop')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'orders-x', destination: 'paid', destination_type: 'queue', routing_key: 'paid' }),
        expect.objectContaining({ source: 'orders-x', destination: 'audit', destination_type: 'exchange', routing_key: 'paid' }),
      ]),
    );
    expect(await list('users')).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'clerk', tags: ['management'] })]));
    expect(await list('policies')).toEqual([expect.objectContaining({ vhost: 'shop', name: 'ttl', pattern: '^paid$', 'apply-to': 'queues', priority: 1, definition: { 'message-ttl': 60000 } })]);

    // The user, permissions and routing are real: clerk publishes through orders-x and reads paid.
    const conn = await amqplib.connect(`amqp://clerk:clerk-pw@127.0.0.1:${broker.ports.amqp}/shop`);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish('orders-x', 'paid', Buffer.from('order 1'));
      await ch.waitForConfirms();
      const got = await ch.get('paid', { noAck: true });
      expect(got && got.content.toString()).toBe('order 1');
    } finally {
      await conn.close();
    }

    // A binding with arguments is deleted by the properties_key the list gives (routing key ~ arguments hash).
    await ok('-V', 'shop', 'declare', 'binding', 'source=amq.headers', 'destination=paid', 'arguments={"x-match": "all", "region": "eu"}');
    const headers = (await list('bindings', '-V', 'shop')).find((b) => b.source === 'amq.headers')!;
    expect(headers).toMatchObject({ destination: 'paid', routing_key: '', arguments: { 'x-match': 'all', region: 'eu' }, properties_key: expect.stringMatching(/^~./) });
    await ok('-V', 'shop', 'delete', 'binding', 'source=amq.headers', 'destination_type=queue', 'destination=paid', `properties_key=${headers.properties_key}`);
    await ok('-V', 'shop', 'delete', 'binding', 'source=orders-x', 'destination_type=exchange', 'destination=audit', 'properties_key=paid');
    await ok('-V', 'shop', 'delete', 'binding', 'source=orders-x', 'destination_type=queue', 'destination=paid', 'properties_key=paid');
    expect((await list('bindings', '-V', 'shop')).filter((b) => b.source !== '')).toEqual([]);
    await ok('-V', 'shop', 'delete', 'policy', 'name=ttl');
    await ok('-V', 'shop', 'delete', 'queue', 'name=paid');
    await ok('-V', 'shop', 'delete', 'exchange', 'name=audit');
    await ok('-V', 'shop', 'delete', 'exchange', 'name=orders-x');
    await ok('delete', 'permission', 'vhost=shop', 'user=clerk');
    await ok('delete', 'user', 'name=clerk');
    await ok('delete', 'vhost', 'name=shop');
    expect((await list('vhosts')).map((v) => v.name)).toEqual(['/']);
    expect((await list('users')).map((u) => u.name)).not.toContain('clerk');
    const missing = await admin(['delete', 'queue', 'name=paid']);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/Not found: \/api\/queues\/%2F\/paid/);
  });

  it('sets vhost limits that the broker enforces, and removes them', async () => {
    await ok('declare', 'vhost', 'name=limited');
    await ok('declare', 'vhost_limit', 'vhost=limited', 'name=max-queues', 'value=1');
    await ok('declare', 'vhost_limit', 'vhost=limited', 'name=max-connections', 'value=0');
    expect(await list('vhost_limits')).toEqual([{ vhost: 'limited', value: { 'max-queues': 1, 'max-connections': 0 } }]);
    expect(await list('parameters')).toEqual([{ vhost: 'limited', component: 'vhost-limits', name: 'limits', value: { 'max-queues': 1, 'max-connections': 0 } }]);

    await ok('-V', 'limited', 'declare', 'queue', 'name=one');
    const second = await admin(['-V', 'limited', 'declare', 'queue', 'name=two']);
    expect(second.code).not.toBe(0);
    expect(second.stdout + second.stderr).toMatch(/queue limit \(1\) of vhost 'limited'/);
    await expect(amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}/limited`)).rejects.toThrow();

    await ok('delete', 'vhost_limit', 'vhost=limited', 'name=max-connections');
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}/limited`);
    await conn.close();
    await ok('delete', 'vhost_limit', 'vhost=limited', 'name=max-queues');
    await ok('-V', 'limited', 'declare', 'queue', 'name=two');
    expect(await list('vhost_limits')).toEqual([]);
    const bad = await admin(['declare', 'vhost_limit', 'vhost=limited', 'name=max-bananas', 'value=1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/unrecognised limit 'max-bananas'/);
    await ok('delete', 'vhost', 'name=limited');
  });
});

describe('rabbitmqadmin publishes, gets and purges', () => {
  it('publishes with properties (and from stdin), gets with ackmode and count, purges', async () => {
    await ok('declare', 'queue', 'name=inbox', 'durable=false');
    await ok('publish', 'routing_key=inbox', 'payload=first', 'properties={"content_type":"text/plain","message_id":"m-1","delivery_mode":2,"headers":{"tenant":"acme"}}');
    await ok('publish', 'exchange=amq.default', 'routing_key=inbox', 'payload=second');
    // Without payload= it reads stdin and sends it base64-encoded.
    const fromStdin = await admin(['publish', 'routing_key=inbox'], 'guest', 'guest', 'third\nfrom stdin');
    expect(fromStdin.code).toBe(0);
    await ok('publish', 'routing_key=inbox', 'payload_encoding=base64', `payload=${Buffer.from([0xff, 0xfe, 0x00]).toString('base64')}`);
    const unrouted = await admin(['publish', 'routing_key=nowhere', 'payload=x']);
    expect(unrouted.stdout).toMatch(/Message published but NOT routed/);

    expect((await list('queues', 'name', 'messages')).find((q) => q.name === 'inbox')).toEqual({ name: 'inbox', messages: 4 });
    // ackmode=ack_requeue_true (the default) leaves them, marked redelivered.
    const peek = JSON.parse(await ok('-f', 'raw_json', 'get', 'queue=inbox', 'count=2')) as Record<string, any>[];
    expect(peek.map((m) => m.payload)).toEqual(['first', 'second']);
    expect(peek[0]).toMatchObject({ payload_bytes: 5, payload_encoding: 'string', redelivered: false, exchange: '', routing_key: 'inbox', message_count: 3 });
    expect(peek[0]!.properties).toMatchObject({ content_type: 'text/plain', message_id: 'm-1', delivery_mode: 2, headers: { tenant: 'acme' } });
    const again = JSON.parse(await ok('-f', 'raw_json', 'get', 'queue=inbox', 'count=10')) as Record<string, any>[];
    expect(again.map((m) => m.redelivered)).toEqual([true, true, false, false]);
    expect(again[2]).toMatchObject({ payload_encoding: 'string', payload: 'third\nfrom stdin' });
    // Not UTF-8: answered base64-encoded (encoding=auto, the default).
    expect(again[3]).toMatchObject({ payload_encoding: 'base64', payload: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), payload_bytes: 3 });
    // ack_requeue_false takes one away for good.
    const taken = JSON.parse(await ok('-f', 'raw_json', 'get', 'queue=inbox', 'ackmode=ack_requeue_false')) as Record<string, any>[];
    expect(taken.map((m) => m.payload)).toEqual(['first']);
    expect((await list('queues', 'name', 'messages')).find((q) => q.name === 'inbox')).toEqual({ name: 'inbox', messages: 3 });
    // The table form shows the columns of RabbitMQ's.
    expect(await ok('get', 'queue=inbox')).toMatch(/\|\s+routing_key\s+\|\s+exchange\s+\|\s+message_count\s+\|\s+payload\s+\|\s+payload_bytes\s+\|\s+payload_encoding\s+\|\s+redelivered\s+\|/);
    await ok('purge', 'queue', 'name=inbox');
    expect((await list('queues', 'name', 'messages')).find((q) => q.name === 'inbox')).toEqual({ name: 'inbox', messages: 0 });
    expect(await ok('-f', 'raw_json', 'get', 'queue=inbox')).toBe('[]\n');
    await ok('delete', 'queue', 'name=inbox');
  });
});

describe('rabbitmqadmin with live connections', () => {
  it('lists connections, channels and consumers of an amqplib client, and closes its connection', async () => {
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`, { clientProperties: { connection_name: 'billing-worker' } });
    const closed = new Promise<Error | undefined>((res) => conn.on('close', res));
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    await ch.prefetch(7);
    await ch.consume('orders', () => {}, { consumerTag: 'billing-1', arguments: { 'x-priority': 3 } });

    const conns = await eventually(async () => {
      const l = await list('connections');
      return l.length ? l : null;
    }, 'the connection listed');
    expect(conns[0]).toMatchObject({ user: 'guest', vhost: '/', protocol: 'AMQP 0-9-1', user_provided_name: 'billing-worker', channels: 1 });
    expect(await ok('list', 'connections')).toMatch(/\|\s+name\s+\|\s+user\s+\|\s+channels\s+\|/);
    const channels = await list('channels');
    expect(channels).toEqual([expect.objectContaining({ user: 'guest', number: 1, consumer_count: 1, prefetch_count: 7 })]);
    const consumers = await list('consumers');
    expect(consumers).toEqual([
      expect.objectContaining({
        consumer_tag: 'billing-1',
        queue: { name: 'orders', vhost: '/' },
        ack_required: true,
        exclusive: false,
        prefetch_count: 7,
        arguments: { 'x-priority': 3 },
        active: true,
        activity_status: 'up',
        channel_details: expect.objectContaining({ name: channels[0]!.name, connection_name: conns[0]!.name, number: 1, user: 'guest' }),
      }),
    ]);
    expect(await list('consumers', '-V', '/')).toHaveLength(1);

    await ok('close', 'connection', `name=${conns[0]!.name}`);
    const err = await closed;
    expect(String(err)).toMatch(/320/);
    await eventually(async () => (await list('connections')).length === 0, 'the connection gone');
  });
});

describe('rabbitmqadmin export and import', () => {
  it('exports definitions (vhost limits as vhost-limits parameters) and imports them into a fresh broker', async () => {
    await ok('declare', 'vhost', 'name=exported');
    await ok('declare', 'vhost_limit', 'vhost=exported', 'name=max-queues', 'value=5');
    await ok('declare', 'user', 'name=importer', 'password=imp-pw', 'tags=management');
    await ok('declare', 'permission', 'vhost=exported', 'user=importer', 'configure=.*', 'write=.*', 'read=.*');
    await ok('-V', 'exported', 'declare', 'queue', 'name=kept', 'arguments={"x-message-ttl": 5000}');
    // Topic permissions have no rabbitmqadmin command: set through the API, as RabbitMQ users do.
    expect((await managementClient(broker.ports.http).put('/api/topic-permissions/exported/importer', { exchange: 'amq.topic', write: '^sensors\\.', read: '.*' })).status).toBe(201);
    const file = join(dir, 'defs.json');
    await ok('export', file);
    const defs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any[]>;
    expect(defs.parameters).toEqual([{ value: { 'max-queues': 5 }, vhost: 'exported', component: 'vhost-limits', name: 'limits' }]);
    expect(defs.topic_permissions).toEqual([{ user: 'importer', vhost: 'exported', exchange: 'amq.topic', write: '^sensors\\.', read: '.*' }]);

    const fresh = await startBroker({ config: { auth: { failedLoginDelayMs: 0 } } });
    try {
      const r = await new Promise<Run>((res) =>
        execFile('/usr/bin/python3', [RABBITMQADMIN, '-H', '127.0.0.1', '-P', String(fresh.ports.http), 'import', file], (e, stdout, stderr) => res({ code: e ? 1 : 0, stdout, stderr })),
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const api = managementClient(fresh.ports.http);
      expect((await api.get('/api/vhost-limits/exported')).body).toEqual([{ vhost: 'exported', value: { 'max-queues': 5 } }]);
      expect((await api.get('/api/topic-permissions/exported/importer')).body).toEqual([{ user: 'importer', vhost: 'exported', exchange: 'amq.topic', write: '^sensors\\.', read: '.*' }]);
      expect((await api.get('/api/queues/exported/kept')).body).toMatchObject({ arguments: { 'x-message-ttl': 5000 } });
      // The imported user logs in with its password (the exported hash) and is held to the imported limit.
      const conn = await amqplib.connect(`amqp://importer:imp-pw@127.0.0.1:${fresh.ports.amqp}/exported`);
      const errors: string[] = [];
      const closed = new Promise((res) => conn.on('close', res));
      conn.on('error', (e: Error) => errors.push(e.message));
      const ch = await conn.createChannel();
      ch.on('error', (e: Error) => errors.push(e.message));
      for (let i = 0; i < 4; i++) await ch.assertQueue(`q${i}`);
      // The sixth queue is refused on its channel with 406, as RabbitMQ does.
      await expect(ch.assertQueue('q-over')).rejects.toThrow(/406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - cannot declare queue 'q-over': queue limit in vhost 'exported' \(5\) is reached"/);
      await conn.close().catch(() => {});
      await closed;
    } finally {
      await fresh.stop();
    }

    // A vhost export (-V) and its import into another vhost.
    const vfile = join(dir, 'vhost.json');
    await ok('-V', 'exported', 'export', vfile);
    await ok('declare', 'vhost', 'name=copy');
    await ok('-V', 'copy', 'import', vfile);
    expect((await list('queues', '-V', 'copy')).map((q) => q.name)).toEqual(['kept']);
    expect(await list('vhost_limits')).toEqual(expect.arrayContaining([{ vhost: 'copy', value: { 'max-queues': 5 } }]));
    // An import polybroker refuses is refused whole, and rabbitmqadmin prints the reason.
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ vhosts: [{ name: 'never' }], parameters: [{ component: 'federation-upstream', vhost: 'never', name: 'up', value: { uri: 'amqp://x' } }] }));
    const bad = await admin(['import', badFile]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/federation-upstream.*no such component/);
    expect((await list('vhosts')).map((v) => v.name)).not.toContain('never');
  }, 120_000);
});

describe('rabbitmqadmin over HTTPS', () => {
  it('verifies the broker certificate against the CA (--ssl --ssl-ca-cert-file) and lists', async () => {
    const certs = makeTestCerts();
    const tls = await startBroker({ config: { tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }, listeners: { https: { enabled: true } } } });
    const run = (extra: string[]) =>
      new Promise<Run>((res) =>
        execFile('/usr/bin/python3', [RABBITMQADMIN, '--ssl', '-H', 'localhost', '-P', String(tls.ports.https), ...extra, '-f', 'raw_json', 'list', 'vhosts'], { timeout: 30_000 }, (e, stdout, stderr) => res({ code: e ? 1 : 0, stdout, stderr })),
      );
    try {
      const trusted = await run(['--ssl-ca-cert-file', certs.ca]);
      expect(trusted.code, trusted.stdout + trusted.stderr).toBe(0);
      expect((JSON.parse(trusted.stdout) as { name: string }[]).map((v) => v.name)).toEqual(['/']);
      const untrusted = await run([]);
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.stdout + untrusted.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED|certificate verify failed/);
    } finally {
      await tls.stop();
    }
  });
});

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startBroker, tempDir, type RunningBroker } from '../helpers/broker.js';
import { eventually, managementClient } from './mgmt-client.js';

const YAML = `
auth:
  failedLoginDelayMs: 0
vhosts:
  /:
    queues:
      - { name: jobs, durable: true }
      - { name: tmp.a, durable: false }
      - { name: tmp.b, durable: false }
    streams:
      - { name: audit, partitions: 2 }
`;

let broker: RunningBroker;
const ctl = (...args: string[]) => runCli(['ctl', '--data-dir', broker.dataDir, ...args], { timeoutMs: 60_000 });

beforeAll(async () => {
  broker = await startBroker({ config: YAML });
}, 60_000);
afterAll(async () => {
  await broker?.stop();
});

describe('polybroker ctl', () => {
  it('keeps its socket owner-only in the data dir and reports status', async () => {
    const dir = join(broker.dataDir, 'ctl');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'polybroker.sock')).mode & 0o777).toBe(0o600);
    const r = await ctl('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status: ok/);
    expect(r.stdout).toContain(`pid: ${broker.pid}`);
    const j = await ctl('--json', 'status');
    expect(JSON.parse(j.stdout)).toMatchObject({ status: 'ok', pid: broker.pid });
  });

  it('says in one line that no broker runs on a data dir', async () => {
    const r = await runCli(['ctl', '--data-dir', tempDir(), 'list', 'queues']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^polybroker ctl: no broker is running with this data dir/);
  });

  it('lists queues as a table and as JSON, purges and deletes by pattern with a progress line', async () => {
    const api = managementClient(broker.ports.http);
    for (let i = 0; i < 3; i++) await api.post('/api/exchanges/%2F/amq.default/publish', { routing_key: 'jobs', payload: `j${i}`, payload_encoding: 'string', properties: {} });
    const table = await ctl('list', 'queues');
    expect(table.stdout.split('\n')[0]).toMatch(/^vhost\s+name\s+type\s+messages_ready/);
    expect(table.stdout).toMatch(/\/\s+jobs\s+classic\s+3\s/);
    const json = JSON.parse((await ctl('list', 'queues', '--json')).stdout) as { name: string; messages_ready: number }[];
    expect(json.find((q) => q.name === 'jobs')?.messages_ready).toBe(3);
    const purge = await ctl('purge', 'jobs');
    expect(purge.stdout).toMatch(/purged 1 queue\(s\): jobs/);
    expect((await api.get('/api/queues/%2F/jobs')).body.messages).toBe(0);
    const del = await ctl('delete', 'queue', '--pattern', '^tmp\\.');
    expect(del.code).toBe(0);
    expect(del.stdout).toMatch(/deleted 2 queue\(s\): tmp.a, tmp.b/);
    expect(del.stderr).toMatch(/deleting \[#+\] 2\/2/);
    expect((await api.get('/api/queues/%2F/tmp.a')).status).toBe(404);
    const missing = await ctl('purge', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^polybroker ctl: Not Found|no queue/);
  });

  it('lists streams, groups, sessions and connections; closes a connection', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'ctl-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'audit', messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'auditors', topic: 'audit', partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] });
    try {
      expect((await ctl('list', 'streams')).stdout).toMatch(/\/\s+audit\s+2\s+10/);
      expect((await ctl('list', 'groups')).stdout).toMatch(/\/\s+auditors\s+\S+\s+0\s+10/);
      const conns = JSON.parse((await ctl('list', 'connections', '--json')).stdout) as { name: string; polybroker_protocol: string }[];
      const k = conns.find((c) => c.polybroker_protocol === 'kafka');
      expect(k).toBeDefined();
      const closed = await ctl('close', k!.name);
      expect(closed.stdout).toBe(`closed ${k!.name}\n`);
      expect((await ctl('close', 'conn-999999')).stderr).toMatch(/no connection 'conn-999999'/);
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  });

  it('resets a group’s offsets: dry run first, then --execute', async () => {
    const dry = await ctl('reset-offsets', 'auditors', '--stream', 'audit', '--to-latest');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/dry run: nothing committed/);
    const before = JSON.parse((await ctl('list', 'groups', '--json')).stdout) as { group: string; lag: number }[];
    expect(before.find((g) => g.group === 'auditors')?.lag).toBe(10);
    const done = await ctl('reset-offsets', 'auditors', '--stream', 'audit', '--shift-by', '3', '--execute');
    expect(done.stdout).toMatch(/committed 2 offset\(s\)/);
    const after = JSON.parse((await ctl('list', 'groups', '--json')).stdout) as { group: string; offsets: { committed_offset: number; high_watermark: number }[] }[];
    for (const o of after.find((g) => g.group === 'auditors')!.offsets) expect(o.committed_offset).toBe(Math.min(3, o.high_watermark));
    expect((await ctl('reset-offsets', 'auditors')).stderr).toMatch(/say where to/);
  });

  it('exports and imports definitions with a progress bar', async () => {
    const file = join(tempDir(), 'defs.json');
    expect((await ctl('export', file)).code).toBe(0);
    const defs = JSON.parse(readFileSync(file, 'utf8')) as { queues: { name: string }[] };
    expect(defs.queues.map((q) => q.name)).toContain('jobs');
    defs.queues.push(...Array.from({ length: 250 }, (_, i) => ({ name: `bulk-${i}`, vhost: '/', durable: true, auto_delete: false, arguments: {} })));
    writeFileSync(file, JSON.stringify(defs));
    const imp = await ctl('import', file);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/imported: 250 change\(s\)/);
    expect(imp.stderr).toMatch(/importing \[#+\] \d+\/\d+/);
    expect((await ctl('import', file)).stdout).toMatch(/imported: nothing changed/);
  });
});

describe('hot reload', () => {
  it('applies added definitions and users from the file with ctl reload, and reports them', async () => {
    writeFileSync(broker.configFile, `${YAML}      - { name: added-by-reload, durable: true }\nusers:\n  - { name: reloaded, password: pw1, tags: [management], permissions: { /: { configure: ".*", write: ".*", read: ".*" } } }\n`.replace('    streams:\n      - { name: audit, partitions: 2 }\n      - { name: added-by-reload, durable: true }', '      - { name: added-by-reload, durable: true }\n    streams:\n      - { name: audit, partitions: 2 }'));
    const r = await ctl('reload');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("added queue 'added-by-reload' in vhost '/'");
    expect(r.stdout).toContain("updated user 'reloaded'");
    expect((await managementClient(broker.ports.http, 'reloaded', 'pw1').get('/api/queues/%2F/added-by-reload')).status).toBe(200);
    expect((await ctl('reload')).stdout).toMatch(/reloaded: nothing changed/);
  });

  it('changes nothing and says why when the file is invalid', async () => {
    const good = readFileSync(broker.configFile, 'utf8');
    writeFileSync(broker.configFile, good.replace('added-by-reload', 'also-new').replace('failedLoginDelayMs: 0', 'failedLoginDelayMs: -5'));
    const r = await ctl('reload');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failedLoginDelayMs/);
    expect((await managementClient(broker.ports.http).get('/api/queues/%2F/also-new')).status).toBe(404);
    writeFileSync(broker.configFile, good);
  });

  it('is all or nothing: a definition the core would refuse (a queue redeclared with other arguments) refuses the reload before anything is applied, and says why', async () => {
    const good = readFileSync(broker.configFile, 'utf8');
    // In file order: a new vhost with a queue, a policy, an exchange and a queue in '/', then
    // 'jobs' with arguments it does not have; the user after it is never reached.
    writeFileSync(
      broker.configFile,
      `auth:
  failedLoginDelayMs: 0
vhosts:
  reload-vhost:
    queues:
      - { name: in-new-vhost, durable: true }
  /:
    policies:
      - { name: reload-p, pattern: "^reload", definition: { message-ttl: 1000 } }
    exchanges:
      - { name: reload-x, type: topic }
    queues:
      - { name: reload-q, durable: true }
      - { name: jobs, durable: true, arguments: { x-max-length: 5 } }
users:
  - { name: reload-user, password: pw }
`,
    );
    const api = managementClient(broker.ports.http);
    const r = await ctl('reload');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("queue 'jobs' in vhost '/'");
    expect(r.stderr).toContain('nothing was changed');
    expect((await api.get('/api/vhosts/reload-vhost')).status).toBe(404);
    expect((await api.get('/api/exchanges/%2F/reload-x')).status).toBe(404);
    expect((await api.get('/api/queues/%2F/reload-q')).status).toBe(404);
    expect((await api.get('/api/policies/%2F')).body).not.toContainEqual(expect.objectContaining({ name: 'reload-p' }));
    expect((await api.get('/api/users/reload-user')).status).toBe(404);
    expect((await api.get<{ arguments: Record<string, unknown> }>('/api/queues/%2F/jobs')).body.arguments).toEqual({});
    writeFileSync(broker.configFile, good);
  });

  it('is all or nothing on SIGHUP too: a binding to a missing exchange refuses the reload; the queue before it is not added', async () => {
    const good = readFileSync(broker.configFile, 'utf8');
    writeFileSync(
      broker.configFile,
      `auth:
  failedLoginDelayMs: 0
vhosts:
  /:
    queues:
      - { name: orphan-q, durable: true }
    bindings:
      - { source: nowhere, destination: orphan-q, routingKey: k }
`,
    );
    process.kill(broker.pid, 'SIGHUP');
    const refusedLine = (l: string) => l.includes('reload failed') && l.includes("'nowhere'") && l.includes('nothing was changed');
    await eventually(async () => broker.output().split('\n').some(refusedLine), 'the refused reload in the log');
    expect((await managementClient(broker.ports.http).get('/api/queues/%2F/orphan-q')).status).toBe(404);
    writeFileSync(broker.configFile, good);
  });

  it('checks users before applying anything: a permission that is not a regular expression refuses the reload, and the queue and the user before it are not added', async () => {
    const good = readFileSync(broker.configFile, 'utf8');
    writeFileSync(
      broker.configFile,
      `auth:
  failedLoginDelayMs: 0
vhosts:
  /:
    queues:
      - { name: before-bad-user, durable: true }
users:
  - { name: fine-user, password: pw }
  - { name: bad-regex-user, password: pw, permissions: { /: { configure: "(", write: ".*", read: ".*" } } }
`,
    );
    const api = managementClient(broker.ports.http);
    const r = await ctl('reload');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/user 'bad-regex-user': permissions of vhost '\/': configure is not a valid regular expression/);
    expect(r.stderr).toContain('nothing was changed');
    expect((await api.get('/api/queues/%2F/before-bad-user')).status).toBe(404);
    expect((await api.get('/api/users/fine-user')).status).toBe(404);
    writeFileSync(broker.configFile, good);
  });

  it('reloads on SIGHUP', async () => {
    const good = readFileSync(broker.configFile, 'utf8');
    writeFileSync(broker.configFile, good.replace('added-by-reload', 'from-sighup'));
    process.kill(broker.pid, 'SIGHUP');
    await eventually(async () => (await managementClient(broker.ports.http).get('/api/queues/%2F/from-sighup')).status === 200, 'the queue from SIGHUP');
    await eventually(async () => /config reloaded: \d+ change/.test(broker.output()), 'the reload log line');
  });
});

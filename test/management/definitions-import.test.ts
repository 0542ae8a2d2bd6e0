/**
 * Definitions import is all or nothing (POST /api/definitions, `ctl import`): a document with a
 * problem anywhere (here mostly in its permissions, which used to be checked only after the
 * definitions were applied) is refused with a 400 / a one-line ctl error naming it, and the
 * broker's definitions, users and permissions are exactly as before. RabbitMQ 3.10 applies
 * users and vhosts before it finds such a problem (see docs/management.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startBroker, tempDir, type RunningBroker } from '../helpers/broker.js';
import { managementClient } from './mgmt-client.js';

/** RabbitMQ's password_hash: base64(salt(4) ++ sha256(salt ++ password)). */
function rabbitHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash('sha256').update(salt).update(password).digest()]).toString('base64');
}

const all = { configure: '.*', write: '.*', read: '.*' };
const IMP_HASH = rabbitHash('imp-pw');

/** A document touching every kind of object; `extra` adds the problem. */
function document(extra: Record<string, unknown[]> = {}): Record<string, unknown[]> {
  const doc: Record<string, unknown[]> = {
    vhosts: [{ name: 'imp-v' }],
    users: [{ name: 'imp-user', password_hash: IMP_HASH, hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['management'] }],
    permissions: [{ user: 'imp-user', vhost: 'imp-v', ...all }, { user: 'guest', vhost: 'imp-v', ...all }],
    topic_permissions: [{ user: 'imp-user', vhost: 'imp-v', exchange: 'amq.topic', write: '^a', read: '.*' }],
    policies: [{ vhost: '/', name: 'imp-p', pattern: '^imp', 'apply-to': 'queues', definition: { 'message-ttl': 60000 }, priority: 0 }],
    exchanges: [{ name: 'imp-x', vhost: 'imp-v', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} }],
    queues: [
      { name: 'imp-q', vhost: 'imp-v', durable: true, auto_delete: false, arguments: {} },
      { name: 'imp-q2', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-max-length': 10 } },
    ],
    bindings: [{ source: 'imp-x', vhost: 'imp-v', destination: 'imp-q', destination_type: 'queue', routing_key: 'a.#', arguments: {} }],
  };
  for (const [k, v] of Object.entries(extra)) doc[k] = [...(doc[k] ?? []), ...v];
  return doc;
}

let broker: RunningBroker;
let api: ReturnType<typeof managementClient>;

beforeAll(async () => {
  broker = await startBroker({
    config: {
      auth: { failedLoginDelayMs: 0 },
      users: [{ name: 'dev', password: 'dev-pw', tags: ['management'], permissions: { dev: all } }],
      vhosts: { '/': { queues: [{ name: 'jobs', durable: true }] }, dev: { queues: [{ name: 'dev-q', durable: true }] } },
    },
  });
  api = managementClient(broker.ports.http);
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

/** Everything an import can change: definitions (vhosts, exchanges, queues, bindings, policies), users, permissions, topic permissions. */
async function snapshot(): Promise<unknown> {
  const defs = (await api.get<Record<string, unknown>>('/api/definitions')).body;
  delete defs.product_version;
  return { defs, permissions: (await api.get('/api/permissions')).body, topic: (await api.get('/api/topic-permissions')).body };
}

describe('POST /api/definitions is all or nothing', () => {
  it('refuses a document with a permission for an unknown user (400 naming it) and changes nothing; the same document without it imports', async () => {
    const before = await snapshot();
    const bad = await api.post('/api/definitions', document({ permissions: [{ user: 'ghost', vhost: '/', ...all }] }));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'bad_request' });
    expect(bad.body.reason).toMatch(/permission of user 'ghost' in vhost '\/': no user 'ghost'.*nothing was changed$/);
    expect(await snapshot()).toEqual(before);
    for (const path of ['/api/vhosts/imp-v', '/api/users/imp-user', '/api/queues/%2F/imp-q2', '/api/queues/imp-v/imp-q', '/api/exchanges/imp-v/imp-x']) {
      expect((await api.get(path)).status, path).toBe(404);
    }
    expect((await api.get('/api/policies/%2F')).body).not.toContainEqual(expect.objectContaining({ name: 'imp-p' }));

    const good = await api.post('/api/definitions', document());
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    expect(good.body.changes).toEqual(expect.arrayContaining(["added vhost 'imp-v'", "added queue 'imp-q2' in vhost '/'", "added exchange 'imp-x' in vhost 'imp-v'", "added user 'imp-user'", "added permission of user 'guest' in vhost 'imp-v'"]));
    const user = managementClient(broker.ports.http, 'imp-user', 'imp-pw');
    expect((await user.get('/api/queues/imp-v/imp-q')).status).toBe(200);
    expect((await api.get('/api/bindings/imp-v')).body).toContainEqual(expect.objectContaining({ source: 'imp-x', destination: 'imp-q', routing_key: 'a.#' }));
    expect((await api.get('/api/topic-permissions')).body).toContainEqual(expect.objectContaining({ user: 'imp-user', vhost: 'imp-v', exchange: 'amq.topic', write: '^a' }));
    expect((await api.post('/api/definitions', document())).body.changes).toEqual([]);
  });

  const refusals: [string, Record<string, unknown[]>, RegExp][] = [
    ['a topic permission for an unknown user', { topic_permissions: [{ user: 'ghost', vhost: '/', exchange: 'amq.topic', write: '.*', read: '.*' }] }, /topic permission of user 'ghost' in vhost '\/': no user 'ghost'/],
    ['a permission that is not a regular expression', { permissions: [{ user: 'imp-user2', vhost: '/', configure: '(', write: '.*', read: '.*' }], users: [{ name: 'imp-user2', password_hash: '', tags: '' }] }, /configure is not a valid regular expression/],
    ['a permission on a vhost that does not exist', { permissions: [{ user: 'guest', vhost: 'nowhere-v', ...all }] }, /no vhost 'nowhere-v'/],
    ['a queue in a vhost the document does not list', { queues: [{ name: 'lost', vhost: 'unlisted-v', durable: true, arguments: {} }] }, /no vhost 'unlisted-v'/],
    // RabbitMQ 3.10 answers 204 and silently skips such a binding.
    ['a binding from an exchange that does not exist', { bindings: [{ source: 'nowhere-x', vhost: '/', destination: 'imp-q2', destination_type: 'queue', routing_key: 'k', arguments: {} }] }, /binding 'nowhere-x' -> queue 'imp-q2' in vhost '\/': no exchange 'nowhere-x'/],
    ['an invalid queue argument after valid queues', { queues: [{ name: 'imp-q3', vhost: '/', durable: true, arguments: { 'x-max-length': 'many' } }] }, /queue 'imp-q3' in vhost '\/'.*x-max-length/],
    ['an existing queue redeclared with other arguments', { queues: [{ name: 'jobs', vhost: '/', durable: true, arguments: { 'x-max-length': 1 } }] }, /queue 'jobs' in vhost '\/'.*inequivalent arg 'x-max-length'/],
  ];
  it.each(refusals)('refuses %s and changes nothing', async (_what, extra, reason) => {
    await api.del('/api/vhosts/imp-v');
    await api.del('/api/users/imp-user');
    await api.del('/api/queues/%2F/imp-q2');
    const before = await snapshot();
    const res = await api.post('/api/definitions', document(extra));
    expect(res.status).toBe(400);
    expect(res.body.reason).toMatch(reason);
    expect(res.body.reason).toMatch(/nothing was changed$/);
    expect(await snapshot()).toEqual(before);
  });

  it('imports only objects into one vhost: users and permissions in the document are not imported (a management user cannot create users)', async () => {
    const dev = managementClient(broker.ports.http, 'dev', 'dev-pw');
    const res = await dev.post('/api/definitions/dev', {
      users: [{ name: 'sneaky-admin', password_hash: rabbitHash('x'), tags: ['administrator'] }],
      permissions: [{ user: 'dev', vhost: '/', ...all }],
      queues: [{ name: 'dev-q2', durable: true, arguments: {} }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.changes).toEqual(["added queue 'dev-q2' in vhost 'dev'"]);
    expect((await api.get('/api/users/sneaky-admin')).status).toBe(404);
    expect((await api.get('/api/permissions/%2F/dev')).status).toBe(404);
  });
});

describe('ctl import is all or nothing', () => {
  it('refuses a file with a permission for an unknown user in one line, exit 1, changing nothing; then the good file imports', async () => {
    await api.del('/api/vhosts/imp-v');
    await api.del('/api/users/imp-user');
    await api.del('/api/queues/%2F/imp-q2');
    await api.del('/api/policies/%2F/imp-p');
    const dir = tempDir();
    const badFile = join(dir, 'bad.json');
    const goodFile = join(dir, 'good.json');
    // Enough queues for several parts (progress), the bad permission last.
    const many = Array.from({ length: 450 }, (_, i) => ({ name: `bulk-${i}`, vhost: 'imp-v', durable: true, auto_delete: false, arguments: {} }));
    writeFileSync(badFile, JSON.stringify(document({ queues: many, permissions: [{ user: 'ghost', vhost: 'imp-v', ...all }] })));
    writeFileSync(goodFile, JSON.stringify(document({ queues: many })));
    const ctl = (...args: string[]) => runCli(['ctl', '--data-dir', broker.dataDir, ...args], { timeoutMs: 60_000 });

    const before = await snapshot();
    const bad = await ctl('import', badFile);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^polybroker ctl: permission of user 'ghost' in vhost 'imp-v': no user 'ghost'.*nothing was changed$/m);
    expect(bad.stdout).toBe('');
    expect(await snapshot()).toEqual(before);

    const good = await ctl('import', goodFile);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/imported: \d+ change\(s\)/);
    expect(good.stderr).toMatch(/importing \[#+\] (\d+)\/\1/);
    expect((await api.get('/api/queues/imp-v/bulk-449')).status).toBe(200);
    expect((await ctl('import', goodFile)).stdout).toMatch(/imported: nothing changed/);
  }, 60_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  AccessRefused,
  InvalidArgument,
  ScramExchange,
  applyUserDefinitions,
  formatScramCredential,
  makeScramCredential,
  rabbitCredential,
} from '../../../src/core/index.js';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { openCore, type Fixture } from '../fixture.js';

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const ctx = (remoteAddress = '127.0.0.1') => ({ remoteAddress, mechanism: 'PLAIN' });

/** A SCRAM client (RFC 5802) written from the RFC, to drive the server side. */
function scramClient(alg: 'sha256' | 'sha512', user: string, password: string) {
  const nonce = randomBytes(12).toString('base64');
  const first = `n=${user},r=${nonce}`;
  return {
    first: `n,,${first}`,
    final(serverFirst: string): { message: string; serverSignature: string } {
      const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
      const salted = pbkdf2Sync(password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), alg === 'sha256' ? 32 : 64, alg);
      const clientKey = createHmac(alg, salted).update('Client Key').digest();
      const storedKey = createHash(alg).update(clientKey).digest();
      const withoutProof = `c=biws,r=${attrs.r}`;
      const authMessage = `${first},${serverFirst},${withoutProof}`;
      const sig = createHmac(alg, storedKey).update(authMessage).digest();
      const proof = Buffer.alloc(sig.length);
      for (let i = 0; i < sig.length; i++) proof[i] = clientKey[i]! ^ sig[i]!;
      const serverKey = createHmac(alg, salted).update('Server Key').digest();
      return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature: createHmac(alg, serverKey).update(authMessage).digest('base64') };
    },
  };
}

describe('user store', () => {
  it('creates guest/guest (administrator, full permissions on /) on the first start only', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    const guest = f.core.users.get('guest');
    expect(guest?.tags).toEqual(['administrator']);
    expect(guest?.permissions['/']).toEqual({ configure: '.*', write: '.*', read: '.*' });
    await f.core.users.deleteUser('guest');
    await f.restart();
    expect(f.core.users.get('guest')).toBeUndefined();
  });

  it('never stores the password: only salted SCRAM-SHA-256 and SCRAM-SHA-512 credentials', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await f.core.users.putUser('alice', { password: 'pw-alice-secret', tags: ['management'] });
    const def = f.core.users.get('alice')!;
    expect(JSON.stringify(def)).not.toContain('pw-alice-secret');
    expect(def.credentials.map((c) => c.split('$')[0])).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-512']);
    expect(f.disk).toBeDefined();
    const creds = f.core.users.scramCredentials('alice')!;
    expect(creds.sha256!.storedKey.length).toBe(32);
    expect(creds.sha512!.serverKey.length).toBe(64);
  });

  it('authenticates a password, refuses a wrong one and an unknown user with the same reason', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await f.core.users.putUser('alice', { password: 's3cret' });
    const ok = await f.core.users.authenticate('alice', 's3cret', ctx());
    expect(ok.ok && ok.user.name).toBe('alice');
    const wrong = await f.core.users.authenticate('alice', 'nope', ctx());
    const unknown = await f.core.users.authenticate('mallory', 'nope', ctx());
    expect(wrong.ok).toBe(false);
    expect(unknown.ok).toBe(false);
    expect(!wrong.ok && wrong.reason.replace('alice', 'X')).toBe(!unknown.ok && unknown.reason.replace('mallory', 'X'));
    expect(f.core.users.stats.failed).toBe(2);
    expect(f.core.users.stats.failedByUser.get('mallory')).toBe(1);
  });

  it('delays a failed login by failedLoginDelayMs', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 200 } });
    const t0 = performance.now();
    await f.core.users.authenticate('nobody', 'x', ctx());
    // Not a performance assertion: the delay is a floor the store must wait.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('accepts guest from loopback only', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    expect((await f.core.users.authenticate('guest', 'guest', ctx('127.0.0.1'))).ok).toBe(true);
    expect((await f.core.users.authenticate('guest', 'guest', ctx('::1'))).ok).toBe(true);
    const remote = await f.core.users.authenticate('guest', 'guest', ctx('10.1.2.3'));
    expect(remote).toEqual({ ok: false, reason: "user 'guest' can only connect via localhost" });
  });

  it('keeps users, permissions and topic permissions across a restart and a crash', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await f.core.users.putUser('bob', { password: 'b', tags: ['monitoring'] });
    await f.core.users.setPermissions('bob', '/', { configure: '^bob\\.', write: '.*', read: '.*' });
    await f.core.users.setTopicPermission('bob', '/', { exchange: 'amq.topic', write: '^sensors\\.', read: '.*' });
    await f.crash();
    expect(f.core.users.get('bob')?.permissions['/']?.configure).toBe('^bob\\.');
    expect(f.core.users.get('bob')?.topicPermissions['/']).toEqual([{ exchange: 'amq.topic', write: '^sensors\\.', read: '.*' }]);
    expect((await f.core.users.authenticate('bob', 'b', ctx())).ok).toBe(true);
    await f.core.users.deleteUser('bob');
    await f.restart();
    expect(f.core.users.get('bob')).toBeUndefined();
  });

  it('rejects an invalid permission expression, naming it', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await expect(f.core.users.putUser('x', { permissions: { '/': { configure: '(', write: '', read: '' } } })).rejects.toThrow(InvalidArgument);
    await expect(f.core.users.putUser('x', { permissions: { '/': { configure: '(', write: '', read: '' } } })).rejects.toThrow(/configure permission of user 'x' in vhost '\/'/);
  });

  it('verifies a RabbitMQ password_hash from imported definitions', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    const salt = randomBytes(4);
    const hash = Buffer.concat([salt, createHash('sha256').update(salt).update('rabbit-pw').digest()]).toString('base64');
    await f.core.users.putUser('imported', { credentials: [rabbitCredential(hash)] });
    expect((await f.core.users.authenticate('imported', 'rabbit-pw', ctx())).ok).toBe(true);
    expect((await f.core.users.authenticate('imported', 'other', ctx())).ok).toBe(false);
  });
});

describe('permissions with RabbitMQ meaning', () => {
  it('checks configure/write/read by searching the expression; the default exchange is amq.default; empty matches nothing', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await f.core.users.putUser('u', { password: 'p', permissions: { '/': { configure: '^u\\.', write: 'amq\\.default|^out', read: '' } } });
    const u = f.core.users.principal('u');
    expect(u.mayAccessVhost('/')).toBe(true);
    expect(u.mayAccessVhost('other')).toBe(false);
    expect(u.allows('/', 'queue', 'u.q', 'configure')).toBe(true);
    expect(u.allows('/', 'queue', 'x.u.q', 'configure')).toBe(false);
    expect(u.allows('/', 'exchange', '', 'write')).toBe(true);
    expect(u.allows('/', 'exchange', 'outbox', 'write')).toBe(true);
    expect(u.allows('/', 'queue', 'anything', 'read')).toBe(false);
    expect(() => u.check('/', 'queue', 'q1', 'read')).toThrow(new AccessRefused("access to queue 'q1' in vhost '/' refused for user 'u'"));
  });

  it('applies topic permissions per exchange with {username} and {client_id} expansion', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await f.core.users.putUser('u', { password: 'p', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } }, topicPermissions: { '/': [{ exchange: 'amq.topic', write: '^{username}\\.', read: '^({client_id}|public)\\.' }] } });
    const u = f.core.users.principal('u');
    expect(u.allowsTopic('/', 'amq.topic', 'u.temp', 'write')).toBe(true);
    expect(u.allowsTopic('/', 'amq.topic', 'v.temp', 'write')).toBe(false);
    expect(u.allowsTopic('/', 'amq.topic', 'c1.x', 'read', 'c1')).toBe(true);
    expect(u.allowsTopic('/', 'amq.topic', 'c2.x', 'read', 'c1')).toBe(false);
    expect(u.allowsTopic('/', 'other.topic', 'anything', 'write')).toBe(true);
    expect(() => u.checkTopic('/', 'amq.topic', 'v.temp', 'write')).toThrow("access to topic 'v.temp' in exchange 'amq.topic' in vhost '/' refused for user 'u'");
  });

  it('applies a permission change to an existing principal at once, and a deleted user loses everything', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await f.core.users.putUser('u', { password: 'p', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } });
    const u = f.core.users.principal('u');
    await f.core.users.setPermissions('u', '/', { configure: '', write: '', read: '.*' });
    expect(u.allows('/', 'queue', 'q', 'configure')).toBe(false);
    await f.core.users.deleteUser('u');
    expect(u.mayAccessVhost('/')).toBe(false);
  });

  it('gives a principal a revision that stays while nothing changes and changes with every change (adapters cache decisions on it)', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    await f.core.users.putUser('u', { password: 'p', permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } });
    const u = f.core.users.principal('u');
    const seen = [u.revision];
    expect(u.revision).toBe(seen[0]);
    await f.core.users.setPermissions('u', '/', { configure: '', write: '.*', read: '.*' });
    seen.push(u.revision);
    await f.core.users.setTopicPermission('u', '/', { exchange: 'amq.topic', write: '^a', read: '.*' });
    seen.push(u.revision);
    await f.core.users.clearTopicPermissions('u', '/');
    seen.push(u.revision);
    await f.core.users.deleteUser('u');
    seen.push(u.revision);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('SCRAM', () => {
  for (const alg of ['sha256', 'sha512'] as const) {
    it(`completes a SCRAM-${alg.toUpperCase()} exchange against the stored credential and refuses a wrong password`, async () => {
      f = await openCore({ auth: { failedLoginDelayMs: 0 } });
      await f.core.users.putUser('sc', { password: 'pencil' });
      const lookup = (user: string) => f!.core.users.scramCredential(user, alg);
      const good = scramClient(alg, 'sc', 'pencil');
      const ex = new ScramExchange(alg, lookup);
      const fin = good.final(ex.first(good.first));
      expect(ex.final(fin.message)).toBe(`v=${fin.serverSignature}`);
      const bad = scramClient(alg, 'sc', 'wrong');
      const ex2 = new ScramExchange(alg, lookup);
      expect(() => ex2.final(bad.final(ex2.first(bad.first)).message)).toThrow(/authentication failed/);
    });
  }

  it('answers an unknown user with a stable decoy salt, then fails at the proof', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    const lookup = (user: string) => f!.core.users.scramCredential(user, 'sha256');
    const c = scramClient('sha256', 'ghost', 'x');
    const ex = new ScramExchange('sha256', lookup);
    const serverFirst = ex.first(c.first);
    expect(serverFirst).toMatch(/^r=.+,s=.+,i=4096$/);
    expect(new ScramExchange('sha256', lookup).first(c.first).split(',')[1]).toBe(serverFirst.split(',')[1]);
    expect(() => ex.final(c.final(serverFirst).message)).toThrow(/authentication failed/);
  });

  it('accepts a SCRAM passwordHash from YAML and verifies PLAIN against it', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    const hash = formatScramCredential('sha256', makeScramCredential('from-yaml', 'sha256'));
    await applyUserDefinitions(f.core, [{ name: 'y', passwordHash: hash, permissions: { '/': { configure: '', write: '.*', read: '.*' } } }]);
    expect((await f.core.users.authenticate('y', 'from-yaml', ctx())).ok).toBe(true);
    expect(f.core.users.scramCredentials('y')?.sha512).toBeUndefined();
  });

  it('applying the same YAML users twice changes nothing the second time', async () => {
    f = await openCore({ auth: { failedLoginDelayMs: 0 } });
    const users = [{ name: 'a', password: 'pa', tags: ['management'] }];
    expect(await applyUserDefinitions(f.core, users)).toEqual(['a']);
    expect(await applyUserDefinitions(f.core, users)).toEqual([]);
    expect(await applyUserDefinitions(f.core, [{ name: 'a', password: 'changed' }])).toEqual(['a']);
    expect((await f.core.users.authenticate('a', 'changed', ctx())).ok).toBe(true);
  });
});

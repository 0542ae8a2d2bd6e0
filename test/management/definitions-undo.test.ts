/**
 * The safety net behind a checked reload or import: a refusal while applying puts
 * definitions and users back as they were (added objects and users removed, changed policies,
 * vhost options and users restored).
 */
import { describe, expect, it } from 'vitest';
import type { Core } from '../../src/core/index.js';
import { allOrNothing, DefinitionsRefused } from '../../src/management/definitions-undo.js';
import { openCore } from '../core/fixture.js';

function state(core: Core): unknown {
  return {
    vhosts: core.vhostNames().map((v) => {
      const vh = core.vhost(v);
      return { v, options: vh.options, exchanges: vh.exchanges(), queues: vh.queues().map((q) => [q.name, q.durable, q.arguments]), streams: vh.streams(), bindings: vh.bindings(), policies: vh.policies() };
    }),
    users: core.users.list(),
  };
}

describe('allOrNothing', () => {
  it('undoes definitions and users applied before a refusal, and passes the refusal on', async () => {
    const f = await openCore();
    const core = f.core;
    await core.declareVhost('/', { limits: { maxQueues: 100 } });
    const root = core.vhost('/');
    await root.declareQueue('keep', { durable: true });
    await root.setPolicy({ name: 'p', pattern: '^k', applyTo: 'queues', priority: 0, definition: { 'message-ttl': 1000 } });
    await core.users.putUser('u', { password: 'pw', tags: ['management'], permissions: { '/': { configure: '.*', write: '.*', read: '.*' } } });
    const before = state(core);

    const refused = allOrNothing(core, async () => {
      await core.declareVhost('added-v');
      await core.declareVhost('/', {});
      await root.declareExchange('added-x', { type: 'topic' });
      await root.declareQueue('added-q', { durable: true });
      await root.bindQueue('added-q', 'added-x', 'k');
      await root.bindQueue('keep', 'amq.topic', 'k');
      await root.declareStream('added-s', { partitions: 2 });
      await root.setPolicy({ name: 'p', pattern: '^k', applyTo: 'queues', priority: 0, definition: { 'message-ttl': 5 } });
      await root.setPolicy({ name: 'added-p', pattern: '^a', applyTo: 'all', priority: 0, definition: {} });
      await core.users.putUser('added-user', { password: 'pw' });
      await core.users.setPermissions('u', '/', { configure: '', write: '', read: '' });
      throw new Error('refused here');
    });
    await expect(refused).rejects.toThrow(DefinitionsRefused);
    await expect(refused).rejects.toThrow(/^refused here; nothing was changed$/);
    expect(state(core)).toEqual(before);
    await f.close();
  });

  it('returns what the change set returns when nothing is refused', async () => {
    const f = await openCore();
    await expect(allOrNothing(f.core, async () => (await f.core.vhost('/').declareQueue('q'), 'done'))).resolves.toBe('done');
    expect(f.core.vhost('/').queue('q')).not.toBeNull();
    await f.close();
  });
});

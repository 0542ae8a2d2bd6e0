import type { Core } from './api.js';
import type { VhostsSection } from './definitions-config.js';
import { CoreError, PreconditionFailed } from './errors.js';

/**
 * Applies the YAML `vhosts:` section: creates vhosts, exchanges, queues, streams, bindings and
 * policies that are missing and leaves identical ones alone, so running it at every start is
 * idempotent. A definition that conflicts with an existing one (different type, durability,
 * arguments, partition count) fails with PreconditionFailed naming both definitions.
 * Call after `core.open()`.
 */
export async function applyVhostDefinitions(core: Core, section: VhostsSection | undefined): Promise<void> {
  if (!section) return;
  for (const [vhostName, def] of Object.entries(section)) {
    const vhost = await core.declareVhost(vhostName, { durability: def.durability, limits: def.limits });
    const where = (kind: string, name: string): string => `${kind} '${name}' in vhost '${vhostName}'`;
    const conflict = (what: string, declared: unknown, existing: unknown, e: unknown): never => {
      if (!(e instanceof CoreError)) throw e;
      throw new PreconditionFailed(
        `configuration defines ${what} as ${JSON.stringify(declared)}, which conflicts with the existing definition ${JSON.stringify(existing)}: ${e.message}`,
      );
    };
    for (const p of def.policies ?? []) {
      await vhost.setPolicy({ name: p.name, pattern: p.pattern, applyTo: p.applyTo ?? 'all', priority: p.priority ?? 0, definition: p.definition });
    }
    for (const x of def.exchanges ?? []) {
      try {
        await vhost.declareExchange(x.name, { type: x.type, durable: x.durable ?? true, autoDelete: x.autoDelete ?? false, internal: x.internal ?? false, arguments: x.arguments ?? {} });
      } catch (e) {
        conflict(where('exchange', x.name), x, vhost.exchange(x.name), e);
      }
    }
    for (const q of def.queues ?? []) {
      try {
        await vhost.declareQueue(q.name, { durable: q.durable ?? true, autoDelete: q.autoDelete ?? false, durability: q.durability, arguments: q.arguments ?? {} });
      } catch (e) {
        const existing = vhost.queue(q.name);
        conflict(where('queue', q.name), q, existing && { name: existing.name, durable: existing.durable, autoDelete: existing.autoDelete, arguments: existing.arguments }, e);
      }
    }
    for (const s of def.streams ?? []) {
      try {
        await vhost.declareStream(s.name, s);
      } catch (e) {
        conflict(where('stream', s.name), s, vhost.stream(s.name), e);
      }
    }
    for (const b of def.bindings ?? []) {
      const kind = b.destinationType ?? 'queue';
      if (kind === 'exchange') await vhost.bindExchange(b.destination, b.source, b.routingKey ?? '', b.arguments ?? {});
      else await vhost.bindQueue(b.destination, b.source, b.routingKey ?? '', b.arguments ?? {});
    }
  }
}

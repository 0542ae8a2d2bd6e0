/**
 * Hot reload (`polybroker ctl reload`, SIGHUP, `POST /api/reload`): applies a re-read,
 * validated config to the running broker. Definitions (`vhosts:`) and users (`users:` and the
 * legacy per-protocol lists) are applied idempotently, as at start; login settings (`auth:`)
 * take effect at once; sections that need a restart (listeners, storage, node) are named.
 */
import type { BrokerConfig } from './config/index.js';
import { legacyUsers } from './config/legacy-users.js';
import { applyUserDefinitions, applyVhostDefinitions, type Core } from './core/index.js';
import { definitionsFingerprint, describeChanges } from './management/definitions.js';

/** Sections read only at start: a change is reported, not applied. */
const RESTART_SECTIONS = ['listeners', 'storage', 'node', 'tls', 'limits', 'amqp', 'mqtt', 'stomp', 'kafka'] as const;

export async function applyReloadedConfig(core: Core, previous: BrokerConfig, next: BrokerConfig): Promise<string[]> {
  const before = definitionsFingerprint(core);
  await applyVhostDefinitions(core, next.vhosts);
  const changes = describeChanges(before, definitionsFingerprint(core));
  const legacy = legacyUsers(next);
  const users = await applyUserDefinitions(core, [...legacy.users, ...(next.users ?? [])]);
  for (const u of users) changes.push(`updated user '${u}'`);
  if (JSON.stringify(previous.auth) !== JSON.stringify(next.auth)) {
    core.users.configure({ loopbackUsers: next.auth?.loopbackUsers, failedLoginDelayMs: next.auth?.failedLoginDelayMs });
    changes.push('applied auth settings');
  }
  const cfg = (c: BrokerConfig, k: string) => JSON.stringify((c as unknown as Record<string, unknown>)[k]);
  for (const section of RESTART_SECTIONS) {
    if (cfg(previous, section) !== cfg(next, section)) changes.push(`${section}: changed in the file; takes effect at the next restart`);
  }
  return changes;
}

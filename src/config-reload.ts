/**
 * Hot reload (`polybroker ctl reload`, SIGHUP, `POST /api/reload`): applies a re-read,
 * validated config to the running broker. Definitions (`vhosts:`) and users (`users:` and the
 * legacy per-protocol lists) are applied idempotently, as at start; login settings (`auth:`)
 * take effect at once; sections that need a restart (listeners, storage, node) are named.
 * All or nothing: users are checked before anything is applied, and definitions the core
 * refuses partway (a conflicting redeclaration, a binding to a missing exchange) are undone
 * (management/definitions-undo.ts), so a refused reload changes nothing and says why.
 */
import type { BrokerConfig } from './config/index.js';
import { legacyUsers } from './config/legacy-users.js';
import { applyUserDefinitions, credentialSyntaxError, type Core, type UserConfig } from './core/index.js';
import { definitionsFingerprint, describeChanges } from './management/definitions.js';
import { applyVhostDefinitionsAllOrNothing } from './management/definitions-undo.js';

/** Sections read only at start: a change is reported, not applied. */
const RESTART_SECTIONS = ['listeners', 'storage', 'node', 'tls', 'limits', 'amqp', 'mqtt', 'stomp', 'kafka'] as const;

/** What would make applying these users fail, checked before anything is applied. */
function userProblems(users: UserConfig[]): string[] {
  const problems: string[] = [];
  for (const u of users) {
    const hashes = u.passwordHash === undefined ? [] : Array.isArray(u.passwordHash) ? u.passwordHash : [u.passwordHash];
    for (const h of hashes) {
      const e = credentialSyntaxError(h);
      if (e) problems.push(`user '${u.name}': passwordHash: ${e}`);
    }
  }
  return problems;
}

export async function applyReloadedConfig(core: Core, previous: BrokerConfig, next: BrokerConfig): Promise<string[]> {
  const legacy = legacyUsers(next);
  const userConfigs = [...legacy.users, ...(next.users ?? [])];
  const problems = userProblems(userConfigs);
  if (problems.length > 0) throw new Error(`${problems.join('; ')}; nothing was changed`);
  const before = definitionsFingerprint(core);
  await applyVhostDefinitionsAllOrNothing(core, next.vhosts);
  const changes = describeChanges(before, definitionsFingerprint(core));
  const users = await applyUserDefinitions(core, userConfigs);
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

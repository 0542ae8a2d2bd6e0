/**
 * Hot reload (`polybroker ctl reload`, SIGHUP, `POST /api/reload`): applies a re-read,
 * validated config to the running broker. Definitions (`vhosts:`) and users (`users:` and the
 * legacy per-protocol lists) are applied idempotently, as at start; login settings (`auth:`)
 * and `management:` take effect at once; sections that need a restart (listeners, storage, node) are named.
 * All or nothing: users (password hashes, permission regexes) and definitions (what the core
 * would refuse: a conflicting redeclaration, a binding to a missing exchange...) are checked
 * before anything is applied, and a refusal while applying undoes definitions and users
 * (management/definitions-undo.ts), so a refused reload changes nothing and says why.
 */
import type { BrokerConfig } from './config/index.js';
import { legacyUsers } from './config/legacy-users.js';
import { applyUserDefinitions, applyVhostDefinitions, credentialSyntaxError, definitionProblems, permissionSyntaxError, type Core, type UserConfig } from './core/index.js';
import { definitionsFingerprint, describeChanges } from './management/definitions.js';
import { allOrNothing } from './management/definitions-undo.js';

/** Sections read only at start: a change is reported, not applied. */
const RESTART_SECTIONS = ['listeners', 'storage', 'node', 'tls', 'limits', 'amqp', 'mqtt', 'stomp', 'kafka'] as const;

/** What would make applying these users fail (password hashes, permission regexes), checked before anything is applied. */
function userProblems(users: UserConfig[]): string[] {
  const problems: string[] = [];
  for (const u of users) {
    const hashes = u.passwordHash === undefined ? [] : Array.isArray(u.passwordHash) ? u.passwordHash : [u.passwordHash];
    for (const h of hashes) {
      const e = credentialSyntaxError(h);
      if (e) problems.push(`user '${u.name}': passwordHash: ${e}`);
    }
    const regexes: [string, string][] = [];
    for (const [vhost, p] of Object.entries(u.permissions ?? {})) for (const k of ['configure', 'write', 'read'] as const) regexes.push([`permissions of vhost '${vhost}': ${k}`, p[k]]);
    for (const [vhost, list] of Object.entries(u.topicPermissions ?? {})) {
      for (const p of list) for (const k of ['write', 'read'] as const) regexes.push([`topic permission of vhost '${vhost}' for exchange '${p.exchange}': ${k}`, p[k]]);
    }
    for (const [what, source] of regexes) {
      const e = permissionSyntaxError(source);
      if (e) problems.push(`user '${u.name}': ${what} is not a valid regular expression: ${e}`);
    }
  }
  return problems;
}

export async function applyReloadedConfig(core: Core, previous: BrokerConfig, next: BrokerConfig): Promise<string[]> {
  const legacy = legacyUsers(next);
  const userConfigs = [...legacy.users, ...(next.users ?? [])];
  const problems = [...userProblems(userConfigs), ...definitionProblems(core, next.vhosts)];
  if (problems.length > 0) throw new Error(`${problems.join('; ')}; nothing was changed`);
  const before = definitionsFingerprint(core);
  const changes = await allOrNothing(core, async () => {
    await applyVhostDefinitions(core, next.vhosts);
    const out = describeChanges(before, definitionsFingerprint(core));
    for (const u of await applyUserDefinitions(core, userConfigs)) out.push(`updated user '${u}'`);
    return out;
  });
  if (JSON.stringify(previous.auth) !== JSON.stringify(next.auth)) {
    core.users.configure({ loopbackUsers: next.auth?.loopbackUsers, failedLoginDelayMs: next.auth?.failedLoginDelayMs });
    changes.push('applied auth settings');
  }
  // Read at every request (/metrics authentication): in force at once.
  if (JSON.stringify(previous.management) !== JSON.stringify(next.management)) changes.push('applied management settings');
  const cfg = (c: BrokerConfig, k: string) => JSON.stringify((c as unknown as Record<string, unknown>)[k]);
  for (const section of RESTART_SECTIONS) {
    if (cfg(previous, section) !== cfg(next, section)) changes.push(`${section}: changed in the file; takes effect at the next restart`);
  }
  return changes;
}

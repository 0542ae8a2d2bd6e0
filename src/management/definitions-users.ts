/**
 * The users, permissions and topic permissions of an imported definitions document: read and
 * checked whole before anything is applied (definitions.ts), then applied.
 */
import { credentialSyntaxError, permissionSyntaxError, rabbitCredential, type Core, type TopicPermission, type VhostPermissions } from '../core/index.js';

interface ImportedUser {
  credentials: string[];
  tags: string[];
  permissions: Record<string, VhostPermissions>;
  topicPermissions: Record<string, TopicPermission[]>;
}

/** A permission for a user the document does not define: it is added to the existing user. */
interface Grant {
  user: string;
  vhost: string;
  permission?: VhostPermissions;
  topic?: TopicPermission;
}

export interface ImportedAccess {
  users: Map<string, ImportedUser>;
  grants: Grant[];
}

interface UserItem {
  name?: unknown;
  password_hash?: unknown;
  hashing_algorithm?: unknown;
  tags?: unknown;
  polybroker_credentials?: unknown;
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/**
 * Reads `users`, `permissions` and `topic_permissions`, with every problem that would make
 * applying them fail: a user without a name, a malformed password hash, a permission for a user
 * neither in the document nor known, for a vhost that neither exists nor is in the document,
 * or with an invalid regular expression. `vhostKnown` says whether a vhost exists or the
 * document creates it.
 */
export function readImportedAccess(core: Core, defs: { users?: unknown[]; permissions?: unknown[]; topic_permissions?: unknown[] }, vhostKnown: (vhost: string) => boolean): { access: ImportedAccess; problems: string[] } {
  const problems: string[] = [];
  const access: ImportedAccess = { users: new Map(), grants: [] };
  for (const raw of (defs.users ?? []) as UserItem[]) {
    if (typeof raw?.name !== 'string' || raw.name === '') {
      problems.push('a user has no name');
      continue;
    }
    let credentials: string[];
    if (Array.isArray(raw.polybroker_credentials) && raw.polybroker_credentials.length > 0) credentials = raw.polybroker_credentials.map(String);
    else if (typeof raw.password_hash === 'string' && raw.password_hash !== '') credentials = [rabbitCredential(raw.password_hash, typeof raw.hashing_algorithm === 'string' ? raw.hashing_algorithm : undefined)];
    else credentials = [];
    for (const c of credentials) {
      const e = credentialSyntaxError(c);
      if (e) problems.push(`user '${raw.name}': ${e}`);
    }
    const tags = Array.isArray(raw.tags) ? raw.tags.map(String) : typeof raw.tags === 'string' ? raw.tags.split(',').map((t) => t.trim()).filter(Boolean) : [];
    access.users.set(raw.name, { credentials, tags, permissions: {}, topicPermissions: {} });
  }
  const check = (item: Record<string, unknown>, kind: string, regexes: string[]): { user: string; vhost: string } | null => {
    const user = text(item?.user);
    const vhost = text(item?.vhost);
    const what = `${kind} of user '${user}' in vhost '${vhost}'`;
    const before = problems.length;
    if (!access.users.has(user) && !core.users.get(user)) problems.push(`${what}: no user '${user}' in the definitions or the broker`);
    if (!vhostKnown(vhost)) problems.push(`${what}: no vhost '${vhost}' in the definitions or the broker`);
    for (const r of regexes) {
      const e = permissionSyntaxError(text(item?.[r]));
      if (e) problems.push(`${what}: ${r} is not a valid regular expression: ${e}`);
    }
    return problems.length === before ? { user, vhost } : null;
  };
  for (const p of (defs.permissions ?? []) as Record<string, unknown>[]) {
    const ok = check(p, 'permission', ['configure', 'write', 'read']);
    if (!ok) continue;
    const permission = { configure: text(p.configure), write: text(p.write), read: text(p.read) };
    const u = access.users.get(ok.user);
    if (u) u.permissions[ok.vhost] = permission;
    else access.grants.push({ ...ok, permission });
  }
  for (const p of (defs.topic_permissions ?? []) as Record<string, unknown>[]) {
    const ok = check(p, 'topic permission', ['write', 'read']);
    if (!ok) continue;
    const topic = { exchange: text(p.exchange), write: text(p.write), read: text(p.read) };
    const u = access.users.get(ok.user);
    if (u) (u.topicPermissions[ok.vhost] ??= []).push(topic);
    else access.grants.push({ ...ok, topic });
  }
  return { access, problems };
}

/** Applies checked users and grants; returns what changed. */
export async function applyImportedAccess(core: Core, access: ImportedAccess): Promise<string[]> {
  const changes: string[] = [];
  for (const g of access.grants) {
    const existing = core.users.get(g.user)!;
    if (g.permission) {
      const old = existing.permissions[g.vhost];
      if (JSON.stringify(old) === JSON.stringify(g.permission)) continue;
      await core.users.setPermissions(g.user, g.vhost, g.permission);
      changes.push(`${old ? 'changed' : 'added'} permission of user '${g.user}' in vhost '${g.vhost}'`);
    } else if (g.topic) {
      const old = existing.topicPermissions[g.vhost]?.find((t) => t.exchange === g.topic!.exchange);
      if (old && old.write === g.topic.write && old.read === g.topic.read) continue;
      await core.users.setTopicPermission(g.user, g.vhost, g.topic);
      changes.push(`${old ? 'changed' : 'added'} topic permission of user '${g.user}' in vhost '${g.vhost}' for exchange '${g.topic.exchange}'`);
    }
  }
  for (const [name, u] of access.users) {
    const existing = core.users.get(name);
    if (existing && JSON.stringify({ c: existing.credentials, t: existing.tags, p: existing.permissions, tp: existing.topicPermissions }) === JSON.stringify({ c: u.credentials, t: u.tags, p: u.permissions, tp: u.topicPermissions })) continue;
    await core.users.putUser(name, u);
    changes.push(`${existing ? 'changed' : 'added'} user '${name}'`);
  }
  return changes;
}

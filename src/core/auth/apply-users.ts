import type { Core } from '../api.js';
import { parseCredentials, verifyPassword } from './credentials.js';
import type { TopicPermission, VhostPermissions } from './permissions.js';

/** One user of the YAML `users:` section (src/config/sections/users.ts). */
export interface UserConfig {
  name: string;
  /** Clear password; only SCRAM credentials derived from it are stored. */
  password?: string;
  /** Stored credentials instead of a password (`polybroker hash-password`). */
  passwordHash?: string | string[];
  tags?: string[];
  permissions?: Record<string, VhostPermissions>;
  topicPermissions?: Record<string, TopicPermission[]>;
}

export type UserDefinitionsConfig = UserConfig[];

/**
 * Applies the YAML `users:` at start (and on reload): creates or updates each user so the
 * file wins for the users it names; users created at runtime are kept. A password that
 * still verifies against the stored credentials keeps them (no new salt at every start).
 * Returns the names of users that changed.
 */
export async function applyUserDefinitions(core: Core, users: UserDefinitionsConfig | undefined): Promise<string[]> {
  const changed: string[] = [];
  for (const u of users ?? []) {
    const existing = core.users.get(u.name);
    const hashes = u.passwordHash === undefined ? undefined : Array.isArray(u.passwordHash) ? u.passwordHash : [u.passwordHash];
    let password = u.password;
    let credentials = hashes;
    if (password !== undefined && existing && (await verifyPassword(password, parseCredentials(existing.credentials)))) {
      password = undefined;
      credentials = existing.credentials;
    }
    const next = {
      tags: u.tags ?? [],
      permissions: u.permissions ?? {},
      topicPermissions: u.topicPermissions ?? {},
      credentials: credentials ?? (password === undefined ? [] : undefined),
    };
    const same =
      existing !== undefined &&
      password === undefined &&
      JSON.stringify([existing.tags, existing.permissions, existing.topicPermissions, existing.credentials]) ===
        JSON.stringify([next.tags, next.permissions, next.topicPermissions, next.credentials]);
    if (same) continue;
    await core.users.putUser(u.name, password !== undefined ? { ...next, credentials: undefined, password } : next);
    changed.push(u.name);
  }
  return changed;
}

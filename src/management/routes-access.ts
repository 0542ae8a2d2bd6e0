/** Users and permissions (administrators only, as in RabbitMQ), on the broker-wide user store. */
import { credentialSyntaxError, rabbitCredential, type UserDefinition } from '../core/index.js';
import { core, readableVhost } from './routes-objects.js';
import { HttpError } from './http-io.js';
import { isAdministrator } from './principal.js';
import { StatusResult, type Route, type RouteRequest } from './router.js';

function requireAdmin(r: RouteRequest): void {
  if (!isAdministrator(r.principal)) throw new HttpError(403, 'not_authorised', 'Not administrator user');
}

/** RabbitMQ's user object. `password_hash` is set for users imported with one; SCRAM credentials are polybroker's own. */
export function userView(u: UserDefinition): Record<string, unknown> {
  const rabbit = u.credentials.map((c) => /^RABBIT-SHA-(256|512)\$(.+)$/.exec(c)).find((m) => m);
  return {
    name: u.name,
    password_hash: rabbit ? rabbit[2] : '',
    hashing_algorithm: rabbit?.[1] === '512' ? 'rabbit_password_hashing_sha512' : 'rabbit_password_hashing_sha256',
    tags: u.tags,
    limits: {},
    polybroker_credentials: u.credentials,
  };
}

export function permissionViews(u: UserDefinition): Record<string, unknown>[] {
  return Object.entries(u.permissions).map(([vhost, p]) => ({ user: u.name, vhost, configure: p.configure, write: p.write, read: p.read }));
}

export function topicPermissionViews(u: UserDefinition): Record<string, unknown>[] {
  return Object.entries(u.topicPermissions).flatMap(([vhost, list]) => list.map((t) => ({ user: u.name, vhost, exchange: t.exchange, write: t.write, read: t.read })));
}

function user(r: RouteRequest): UserDefinition {
  const u = r.ctx.core.users.get(r.params.user!);
  if (!u) throw new HttpError(404, 'Object Not Found', 'Not Found');
  return u;
}

/** `tags` as RabbitMQ accepts it: an array or a comma-separated string. */
function parseTags(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (typeof v === 'string') return v.split(',').map((t) => t.trim()).filter(Boolean);
  return [];
}

export const accessRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/users',
    access: 'administrator',
    summary: 'Users with tags (no passwords; derived credentials only)',
    handler: (r) => {
      requireAdmin(r);
      return r.ctx.core.users.list().map(userView);
    },
  },
  {
    method: 'GET',
    path: '/api/users/without-permissions',
    access: 'administrator',
    summary: 'Users with no permission in any vhost',
    handler: (r) => {
      requireAdmin(r);
      return r.ctx.core.users
        .list()
        .filter((u) => Object.keys(u.permissions).length === 0)
        .map(userView);
    },
  },
  {
    method: 'POST',
    path: '/api/users/bulk-delete',
    access: 'administrator',
    summary: 'Deletes users `{users: [names]}` (400 naming the first unknown one, before deleting any)',
    handler: async (r) => {
      requireAdmin(r);
      const b = await r.body();
      if (!Array.isArray(b.users)) throw new HttpError(400, 'bad_request', 'users must be a list of user names');
      const names = b.users.map(String);
      const missing = names.find((n) => !r.ctx.core.users.get(n));
      if (missing !== undefined) throw new HttpError(400, 'bad_request', `no_such_user: ${missing}`);
      for (const n of names) await core(() => r.ctx.core.users.deleteUser(n));
      return new StatusResult(204);
    },
  },
  {
    method: 'GET',
    path: '/api/users/:user',
    access: 'administrator',
    summary: 'One user',
    handler: (r) => {
      requireAdmin(r);
      return userView(user(r));
    },
  },
  {
    method: 'PUT',
    path: '/api/users/:user',
    access: 'administrator',
    summary: 'Creates or updates a user `{password | password_hash, hashing_algorithm, tags}`',
    handler: async (r) => {
      requireAdmin(r);
      const b = await r.body();
      const existed = r.ctx.core.users.get(r.params.user!) !== undefined;
      const update: { password?: string; credentials?: string[]; tags: string[] } = { tags: parseTags(b.tags) };
      if (typeof b.password === 'string') update.password = b.password;
      else if (typeof b.password_hash === 'string') {
        const c = b.password_hash === '' ? null : rabbitCredential(b.password_hash, typeof b.hashing_algorithm === 'string' ? b.hashing_algorithm : undefined);
        if (c && credentialSyntaxError(c)) throw new HttpError(400, 'bad_request', `password_hash: ${credentialSyntaxError(c)}`);
        update.credentials = c ? [c] : [];
      } else if (!existed) throw new HttpError(400, 'bad_request', 'password or password_hash is required');
      await core(() => r.ctx.core.users.putUser(r.params.user!, update));
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/users/:user',
    access: 'administrator',
    summary: 'Deletes a user',
    handler: async (r) => {
      requireAdmin(r);
      user(r);
      await core(() => r.ctx.core.users.deleteUser(r.params.user!));
      return new StatusResult(204);
    },
  },
  {
    method: 'GET',
    path: '/api/users/:user/permissions',
    access: 'administrator',
    summary: 'Permissions of a user',
    handler: (r) => {
      requireAdmin(r);
      return permissionViews(user(r));
    },
  },
  {
    method: 'GET',
    path: '/api/permissions',
    access: 'administrator',
    summary: 'Every permission',
    handler: (r) => {
      requireAdmin(r);
      return r.ctx.core.users.list().flatMap(permissionViews);
    },
  },
  {
    method: 'GET',
    path: '/api/topic-permissions',
    access: 'administrator',
    summary: 'Every topic permission',
    handler: (r) => {
      requireAdmin(r);
      return r.ctx.core.users.list().flatMap(topicPermissionViews);
    },
  },
  {
    method: 'GET',
    path: '/api/users/:user/topic-permissions',
    access: 'administrator',
    summary: 'Topic permissions of a user',
    handler: (r) => {
      requireAdmin(r);
      return topicPermissionViews(user(r));
    },
  },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/topic-permissions',
    access: 'administrator',
    summary: 'Topic permissions in a vhost',
    handler: (r) => {
      requireAdmin(r);
      const vh = readableVhost(r);
      return r.ctx.core.users.list().flatMap(topicPermissionViews).filter((p) => p.vhost === vh.name);
    },
  },
  {
    method: 'GET',
    path: '/api/topic-permissions/:vhost/:user',
    access: 'administrator',
    summary: 'A user’s topic permissions in a vhost (404 when it has none)',
    handler: (r) => {
      requireAdmin(r);
      const list = topicPermissionViews(user(r)).filter((x) => x.vhost === r.params.vhost);
      if (list.length === 0) throw new HttpError(404, 'Object Not Found', 'Not Found');
      return list;
    },
  },
  {
    method: 'GET',
    path: '/api/topic-permissions/:vhost/:user/:exchange',
    access: 'administrator',
    summary: 'A user’s topic permission on one exchange of a vhost',
    handler: (r) => {
      requireAdmin(r);
      const list = topicPermissionViews(user(r)).filter((x) => x.vhost === r.params.vhost && x.exchange === r.params.exchange);
      if (list.length === 0) throw new HttpError(404, 'Object Not Found', 'Not Found');
      return list;
    },
  },
  {
    method: 'PUT',
    path: '/api/topic-permissions/:vhost/:user',
    access: 'administrator',
    summary: 'Sets a user’s topic permission on an exchange `{exchange, write, read}` (201 new, 204 replaced)',
    handler: async (r) => {
      requireAdmin(r);
      const vhost = r.params.vhost!;
      const u = r.ctx.core.users.get(r.params.user!);
      // RabbitMQ's answer for either missing (a 400, not a 404).
      if (!u || !r.ctx.core.hasVhost(vhost)) throw new HttpError(400, 'bad_request', 'vhost_or_user_not_found');
      const b = await r.body();
      if (typeof b.exchange !== 'string') throw new HttpError(400, 'bad_request', 'exchange is required');
      const existed = (u.topicPermissions[vhost] ?? []).some((t) => t.exchange === b.exchange);
      await core(() => r.ctx.core.users.setTopicPermission(u.name, vhost, { exchange: b.exchange as string, write: String(b.write ?? ''), read: String(b.read ?? '') }));
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/topic-permissions/:vhost/:user',
    access: 'administrator',
    summary: 'Clears a user’s topic permissions in a vhost (404 when it has none)',
    handler: async (r) => {
      requireAdmin(r);
      const u = user(r);
      if (!u.topicPermissions[r.params.vhost!]?.length) throw new HttpError(404, 'Object Not Found', 'Not Found');
      await core(() => r.ctx.core.users.clearTopicPermissions(u.name, r.params.vhost!));
      return new StatusResult(204);
    },
  },
  {
    method: 'DELETE',
    path: '/api/topic-permissions/:vhost/:user/:exchange',
    access: 'administrator',
    summary: 'Clears a user’s topic permission on one exchange',
    handler: async (r) => {
      requireAdmin(r);
      const u = user(r);
      if (!(u.topicPermissions[r.params.vhost!] ?? []).some((t) => t.exchange === r.params.exchange)) throw new HttpError(404, 'Object Not Found', 'Not Found');
      await core(() => r.ctx.core.users.clearTopicPermissions(u.name, r.params.vhost!, r.params.exchange!));
      return new StatusResult(204);
    },
  },
  {
    method: 'GET',
    path: '/api/vhosts/:vhost/permissions',
    access: 'administrator',
    summary: 'Permissions in a vhost',
    handler: (r) => {
      requireAdmin(r);
      const vh = readableVhost(r);
      return r.ctx.core.users.list().flatMap(permissionViews).filter((p) => p.vhost === vh.name);
    },
  },
  {
    method: 'GET',
    path: '/api/permissions/:vhost/:user',
    access: 'administrator',
    summary: 'A user’s permissions in a vhost',
    handler: (r) => {
      requireAdmin(r);
      const p = permissionViews(user(r)).find((x) => x.vhost === r.params.vhost);
      if (!p) throw new HttpError(404, 'Object Not Found', 'Not Found');
      return p;
    },
  },
  {
    method: 'PUT',
    path: '/api/permissions/:vhost/:user',
    access: 'administrator',
    summary: 'Sets a user’s permissions in a vhost `{configure, write, read}`',
    handler: async (r) => {
      requireAdmin(r);
      const vh = readableVhost(r);
      user(r);
      const b = await r.body();
      const existed = r.ctx.core.users.get(r.params.user!)!.permissions[vh.name] !== undefined;
      await core(() => r.ctx.core.users.setPermissions(r.params.user!, vh.name, { configure: String(b.configure ?? ''), write: String(b.write ?? ''), read: String(b.read ?? '') }));
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/permissions/:vhost/:user',
    access: 'administrator',
    summary: 'Clears a user’s permissions in a vhost',
    handler: async (r) => {
      requireAdmin(r);
      user(r);
      await core(() => r.ctx.core.users.clearPermissions(r.params.user!, r.params.vhost!));
      return new StatusResult(204);
    },
  },
];

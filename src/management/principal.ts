import type { IncomingMessage } from 'node:http';
import type { Core, Permission, ResourceKind } from '../core/index.js';
import { HttpError } from './http-io.js';

/**
 * Who called the management API or UI, with RabbitMQ's management tags: `administrator` sees
 * and changes everything; `monitoring` sees every vhost and the node; `management` sees the
 * vhosts it has permissions on; a user without one of these tags is refused.
 */
export interface Principal {
  readonly name: string;
  readonly tags: readonly string[];
  /** True when the user may see and act on the vhost's objects. */
  mayAccessVhost(vhost: string): boolean;
  /**
   * RabbitMQ's resource permissions (configure / write / read regexes), enforced for every
   * user including administrators, as RabbitMQ does; absent for the control socket's local
   * administrator, who owns the data dir.
   */
  allows?(vhost: string, kind: ResourceKind, name: string, perm: Permission): boolean;
}

export type Authenticate = (username: string, password: string, remoteAddress: string) => Promise<Principal | null>;

export const MANAGEMENT_TAGS = ['administrator', 'monitoring', 'management', 'policymaker'] as const;

export function isAdministrator(p: Principal): boolean {
  return p.tags.includes('administrator');
}

/** administrator or monitoring: may read every vhost and node-wide data. */
export function mayMonitor(p: Principal): boolean {
  return p.tags.includes('administrator') || p.tags.includes('monitoring');
}

export function mayReadVhost(p: Principal, vhost: string): boolean {
  return mayMonitor(p) || p.mayAccessVhost(vhost);
}

/** Changing a vhost's objects: administrators, or management users with permissions there (RabbitMQ's rule). */
export function mayChangeVhost(p: Principal, vhost: string): boolean {
  return isAdministrator(p) || p.mayAccessVhost(vhost);
}

/** Parses `Authorization: Basic ...` and checks the password; 401 otherwise. */
export async function basicAuthUser(req: IncomingMessage, authenticate: Authenticate, remoteAddress: string): Promise<Principal> {
  const header = req.headers.authorization ?? '';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) throw new HttpError(401, 'not_authorised', 'Not_Authorized');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new HttpError(401, 'not_authorised', 'Not_Authorized');
  const principal = await authenticate(decoded.slice(0, colon), decoded.slice(colon + 1), remoteAddress);
  if (!principal) throw new HttpError(401, 'not_authorised', 'Login failed');
  return principal;
}

/** Basic auth of a user with a management tag; 401 with a challenge otherwise. */
export async function authenticateRequest(req: IncomingMessage, authenticate: Authenticate, remoteAddress: string): Promise<Principal> {
  const principal = await basicAuthUser(req, authenticate, remoteAddress);
  if (!principal.tags.some((t) => (MANAGEMENT_TAGS as readonly string[]).includes(t))) {
    throw new HttpError(401, 'not_authorised', `user '${principal.name}' has no management tag (administrator, monitoring, management)`);
  }
  return principal;
}

/**
 * HTTP basic auth against the broker-wide user store (the same users, tags and vhost
 * permissions as every protocol): failed logins are delayed and counted there.
 */
export function coreUsersAuthenticate(core: Core): Authenticate {
  return async (username, password, remoteAddress) => {
    const r = await core.users.authenticate(username, password, { remoteAddress, mechanism: 'http-basic' });
    if (!r.ok) return null;
    const user = r.user;
    return { name: user.name, tags: core.users.get(user.name)?.tags ?? [], mayAccessVhost: (v) => user.mayAccessVhost(v), allows: (v, kind, n, perm) => user.allows(v, kind, n, perm) };
  };
}

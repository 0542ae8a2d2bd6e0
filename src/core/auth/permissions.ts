/**
 * RabbitMQ's permission model (rabbitmq.com/docs/access-control), one for every protocol.
 *
 * Per user and vhost, three regular expressions over resource (queue, exchange, stream) names:
 * - configure: declare and delete the resource;
 * - write: publish to an exchange; be the destination of a bind;
 * - read: consume, get and purge a queue; be the source of a bind.
 * A user with no entry for a vhost cannot use that vhost at all. As in RabbitMQ the
 * expressions are searched, not anchored (`^orders` for a prefix, `.*` for all), and the
 * empty string matches nothing. The default exchange is checked as `amq.default`.
 *
 * Topic permissions (RabbitMQ 3.7+): per user, vhost and topic exchange, a write and a read
 * expression over routing keys; `{username}`, `{vhost}` and `{client_id}` are replaced before
 * matching. An exchange without topic permissions for the user is not restricted.
 */
export type Permission = 'configure' | 'write' | 'read';
/** `transactionalId`: a Kafka transactional id (write on it = Kafka's WRITE on TransactionalId). */
export type ResourceKind = 'queue' | 'exchange' | 'stream' | 'topic' | 'group' | 'cluster' | 'transactionalId';

export interface VhostPermissions {
  configure: string;
  write: string;
  read: string;
}

export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

/** What an expression in a topic permission may refer to. */
export interface TopicContext {
  username: string;
  vhost: string;
  clientId?: string;
}

const cache = new Map<string, RegExp | null>();

/** Compiled permission expression; null (matches nothing) for the empty string. Throws on an invalid one. */
export function compilePermission(source: string): RegExp | null {
  let re = cache.get(source);
  if (re === undefined) {
    re = source === '' ? null : new RegExp(source);
    if (cache.size > 10_000) cache.clear();
    cache.set(source, re);
  }
  return re;
}

/** The message of an invalid expression, or null when it compiles. */
export function permissionSyntaxError(source: string): string | null {
  try {
    compilePermission(source);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export function matchesPermission(source: string, name: string): boolean {
  const re = compilePermission(source);
  return re !== null && re.test(name);
}

/** The name a resource is checked under: the default exchange is `amq.default`. */
export function permissionResourceName(kind: ResourceKind, name: string): string {
  return kind === 'exchange' && name === '' ? 'amq.default' : name;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Expands `{username}`, `{vhost}`, `{client_id}` (escaped, so a name cannot widen the pattern). */
export function expandTopicPattern(pattern: string, ctx: TopicContext): string {
  return pattern
    .replace(/\{username\}/g, escapeRegExp(ctx.username))
    .replace(/\{vhost\}/g, escapeRegExp(ctx.vhost))
    .replace(/\{client_id\}/g, escapeRegExp(ctx.clientId ?? ''));
}

/** Whether a routing key passes the user's topic permissions on `exchange` (true when none apply). */
export function topicAllowed(perms: readonly TopicPermission[], exchange: string, routingKey: string, perm: 'write' | 'read', ctx: TopicContext): boolean {
  // On every publish: no allocation when no topic permission names the exchange.
  let restricted = false;
  for (const p of perms) {
    if (p.exchange !== exchange) continue;
    restricted = true;
    if (matchesPermission(expandTopicPattern(p[perm], ctx), routingKey)) return true;
  }
  return !restricted;
}

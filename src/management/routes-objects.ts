/**
 * Vhosts, exchanges, queues, bindings, policies and definitions, as RabbitMQ's management
 * API lists and changes them; every list is filtered to the vhosts the caller may see.
 */
import { createMessage, isCoreError, type Vhost, type Core, type ExchangeType, type Permission, type ResourceKind } from '../core/index.js';
import { exportDefinitions, importDefinitions, type RabbitDefinitions } from './definitions.js';
import { DefinitionsRefused } from './definitions-undo.js';
import { found, HttpError, notFound } from './http-io.js';
import { sortItems } from './list-query.js';
import { isAdministrator, mayChangeVhost, mayReadVhost, type Principal } from './principal.js';
import { StatusResult, type Route, type RouteRequest } from './router.js';
import { bindingView, exchangeView, matchingPolicy, policyView, propertiesKey, queueView, specialConsumers } from './views.js';

/** 403 unless the caller holds `perm` on the resource (RabbitMQ's wording). */
export function requirePermission(r: RouteRequest, vhost: string, kind: ResourceKind, name: string, perm: Permission): void {
  const p = r.principal;
  if (p.allows && !p.allows(vhost, kind, name, perm)) throw new HttpError(403, 'access_refused', `access to ${kind} '${name}' in vhost '${vhost}' refused for user '${p.name}'`);
}


/** The vhost named in the path, when it exists and the caller may see it (else 404, as RabbitMQ). */
export function readableVhost(r: RouteRequest): Vhost {
  const name = r.params.vhost!;
  if (!r.ctx.core.hasVhost(name) || !mayReadVhost(r.principal, name)) throw notFound();
  return r.ctx.core.vhost(name);
}

export function writableVhost(r: RouteRequest): Vhost {
  const vh = readableVhost(r);
  if (!mayChangeVhost(r.principal, vh.name)) throw new HttpError(403, 'not_authorised', `access to vhost '${vh.name}' refused for user '${r.principal.name}'`);
  return vh;
}

/** The vhosts a list covers: the one in the path, or every one the caller may see. */
export function visibleVhosts(core: Core, p: Principal, only?: string): Vhost[] {
  return core
    .vhostNames()
    .filter((v) => (only === undefined || v === only) && mayReadVhost(p, v))
    .map((v) => core.vhost(v));
}

/** A definitions import: a refused one (checked or undone) is a 400 naming why, as RabbitMQ answers. */
async function importing(fn: () => Promise<string[]>): Promise<string[]> {
  try {
    return await core(fn);
  } catch (err) {
    if (err instanceof DefinitionsRefused) throw new HttpError(400, 'bad_request', err.message);
    throw err;
  }
}

/** Core errors as HTTP: not found 404, refused 403, conflicts 400 (RabbitMQ answers 400 for precondition failures). */
export async function core<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isCoreError(err)) throw err;
    const status = err.code === 'NOT_FOUND' ? 404 : err.code === 'ACCESS_REFUSED' || err.code === 'RESOURCE_LOCKED' ? 403 : 400;
    throw new HttpError(status, status === 404 ? 'Object Not Found' : 'bad_request', err.message);
  }
}

function listQueues(r: RouteRequest, only?: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const special = specialConsumers(r.ctx);
  for (const vh of visibleVhosts(r.ctx.core, r.principal, only)) {
    for (const q of vh.queues()) out.push(queueView(r.ctx, vh.name, q, matchingPolicy(vh, q.name, 'queues'), special));
  }
  return paginate(r, out);
}

/** RabbitMQ's optional `?page=&page_size=&name=` pagination; plain arrays without `page`. */
function paginate(r: RouteRequest, items: Record<string, unknown>[]): Record<string, unknown>[] {
  const name = r.query.get('name');
  let list = items;
  if (name) {
    const re = r.query.get('use_regex') === 'true' ? new RegExp(name) : null;
    list = list.filter((i) => (re ? re.test(String(i.name)) : String(i.name).includes(name)));
  }
  const page = r.query.get('page');
  if (!page) return list;
  list = sortItems(list, r.query);
  const size = Math.max(1, Number(r.query.get('page_size') ?? 100));
  const p = Math.max(1, Number(page));
  const slice = list.slice((p - 1) * size, p * size);
  return { items: slice, page: p, page_size: size, page_count: Math.ceil(list.length / size), filtered_count: list.length, item_count: slice.length, total_count: items.length } as never;
}

function listExchanges(r: RouteRequest, only?: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const vh of visibleVhosts(r.ctx.core, r.principal, only)) for (const x of vh.exchanges()) out.push(exchangeView(vh.name, x, matchingPolicy(vh, x.name, 'exchanges')));
  return paginate(r, out);
}

function listBindings(r: RouteRequest, only?: string, filter?: (b: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const vh of visibleVhosts(r.ctx.core, r.principal, only)) {
    // RabbitMQ lists the default exchange's implicit binding of each queue first.
    for (const q of vh.queues()) out.push({ source: '', vhost: vh.name, destination: q.name, destination_type: 'queue', routing_key: q.name, arguments: {}, properties_key: propertiesKey(q.name, {}, 0) });
    for (const b of vh.bindings()) if (b.source !== '') out.push(bindingView(vh.name, b));
  }
  return filter ? out.filter(filter) : out;
}

function vhostView(r: RouteRequest, vh: Vhost): Record<string, unknown> {
  let ready = 0;
  let unacked = 0;
  for (const q of vh.queues()) {
    ready += q.messageCount;
    unacked += q.unackedCount;
  }
  return {
    name: vh.name,
    description: '',
    tags: [],
    metadata: { description: '', tags: [] },
    default_queue_type: 'classic',
    tracing: false,
    cluster_state: { [r.ctx.nodeName]: 'running' },
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
    polybroker_durability: vh.options.durability ?? r.ctx.config().storage.durability,
    polybroker_connections: vh.connectionCount,
  };
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : fallback;
}

/** Policies need the policymaker or administrator tag (RabbitMQ). */
function requirePolicymaker(r: RouteRequest): void {
  if (!isAdministrator(r.principal) && !r.principal.tags.includes('policymaker')) throw new HttpError(403, 'not_authorised', 'policies need the policymaker or administrator tag');
}

function requireAdmin(r: RouteRequest): void {
  if (!isAdministrator(r.principal)) throw new HttpError(403, 'not_authorised', 'Not administrator user');
}

/** POST /api/queues/:vhost/:name/get with RabbitMQ's ackmode, encoding and truncate. */
async function getMessages(r: RouteRequest): Promise<unknown> {
  const vh = writableVhost(r);
  requirePermission(r, vh.name, 'queue', r.params.name!, 'read');
  const body = await r.body();
  const count = Math.max(1, Math.min(Number(body.count ?? 1), 10_000));
  const ackmode = String(body.ackmode ?? 'ack_requeue_true');
  if (!['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'].includes(ackmode)) {
    throw new HttpError(400, 'bad_request', `ackmode must be ack_requeue_true, ack_requeue_false, reject_requeue_true or reject_requeue_false`);
  }
  const encoding = String(body.encoding ?? 'auto');
  const truncate = body.truncate === undefined ? undefined : Number(body.truncate);
  const conn = r.ctx.core.connect({ vhost: vh.name, protocol: 'amqp', user: r.principal.name, clientId: 'management get', internal: true });
  try {
    const ch = conn.openChannel();
    const out: Record<string, unknown>[] = [];
    const tags: number[] = [];
    for (let i = 0; i < count; i++) {
      const d = await core(() => ch.get(r.params.name!, { noAck: false }));
      if (!d) break;
      tags.push(d.deliveryTag);
      let payload = d.message.body;
      const bytes = payload.length;
      if (truncate !== undefined && truncate >= 0) payload = payload.subarray(0, truncate);
      const text = payload.toString('utf8');
      const utf8 = encoding === 'auto' && Buffer.from(text, 'utf8').equals(payload);
      const props = d.message.properties;
      out.push({
        payload_bytes: bytes,
        redelivered: d.redelivered,
        exchange: d.message.exchange,
        routing_key: d.message.routingKey,
        message_count: d.messageCount,
        properties: {
          ...(props.contentType !== undefined ? { content_type: props.contentType } : {}),
          ...(props.contentEncoding !== undefined ? { content_encoding: props.contentEncoding } : {}),
          ...(props.correlationId !== undefined ? { correlation_id: props.correlationId } : {}),
          ...(props.replyTo !== undefined ? { reply_to: props.replyTo } : {}),
          ...(props.messageId !== undefined ? { message_id: props.messageId } : {}),
          ...(props.priority !== undefined ? { priority: props.priority } : {}),
          delivery_mode: props.persistent ? 2 : 1,
          headers: Object.fromEntries(d.message.headers.map((h) => [h.name, h.value])),
        },
        payload: utf8 ? text : payload.toString('base64'),
        payload_encoding: utf8 ? 'string' : 'base64',
      });
    }
    const requeue = ackmode.endsWith('requeue_true');
    if (ackmode.startsWith('ack') && !requeue) for (const t of tags) ch.ack(t);
    else for (const t of tags.reverse()) ch.nack(t, false, requeue);
    return out;
  } finally {
    await conn.close();
  }
}

/** POST /api/exchanges/:vhost/:name/publish: `{properties, routing_key, payload, payload_encoding}` -> `{routed}`. */
async function publish(r: RouteRequest): Promise<unknown> {
  const vh = writableVhost(r);
  const body = await r.body();
  const encoding = String(body.payload_encoding ?? 'string');
  if (encoding !== 'string' && encoding !== 'base64') throw new HttpError(400, 'bad_request', "payload_encoding must be 'string' or 'base64'");
  const payload = Buffer.from(String(body.payload ?? ''), encoding === 'base64' ? 'base64' : 'utf8');
  const p = (body.properties ?? {}) as Record<string, unknown>;
  const headers = (p.headers ?? {}) as Record<string, unknown>;
  const exchange = r.params.name === 'amq.default' ? '' : r.params.name!;
  requirePermission(r, vh.name, 'exchange', exchange, 'write');
  const message = createMessage(payload, {
    properties: {
      ...(typeof p.content_type === 'string' ? { contentType: p.content_type } : {}),
      ...(typeof p.correlation_id === 'string' ? { correlationId: p.correlation_id } : {}),
      ...(typeof p.reply_to === 'string' ? { replyTo: p.reply_to } : {}),
      ...(typeof p.message_id === 'string' ? { messageId: p.message_id } : {}),
      ...(typeof p.priority === 'number' ? { priority: p.priority } : {}),
      persistent: Number(p.delivery_mode ?? 1) === 2,
    },
    headers: Object.entries(headers)
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      .map(([name, value]) => ({ name, value: value as string | number | boolean })),
  });
  const conn = r.ctx.core.connect({ vhost: vh.name, protocol: 'amqp', user: r.principal.name, clientId: 'management publish', internal: true });
  try {
    const ch = conn.openChannel();
    const res = await core(() => ch.publish(exchange, String(body.routing_key ?? ''), message, { mandatory: true }));
    await res.durable;
    return { routed: res.status === 'routed' };
  } finally {
    await conn.close();
  }
}


/** POST /api/bindings/:vhost/e/:source/{q|e}/:destination: write on the destination, read on the source (RabbitMQ's rule). */
function bindRoute(destination: 'queue' | 'exchange'): Route {
  return {
    method: 'POST',
    path: `/api/bindings/:vhost/e/:source/${destination === 'queue' ? 'q' : 'e'}/:destination`,
    access: 'management',
    summary: destination === 'queue' ? 'Binds a queue `{routing_key, arguments}`' : 'Binds an exchange to an exchange `{routing_key, arguments}`',
    handler: async (r) => {
      const vh = writableVhost(r);
      const b = await r.body();
      const [to, from, key, args] = [r.params.destination!, r.params.source!, String(b.routing_key ?? ''), (b.arguments ?? {}) as Record<string, unknown>];
      requirePermission(r, vh.name, destination, to, 'write');
      requirePermission(r, vh.name, 'exchange', from, 'read');
      await core(() => (destination === 'queue' ? vh.bindQueue(to, from, key, args) : vh.bindExchange(to, from, key, args)));
      return new StatusResult(201);
    },
  };
}

const DTYPE = { queue: 'q', exchange: 'e' } as const;

/** GET /api/bindings/:vhost/e/:source/{q|e}/:destination. */
function bindingsBetweenRoute(destination: 'queue' | 'exchange'): Route {
  return {
    method: 'GET',
    path: `/api/bindings/:vhost/e/:source/${DTYPE[destination]}/:destination`,
    access: 'management',
    summary: destination === 'queue' ? 'Bindings between an exchange and a queue' : 'Bindings between two exchanges',
    handler: (r) => listBindings(r, readableVhost(r).name, (b) => b.source === r.params.source && b.destination === r.params.destination && b.destination_type === destination),
  };
}

/** DELETE /api/bindings/:vhost/e/:source/{q|e}/:destination/:props (props = properties_key): write on the destination, read on the source. */
function unbindRoute(destination: 'queue' | 'exchange'): Route {
  return {
    method: 'DELETE',
    path: `/api/bindings/:vhost/e/:source/${DTYPE[destination]}/:destination/:props`,
    access: 'management',
    summary: destination === 'queue' ? 'Unbinds a queue (props = properties_key)' : 'Unbinds an exchange from an exchange (props = properties_key)',
    handler: async (r) => {
      const vh = writableVhost(r);
      const [to, from] = [r.params.destination!, r.params.source!];
      const match = listBindings(r, vh.name).find((b) => b.source === from && b.destination === to && b.destination_type === destination && b.properties_key === r.params.props);
      if (!match) throw notFound();
      requirePermission(r, vh.name, destination, to, 'write');
      requirePermission(r, vh.name, 'exchange', from, 'read');
      const [key, args] = [String(match.routing_key), match.arguments as Record<string, unknown>];
      await core(() => (destination === 'queue' ? vh.unbindQueue(to, from, key, args) : vh.unbindExchange(to, from, key, args)));
      return new StatusResult(204);
    },
  };
}

export const objectRoutes: Route[] = [
  { method: 'GET', path: '/api/vhosts', access: 'management', summary: 'Vhosts with message totals', handler: (r) => visibleVhosts(r.ctx.core, r.principal).map((vh) => vhostView(r, vh)) },
  { method: 'GET', path: '/api/vhosts/:vhost', access: 'management', summary: 'One vhost', handler: (r) => vhostView(r, readableVhost(r)) },
  {
    method: 'PUT',
    path: '/api/vhosts/:vhost',
    access: 'administrator',
    summary: 'Creates a vhost (idempotent)',
    handler: async (r) => {
      requireAdmin(r);
      const existed = r.ctx.core.hasVhost(r.params.vhost!);
      await core(() => r.ctx.core.declareVhost(r.params.vhost!));
      // As RabbitMQ's management plugin: the user who creates a vhost gets full permissions on it.
      if (!existed && r.ctx.core.users.get(r.principal.name)) await r.ctx.core.users.setPermissions(r.principal.name, r.params.vhost!, { configure: '.*', write: '.*', read: '.*' });
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/vhosts/:vhost',
    access: 'administrator',
    summary: 'Deletes a vhost and everything in it, and every user\'s permissions and topic permissions on it (as RabbitMQ)',
    handler: async (r) => {
      requireAdmin(r);
      const name = r.params.vhost!;
      await core(() => r.ctx.core.deleteVhost(name));
      // As RabbitMQ: the permissions go with the vhost (a new vhost of that name starts without
      // them, and exported definitions stay importable).
      for (const u of r.ctx.core.users.list()) {
        if (u.permissions[name]) await r.ctx.core.users.clearPermissions(u.name, name);
        if (u.topicPermissions[name]) await r.ctx.core.users.clearTopicPermissions(u.name, name);
      }
      return new StatusResult(204);
    },
  },
  { method: 'GET', path: '/api/exchanges', access: 'management', summary: 'Every exchange', handler: (r) => listExchanges(r) },
  { method: 'GET', path: '/api/exchanges/:vhost', access: 'management', summary: 'Exchanges of a vhost', handler: (r) => listExchanges(r, readableVhost(r).name) },
  {
    method: 'GET',
    path: '/api/exchanges/:vhost/:name',
    access: 'management',
    summary: 'One exchange',
    handler: (r) => {
      const vh = readableVhost(r);
      const x = found(vh.exchange(r.params.name === 'amq.default' ? '' : r.params.name!));
      return exchangeView(vh.name, x, matchingPolicy(vh, x.name, 'exchanges'));
    },
  },
  {
    method: 'PUT',
    path: '/api/exchanges/:vhost/:name',
    access: 'management',
    summary: 'Declares an exchange `{type, durable, auto_delete, internal, arguments}`',
    handler: async (r) => {
      const vh = writableVhost(r);
      const b = await r.body();
      requirePermission(r, vh.name, 'exchange', r.params.name!, 'configure');
      const existed = vh.exchange(r.params.name!) !== null;
      await core(() => vh.declareExchange(r.params.name!, { type: String(b.type ?? 'direct') as ExchangeType, durable: bool(b.durable, true), autoDelete: bool(b.auto_delete, false), internal: bool(b.internal, false), arguments: (b.arguments ?? {}) as Record<string, unknown> }));
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/exchanges/:vhost/:name',
    access: 'management',
    summary: 'Deletes an exchange (`?if-unused=true`)',
    handler: async (r) => {
      const vh = writableVhost(r);
      if (!vh.exchange(r.params.name!)) throw notFound();
      requirePermission(r, vh.name, 'exchange', r.params.name!, 'configure');
      await core(() => vh.deleteExchange(r.params.name!, { ifUnused: r.query.get('if-unused') === 'true' }));
      return new StatusResult(204);
    },
  },
  { method: 'POST', path: '/api/exchanges/:vhost/:name/publish', access: 'management', summary: 'Publishes one message', handler: publish },
  { method: 'GET', path: '/api/queues', access: 'management', summary: 'Every queue with depth, consumers and rates', handler: (r) => listQueues(r) },
  { method: 'GET', path: '/api/queues/:vhost', access: 'management', summary: 'Queues of a vhost', handler: (r) => listQueues(r, readableVhost(r).name) },
  {
    method: 'GET',
    path: '/api/queues/:vhost/:name',
    access: 'management',
    summary: 'One queue',
    handler: (r) => {
      const vh = readableVhost(r);
      const q = vh.queue(r.params.name!);
      if (!q) throw notFound();
      return queueView(r.ctx, vh.name, q, matchingPolicy(vh, q.name, 'queues'));
    },
  },
  {
    method: 'PUT',
    path: '/api/queues/:vhost/:name',
    access: 'management',
    summary: 'Declares a queue `{durable, auto_delete, arguments}`',
    handler: async (r) => {
      const vh = writableVhost(r);
      const b = await r.body();
      requirePermission(r, vh.name, 'queue', r.params.name!, 'configure');
      const existed = vh.queue(r.params.name!) !== null;
      await core(() => vh.declareQueue(r.params.name!, { durable: bool(b.durable, true), autoDelete: bool(b.auto_delete, false), arguments: (b.arguments ?? {}) as Record<string, unknown> }));
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/queues/:vhost/:name',
    access: 'management',
    summary: 'Deletes a queue (`?if-unused=true&if-empty=true`)',
    handler: async (r) => {
      const vh = writableVhost(r);
      if (!vh.queue(r.params.name!)) throw notFound();
      requirePermission(r, vh.name, 'queue', r.params.name!, 'configure');
      await core(() => vh.deleteQueue(r.params.name!, { ifUnused: r.query.get('if-unused') === 'true', ifEmpty: r.query.get('if-empty') === 'true' }));
      return new StatusResult(204);
    },
  },
  {
    method: 'DELETE',
    path: '/api/queues/:vhost/:name/contents',
    access: 'management',
    summary: 'Purges a queue (ready messages)',
    handler: async (r) => {
      const vh = writableVhost(r);
      if (!vh.queue(r.params.name!)) throw notFound();
      requirePermission(r, vh.name, 'queue', r.params.name!, 'read');
      const purged = await core(() => vh.purgeQueue(r.params.name!));
      return new StatusResult(204, { purged });
    },
  },
  { method: 'POST', path: '/api/queues/:vhost/:name/get', access: 'management', summary: 'Gets messages `{count, ackmode, encoding, truncate}`', handler: getMessages },
  { method: 'GET', path: '/api/queues/:vhost/:name/bindings', access: 'management', summary: 'Bindings of a queue', handler: (r) => listBindings(r, readableVhost(r).name, (b) => b.destination === r.params.name && b.destination_type === 'queue') },
  { method: 'GET', path: '/api/bindings', access: 'management', summary: 'Every binding', handler: (r) => listBindings(r) },
  { method: 'GET', path: '/api/bindings/:vhost', access: 'management', summary: 'Bindings of a vhost', handler: (r) => listBindings(r, readableVhost(r).name) },
  bindingsBetweenRoute('queue'),
  bindingsBetweenRoute('exchange'),
  bindRoute('queue'),
  bindRoute('exchange'),
  unbindRoute('queue'),
  unbindRoute('exchange'),
  {
    method: 'GET',
    path: '/api/exchanges/:vhost/:name/bindings/source',
    access: 'management',
    summary: 'Bindings whose source is the exchange',
    handler: (r) => {
      const vh = readableVhost(r);
      found(vh.exchange(r.params.name!));
      return listBindings(r, vh.name, (b) => b.source === r.params.name);
    },
  },
  {
    method: 'GET',
    path: '/api/exchanges/:vhost/:name/bindings/destination',
    access: 'management',
    summary: 'Bindings whose destination is the exchange',
    handler: (r) => {
      const vh = readableVhost(r);
      found(vh.exchange(r.params.name!));
      return listBindings(r, vh.name, (b) => b.destination === r.params.name && b.destination_type === 'exchange');
    },
  },
  { method: 'GET', path: '/api/policies', access: 'management', summary: 'Every policy', handler: (r) => visibleVhosts(r.ctx.core, r.principal).flatMap((vh) => vh.policies().map((p) => policyView(vh.name, p))) },
  { method: 'GET', path: '/api/policies/:vhost', access: 'management', summary: 'Policies of a vhost', handler: (r) => readableVhost(r).policies().map((p) => policyView(r.params.vhost!, p)) },
  {
    method: 'PUT',
    path: '/api/policies/:vhost/:name',
    access: 'management',
    summary: 'Sets a policy `{pattern, definition, priority, apply-to}`',
    handler: async (r) => {
      const vh = writableVhost(r);
      requirePolicymaker(r);
      const b = await r.body();
      if (typeof b.pattern !== 'string' || typeof b.definition !== 'object') throw new HttpError(400, 'bad_request', 'pattern and definition are required');
      const applyTo = String(b['apply-to'] ?? 'all');
      const existed = vh.policies().some((p) => p.name === r.params.name);
      await core(() => vh.setPolicy({ name: r.params.name!, pattern: b.pattern as string, applyTo: (applyTo === 'classic_queues' || applyTo === 'quorum_queues' ? 'queues' : applyTo) as 'all', priority: Number(b.priority ?? 0), definition: b.definition as Record<string, unknown> }));
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/policies/:vhost/:name',
    access: 'management',
    summary: 'Deletes a policy',
    handler: async (r) => {
      const vh = writableVhost(r);
      requirePolicymaker(r);
      if (!vh.policies().some((p) => p.name === r.params.name)) throw notFound();
      await core(() => vh.deletePolicy(r.params.name!));
      return new StatusResult(204);
    },
  },
  {
    method: 'GET',
    path: '/api/definitions',
    access: 'administrator',
    summary: 'Exports every definition (RabbitMQ definitions JSON)',
    handler: (r) => {
      requireAdmin(r);
      return exportDefinitions(r.ctx.core, r.ctx.version);
    },
  },
  {
    method: 'POST',
    path: '/api/definitions',
    access: 'administrator',
    summary: 'Imports RabbitMQ definitions JSON (idempotent, all or nothing); answers what changed, or 400 naming every problem',
    handler: async (r) => {
      requireAdmin(r);
      const defs = (await r.body()) as RabbitDefinitions;
      return { changes: await importing(() => importDefinitions(r.ctx.core, defs, undefined, r.progress)) };
    },
  },
  {
    method: 'GET',
    path: '/api/definitions/:vhost',
    access: 'management',
    summary: 'Exports one vhost’s definitions',
    handler: (r) => {
      const vh = writableVhost(r);
      return exportDefinitions(r.ctx.core, r.ctx.version, vh.name);
    },
  },
  {
    method: 'POST',
    path: '/api/definitions/:vhost',
    access: 'management',
    summary: 'Imports definitions into one vhost (all or nothing; users and permissions are not imported)',
    handler: async (r) => {
      const vh = writableVhost(r);
      const defs = (await r.body()) as RabbitDefinitions;
      if (defs.parameters?.length && !isAdministrator(r.principal)) throw new HttpError(403, 'not_authorised', 'vhost limits (parameters) need the administrator tag');
      for (const list of [defs.queues, defs.exchanges, defs.bindings, defs.policies, defs.parameters, defs.polybroker_streams] as { vhost?: string }[][]) for (const i of list ?? []) i.vhost = vh.name;
      // As RabbitMQ's vhost import: objects (and the vhost's limits) only. Users and permissions need the administrator route.
      const objects: RabbitDefinitions = { queues: defs.queues, exchanges: defs.exchanges, bindings: defs.bindings, policies: defs.policies, parameters: defs.parameters, polybroker_streams: defs.polybroker_streams };
      return { changes: await importing(() => importDefinitions(r.ctx.core, objects, vh.name, r.progress)) };
    },
  },
];

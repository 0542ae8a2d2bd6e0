/** Delayed messages, dead letters (counts and redrive) and message lookup, on the core's APIs for them. */
import type { Message } from '../core/index.js';
import { HttpError } from './http-io.js';
import { StatusResult, type Route } from './router.js';
import { core, readableVhost, requirePermission, visibleVhosts, writableVhost } from './routes-objects.js';

function messageView(m: Message): Record<string, unknown> {
  const text = m.body.toString('utf8');
  const utf8 = Buffer.from(text, 'utf8').equals(m.body);
  return {
    exchange: m.exchange,
    routing_key: m.routingKey,
    key: m.key ? m.key.toString('utf8') : null,
    timestamp: m.timestamp,
    properties: {
      message_id: m.properties.messageId,
      correlation_id: m.properties.correlationId,
      content_type: m.properties.contentType,
      delivery_mode: m.properties.persistent ? 2 : 1,
    },
    headers: Object.fromEntries(m.headers.map((h) => [h.name, h.value])),
    payload_bytes: m.body.length,
    payload: utf8 ? text : m.body.toString('base64'),
    payload_encoding: utf8 ? 'string' : 'base64',
  };
}

export const businessRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/delayed',
    access: 'management',
    summary: 'Delayed messages (delayed publishes and retries) waiting, per vhost',
    handler: (r) => visibleVhosts(r.ctx.core, r.principal).map((vh) => ({ vhost: vh.name, delayed: vh.delayedCount() })),
  },
  {
    method: 'GET',
    path: '/api/delayed/:vhost',
    access: 'management',
    summary: 'Pending delayed messages of a vhost, nearest first (`?limit=`, default 100)',
    handler: async (r) => {
      const vh = readableVhost(r);
      const list = await core(() => vh.listDelayed(Math.min(Number(r.query.get('limit') ?? 100), 10_000)));
      return list.map((d) => ({ id: d.id, due_at: d.dueAt, exchange: d.exchange, routing_key: d.routingKey, queue: d.queue, retry: d.retry, payload_bytes: d.bodySize }));
    },
  },
  {
    method: 'DELETE',
    path: '/api/delayed/:vhost/:id',
    access: 'management',
    summary: 'Cancels a pending delayed message (it is never routed)',
    handler: async (r) => {
      const vh = writableVhost(r);
      if (!(await core(() => vh.cancelDelayed(r.params.id!)))) throw new HttpError(404, 'Object Not Found', 'no such pending delayed message');
      return new StatusResult(204);
    },
  },
  {
    method: 'GET',
    path: '/api/dead-letters',
    access: 'management',
    summary: 'Dead-lettered counts per queue (messages each queue sent to its dead-letter exchange), and the depth of queues that received dead letters',
    handler: (r) =>
      visibleVhosts(r.ctx.core, r.principal).flatMap((vh) =>
        vh
          .queues()
          .filter((q) => q.stats.deadLettered > 0 || q.effectiveArguments['x-dead-letter-exchange'] !== undefined || q.effectiveArguments['dead-letter-exchange'] !== undefined)
          .map((q) => ({ vhost: vh.name, queue: q.name, dead_lettered: q.stats.deadLettered, dead_letter_exchange: q.effectiveArguments['x-dead-letter-exchange'] ?? q.effectiveArguments['dead-letter-exchange'] ?? null })),
      ),
  },
  {
    method: 'POST',
    path: '/api/queues/:vhost/:name/redrive',
    access: 'management',
    summary: 'Moves dead-lettered messages from this queue back to where they died `{to?, limit?}` -> `{moved, skipped}`',
    handler: async (r) => {
      const vh = writableVhost(r);
      if (!vh.queue(r.params.name!)) throw new HttpError(404, 'Object Not Found', 'Not Found');
      requirePermission(r, vh.name, 'queue', r.params.name!, 'read');
      const b = await r.body();
      const res = await core(() => vh.redrive(r.params.name!, { ...(typeof b.to === 'string' ? { to: b.to } : {}), ...(b.limit !== undefined ? { limit: Number(b.limit) } : {}) }));
      return { moved: res.moved, skipped: res.skipped };
    },
  },
  {
    method: 'GET',
    path: '/api/messages/:vhost',
    access: 'management',
    summary: 'Message lookup by message id, correlation id or key (`?key=...&limit=32`): the stored message and where it went',
    handler: async (r) => {
      const vh = writableVhost(r);
      const key = r.query.get('key');
      if (!key) throw new HttpError(400, 'bad_request', 'give ?key= (a message id, correlation id or Kafka key)');
      const found = await core(() => vh.lookupMessages(key, Math.min(Number(r.query.get('limit') ?? 32), 1000)));
      return found.map((f) => ({ stored_at: f.storedAt, message: messageView(f.message), routes: f.routes.map((x) => ({ kind: x.kind, name: x.name, partition: x.partition, offset: x.offset, state: x.state, ...(x.consumedBy ? { consumed_by: x.consumedBy } : {}) })) }));
    },
  },
];

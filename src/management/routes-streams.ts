/** polybroker's own endpoints: streams, consumer groups (lag, members, offset reset) and MQTT sessions. */
import type { OffsetSpec, Vhost } from '../core/index.js';
import { found, HttpError } from './http-io.js';
import { StatusResult, type Route, type RouteRequest } from './router.js';
import { core, readableVhost, requirePermission, visibleVhosts, writableVhost } from './routes-objects.js';
import { consumerGroupView, streamView } from './views.js';

function streams(r: RouteRequest, only?: string): Record<string, unknown>[] {
  return visibleVhosts(r.ctx.core, r.principal, only).flatMap((vh) => vh.streams().map((s) => streamView(r.ctx, vh, s.name)!));
}

function groupView(r: RouteRequest, vh: Vhost, group: string): Record<string, unknown> {
  const live = r.ctx.core.groupMemberships(vh.name).find((g) => g.group === group);
  return {
    ...consumerGroupView(vh, group),
    state: live?.state ?? 'Empty',
    protocol: live?.protocol ?? '',
    members: (live?.members ?? []).map((m) => ({ member_id: m.memberId, client_id: m.clientId, host: m.host, assignments: m.assignments })),
  };
}

function groups(r: RouteRequest, only?: string): Record<string, unknown>[] {
  return visibleVhosts(r.ctx.core, r.principal, only).flatMap((vh) => {
    const names = new Set([...vh.groups(), ...r.ctx.core.groupMemberships(vh.name).map((g) => g.group)]);
    return [...names].sort().map((g) => groupView(r, vh, g));
  });
}

/** Session queues are `mqtt.session.<client id>` (protocols/mqtt/session.ts); their amq.topic bindings are the subscriptions. */
const SESSION_PREFIX = 'mqtt.session.';

/** AMQP topic pattern back to an MQTT filter: `.` -> `/`, `*` -> `+` (the MQTT adapter's mapping reversed). */
function mqttFilter(routingKey: string): string {
  return routingKey
    .split('.')
    .map((w) => (w === '*' ? '+' : w))
    .join('/');
}

function mqttSessions(r: RouteRequest): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const conns = r.ctx.core.connections().filter((c) => c.protocol === 'mqtt');
  for (const vh of visibleVhosts(r.ctx.core, r.principal)) {
    const seen = new Set<string>();
    const subs = new Map<string, string[]>();
    for (const b of vh.bindings()) if (b.source === 'amq.topic' && b.destination.startsWith(SESSION_PREFIX)) subs.set(b.destination, [...(subs.get(b.destination) ?? []), mqttFilter(b.routingKey)]);
    for (const q of vh.queues()) {
      if (!q.name.startsWith(SESSION_PREFIX)) continue;
      const clientId = q.name.slice(SESSION_PREFIX.length);
      seen.add(clientId);
      const conn = conns.find((c) => c.vhost === vh.name && c.clientId === clientId);
      out.push({ vhost: vh.name, client_id: clientId, connected: conn !== undefined, connection: conn?.id ?? null, user: conn?.user ?? null, queue: q.name, messages: q.messageCount, messages_unacknowledged: q.unackedCount, subscriptions: subs.get(q.name) ?? [] });
    }
    // Connected clients without a session queue (clean sessions without QoS>0 subscriptions).
    for (const c of conns) {
      if (c.vhost !== vh.name || seen.has(c.clientId)) continue;
      out.push({ vhost: vh.name, client_id: c.clientId, connected: true, connection: c.id, user: c.user, queue: null, messages: 0, messages_unacknowledged: 0, subscriptions: [] });
    }
  }
  return out;
}

type ResetTarget = 'earliest' | 'latest' | { offset: number } | { timestamp: number } | { shiftBy: number };

function parseTarget(b: Record<string, unknown>): ResetTarget {
  const to = b.to;
  if (to === 'earliest' || to === 'latest') return to;
  if (typeof b.offset === 'number' || to === 'offset') return { offset: Number(b.offset) };
  if (typeof b.timestamp === 'number' || typeof b.timestamp === 'string' || to === 'timestamp') {
    const t = typeof b.timestamp === 'string' ? Date.parse(b.timestamp) : Number(b.timestamp);
    if (!Number.isFinite(t)) throw new HttpError(400, 'bad_request', `timestamp '${String(b.timestamp)}' is not a date or ms since the epoch`);
    return { timestamp: t };
  }
  if (typeof b.shift_by === 'number' || to === 'shift-by') return { shiftBy: Number(b.shift_by) };
  throw new HttpError(400, 'bad_request', "to must be 'earliest', 'latest', 'offset' (with offset), 'timestamp' (with timestamp) or 'shift-by' (with shift_by)");
}

export interface OffsetResetPlan {
  stream: string;
  partition: number;
  current: number | null;
  target: number;
}

/**
 * Kafka's `kafka-consumer-groups --reset-offsets`: plans the new offset of each partition
 * (clamped to the partition's start and end), and with `dry_run: false` commits them. Refused
 * while the group has live members, as Kafka refuses it for an active group.
 */
export async function resetGroupOffsets(vh: Vhost, group: string, members: number, b: Record<string, unknown>): Promise<{ dry_run: boolean; plan: OffsetResetPlan[] }> {
  const target = parseTarget(b);
  const stream = typeof b.stream === 'string' ? b.stream : null;
  const dryRun = b.dry_run !== false;
  const committed = vh.groupOffsets(group);
  const streamsToReset = stream ? [stream] : [...committed.keys()];
  if (streamsToReset.length === 0) throw new HttpError(400, 'bad_request', `group '${group}' has no committed offsets: name a stream`);
  const plan: OffsetResetPlan[] = [];
  for (const s of streamsToReset) {
    const info = found(vh.stream(s), `no stream '${s}' in vhost '${vh.name}'`);
    const partitions = Array.isArray(b.partitions) ? b.partitions.map(Number) : [...Array(info.partitions).keys()];
    for (const p of partitions) {
      const o = await core(() => vh.partitionOffsets(s, p));
      const current = vh.committedOffset(group, s, p)?.offset ?? null;
      let next: number;
      if (target === 'earliest') next = o.startOffset;
      else if (target === 'latest') next = o.highWatermark;
      else if ('offset' in target) next = target.offset;
      else if ('timestamp' in target) next = vh.resolveOffset(s, p, { timestamp: target.timestamp } as OffsetSpec);
      else next = (current ?? o.startOffset) + target.shiftBy;
      plan.push({ stream: s, partition: p, current, target: Math.min(Math.max(next, o.startOffset), o.highWatermark) });
    }
  }
  if (!dryRun) {
    if (members > 0) throw new HttpError(409, 'conflict', `group '${group}' has ${members} live member(s): stop its consumers before resetting offsets`);
    for (const x of plan) await vh.commitOffset(group, x.stream, x.partition, x.target, '');
  }
  return { dry_run: dryRun, plan };
}

export const streamRoutes: Route[] = [
  { method: 'GET', path: '/api/streams', access: 'management', summary: 'Streams with partitions, offsets, depth and append rate', handler: (r) => streams(r) },
  { method: 'GET', path: '/api/streams/:vhost', access: 'management', summary: 'Streams of a vhost', handler: (r) => streams(r, readableVhost(r).name) },
  {
    method: 'GET',
    path: '/api/streams/:vhost/:name',
    access: 'management',
    summary: 'One stream',
    handler: (r) => found(streamView(r.ctx, readableVhost(r), r.params.name!)),
  },
  {
    method: 'DELETE',
    path: '/api/streams/:vhost/:name',
    access: 'management',
    summary: 'Deletes a stream with its data and group offsets',
    handler: async (r) => {
      const vh = writableVhost(r);
      found(vh.stream(r.params.name!));
      requirePermission(r, vh.name, 'queue', r.params.name!, 'configure');
      await core(() => vh.deleteStream(r.params.name!));
      return new StatusResult(204);
    },
  },
  {
    method: 'GET',
    path: '/api/streams/:vhost/:name/messages',
    access: 'management',
    summary: 'Message lookup: `?partition=0&offset=N&count=10` (bodies as UTF-8 or base64)',
    handler: async (r) => {
      const vh = writableVhost(r);
      requirePermission(r, vh.name, 'queue', r.params.name!, 'read');
      const partition = Number(r.query.get('partition') ?? 0);
      const offset = Number(r.query.get('offset') ?? 0);
      const count = Math.min(Math.max(Number(r.query.get('count') ?? 10), 1), 1000);
      const msgs = await core(() => vh.readMessages(r.params.name!, partition, offset, count));
      return msgs.map((m) => {
        const text = m.message.body.toString('utf8');
        const utf8 = Buffer.from(text, 'utf8').equals(m.message.body);
        return {
          offset: m.offset,
          timestamp: m.message.timestamp,
          routing_key: m.message.routingKey,
          key: m.message.key ? m.message.key.toString('utf8') : null,
          headers: Object.fromEntries(m.message.headers.map((h) => [h.name, h.value])),
          payload: utf8 ? text : m.message.body.toString('base64'),
          payload_encoding: utf8 ? 'string' : 'base64',
        };
      });
    },
  },
  { method: 'GET', path: '/api/consumer-groups', access: 'management', summary: 'Consumer groups with committed offsets, lag per partition, members and assignments', handler: (r) => groups(r) },
  { method: 'GET', path: '/api/consumer-groups/:vhost', access: 'management', summary: 'Consumer groups of a vhost', handler: (r) => groups(r, readableVhost(r).name) },
  {
    method: 'GET',
    path: '/api/consumer-groups/:vhost/:group',
    access: 'management',
    summary: 'One consumer group',
    handler: (r) => {
      const vh = readableVhost(r);
      const names = new Set([...vh.groups(), ...r.ctx.core.groupMemberships(vh.name).map((g) => g.group)]);
      found(names.has(r.params.group!));
      return groupView(r, vh, r.params.group!);
    },
  },
  {
    method: 'POST',
    path: '/api/consumer-groups/:vhost/:group/reset-offsets',
    access: 'management',
    summary: 'Plans (dry_run, the default) or commits new offsets `{stream?, partitions?, to: earliest|latest|offset|timestamp|shift-by, offset?, timestamp?, shift_by?, dry_run}`',
    handler: async (r) => {
      const vh = writableVhost(r);
      const live = r.ctx.core.groupMemberships(vh.name).find((g) => g.group === r.params.group);
      return resetGroupOffsets(vh, r.params.group!, live?.members.length ?? 0, await r.body());
    },
  },
  {
    method: 'DELETE',
    path: '/api/consumer-groups/:vhost/:group',
    access: 'management',
    summary: 'Deletes a group’s committed offsets',
    handler: async (r) => {
      const vh = writableVhost(r);
      await core(() => vh.deleteGroup(r.params.group!));
      return new StatusResult(204);
    },
  },
  { method: 'GET', path: '/api/mqtt/sessions', access: 'management', summary: 'MQTT sessions: client id, connected, queued messages, subscriptions', handler: (r) => mqttSessions(r) },
];

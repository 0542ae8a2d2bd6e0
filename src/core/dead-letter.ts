/**
 * Dead-lettered copies of messages with RabbitMQ's `x-death` history
 * (https://www.rabbitmq.com/docs/dlx#effects): one entry per (queue, reason), most recent
 * first, each a table of `count`, `reason`, `queue`, `time`, `exchange`, `routing-keys` and
 * `original-expiration` when the message had a per-message TTL; plus `x-first-death-*` (set
 * once) and `x-last-death-*` headers. The copy loses its per-message expiration and its native
 * properties (they would carry the old headers).
 */
import type { Header, HeaderTable, HeaderValue, Message } from './message.js';
import type { DeathReason } from './queue.js';

function tableGet(t: HeaderTable, name: string): HeaderValue | undefined {
  for (const e of t.entries) if (e.name === name) return e.value;
  return undefined;
}

function isTable(v: HeaderValue | undefined): v is HeaderTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date) && v.kind === 'table';
}

function text(v: HeaderValue | undefined): string | undefined {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

/** Routing keys a message was published with: its routing key then CC header values. */
export function publishedRoutingKeys(m: Message): string[] {
  const keys = [m.routingKey];
  for (const h of m.headers) {
    if (h.name !== 'CC') continue;
    const vs = Array.isArray(h.value) ? h.value : [h.value];
    for (const v of vs) {
      const t = text(v);
      if (t !== undefined) keys.push(t);
    }
  }
  return keys;
}

/** The x-death entries of a message (most recent first). */
export function xDeath(m: Message): HeaderTable[] {
  for (const h of m.headers) if (h.name === 'x-death' && Array.isArray(h.value)) return h.value.filter(isTable);
  return [];
}

/** Builds the dead-lettered copy of `m` leaving `queue` for `reason` at `now`. */
export function deadLetterMessage(m: Message, queue: string, reason: DeathReason, now: number): Message {
  const deaths = xDeath(m).map((t) => ({ kind: 'table' as const, entries: t.entries.slice() }));
  const i = deaths.findIndex((t) => text(tableGet(t, 'queue')) === queue && text(tableGet(t, 'reason')) === reason);
  if (i >= 0) {
    const t = deaths[i]!;
    const c = t.entries.find((e) => e.name === 'count');
    if (c) c.value = Number(c.value ?? 0) + 1;
    deaths.splice(i, 1);
    deaths.unshift(t);
  } else {
    const entries: Header[] = [
      { name: 'count', value: 1 },
      { name: 'reason', value: reason },
      { name: 'queue', value: queue },
      { name: 'time', value: new Date(Math.floor(now / 1000) * 1000) },
      { name: 'exchange', value: m.exchange },
      { name: 'routing-keys', value: publishedRoutingKeys(m) },
    ];
    if (m.properties.expiration !== undefined) entries.push({ name: 'original-expiration', value: String(m.properties.expiration) });
    deaths.unshift({ kind: 'table', entries });
  }
  const headers: Header[] = [];
  let hasFirst = false;
  for (const h of m.headers) {
    if (h.name === 'x-death' || h.name.startsWith('x-last-death-')) continue;
    if (h.name === 'x-first-death-reason') hasFirst = true;
    headers.push(h);
  }
  if (!hasFirst) {
    headers.push({ name: 'x-first-death-reason', value: reason }, { name: 'x-first-death-queue', value: queue }, { name: 'x-first-death-exchange', value: m.exchange });
  }
  headers.push({ name: 'x-last-death-reason', value: reason }, { name: 'x-last-death-queue', value: queue }, { name: 'x-last-death-exchange', value: m.exchange });
  headers.push({ name: 'x-death', value: deaths });
  const properties = { ...m.properties };
  delete properties.expiration;
  return { ...m, headers, properties, native: null };
}

/**
 * RabbitMQ's cycle rule: dead-lettering to a queue already in the history is a cycle (the
 * message is dropped for that queue) unless some death in the history was a rejection, which
 * marks a deliberate retry loop.
 */
export function isDeadLetterCycle(m: Message, targetQueue: string): boolean {
  const deaths = xDeath(m);
  let seen = false;
  for (const t of deaths) {
    if (text(tableGet(t, 'reason')) === 'rejected') return false;
    if (text(tableGet(t, 'queue')) === targetQueue) seen = true;
  }
  return seen;
}

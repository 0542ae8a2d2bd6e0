/**
 * Redrive: moves dead-lettered messages from a dead-letter queue back to the queue they died
 * in (`x-first-death-queue`, or a given queue), journalled so that a crash mid-move neither
 * loses nor duplicates a message:
 *
 * 1. the chosen ready entries are taken out of the dead-letter queue (in memory only);
 * 2. each copy is appended to its target queue in **one** store append with a marker target
 *    in the vhost's redrive-marker partition, tagged with the source offset; the copy carries
 *    `x-redriven-from: <dead-letter queue>`;
 * 3. once the copy is durable the source is settled (acked in the core's journal);
 * 4. once the journal holds those acks durably the markers are released.
 *
 * After a crash, `recoverRedrives` finds markers still held: a source entry still in its
 * dead-letter queue whose marker exists was copied already, so it is settled, not moved
 * again. Entries taken but not yet copied are simply still in the dead-letter queue.
 *
 * A redrive of every message (no filter, no limit) is recorded in the `redrives` meta log
 * before it moves anything and marked finished after; `resumeRedrives` runs again, after a
 * restart, each one that did not finish. A filter is code and a limit's remainder is not
 * tracked, so those are not resumed: their caller runs them again.
 */
import type { RedriveOptions, RedriveResult } from './api.js';
import { headerValue, type Message } from './message.js';
import type { Queue, QueueEntry } from './queue.js';
import { decodeBatchMessages } from './record-codec.js';
import type { VhostImpl } from './vhost.js';

export const REDRIVEN_FROM = 'x-redriven-from';

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

/** The copy that goes back: fresh retries (no x-retry-count), its dead-letter queue recorded. */
function redrivenMessage(m: Message, from: string): Message {
  const headers = m.headers.filter((h) => h.name !== 'x-retry-count' && h.name !== REDRIVEN_FROM);
  headers.push({ name: REDRIVEN_FROM, value: from });
  return { ...m, headers, native: null };
}

const INTENTS_LOG = 'redrives';

/** A redrive of every message of `q` in vhost `v` (to `to`, or each message's origin); `end` marks one finished. */
interface RedriveIntent {
  v: string;
  q: string;
  to?: string;
  end?: boolean;
}

function intentKey(i: RedriveIntent): string {
  return JSON.stringify([i.v, i.q, i.to ?? null]);
}

export async function redrive(vh: VhostImpl, queue: string, options: RedriveOptions): Promise<RedriveResult> {
  vh.useQueue(queue, undefined);
  if (options.filter !== undefined || options.limit !== undefined) return move(vh, queue, options);
  const intent: RedriveIntent = { v: vh.name, q: queue, ...(options.to !== undefined ? { to: options.to } : {}) };
  const log = await vh.ctx.store.metaLog(INTENTS_LOG);
  await log.append(Buffer.from(JSON.stringify(intent)), 'sync');
  const result = await move(vh, queue, options);
  await log.append(Buffer.from(JSON.stringify({ ...intent, end: true })), 'sync');
  return result;
}

/**
 * After a restart (after `recoverRedrives`): runs again every recorded redrive that did not
 * finish, then compacts the log. Returns how many were resumed.
 */
export async function resumeRedrives(vhosts: Map<string, VhostImpl>, store: VhostImpl['ctx']['store'], warn: (fields: Record<string, unknown>, msg: string) => void): Promise<number> {
  const log = await store.metaLog(INTENTS_LOG);
  const { snapshot, records } = log.replay();
  const open = new Map<string, { intent: RedriveIntent; n: number }>();
  const all: RedriveIntent[] = [];
  if (snapshot) all.push(...(JSON.parse(snapshot.toString('utf8')) as RedriveIntent[]));
  for (const r of records) all.push(JSON.parse(r.toString('utf8')) as RedriveIntent);
  for (const i of all) {
    const k = intentKey(i);
    const o = open.get(k) ?? { intent: { v: i.v, q: i.q, ...(i.to !== undefined ? { to: i.to } : {}) }, n: 0 };
    o.n += i.end ? -1 : 1;
    if (o.n > 0) open.set(k, o);
    else open.delete(k);
  }
  let resumed = 0;
  for (const { intent } of open.values()) {
    const vh = vhosts.get(intent.v);
    if (!vh || !vh.queuesByName.has(intent.q)) continue;
    try {
      const r = await move(vh, intent.q, intent.to !== undefined ? { to: intent.to } : {});
      resumed++;
      warn({ vhost: intent.v, queue: intent.q, moved: r.moved }, 'redrive interrupted by a restart: resumed');
    } catch (err) {
      warn({ vhost: intent.v, queue: intent.q, err: String(err) }, 'interrupted redrive could not be resumed');
    }
  }
  // Every recorded redrive is finished now (or its queue is gone).
  if (all.length > 0) await log.snapshot(Buffer.from('[]'));
  return resumed;
}

async function move(vh: VhostImpl, queue: string, options: RedriveOptions): Promise<RedriveResult> {
  const q = vh.useQueue(queue, undefined);
  const limit = options.limit ?? Infinity;
  const targets = new Map<QueueEntry, Queue>();
  let skipped = 0;
  for (const e of q.readyEntries()) {
    if (targets.size >= limit) break;
    if (options.filter && !options.filter(e.message)) continue;
    const origin = options.to ?? text(headerValue(e.message.headers, 'x-first-death-queue'));
    const target = origin === undefined ? undefined : vh.queuesByName.get(origin);
    if (!target || target === q) {
      skipped++;
      continue;
    }
    targets.set(e, target);
  }
  if (targets.size === 0) return { moved: 0, skipped };
  const markerPartition = await vh.ctx.delays.redriveMarkers(vh);
  const entries = q.takeReady(new Set(targets.keys()));
  const defaultExchange = vh.exchangesByName.get('')!;
  const moves: Promise<number>[] = [];
  const back: QueueEntry[] = [];
  for (const e of entries) {
    const target = targets.get(e)!;
    const res = vh.router.route(defaultExchange, target.name, null, redrivenMessage(e.message, q.name), false, { partition: markerPartition, tagHash: e.offset >>> 0 });
    if (res.status !== 'routed' || res.destinations === 0) {
      // The target refused it (full, gone): it stays in the dead-letter queue.
      back.push(e);
      continue;
    }
    const marker = vh.router.lastMarkerOffset;
    moves.push(res.durable.then(() => {
      vh.settle(q, e);
      return marker;
    }));
  }
  if (back.length > 0) q.requeue(back);
  const markers = await Promise.all(moves);
  // The sources' acks must be durable before the markers that stand in for them go.
  await vh.ctx.journal.flush();
  for (const m of markers) if (m >= 0) vh.ctx.store.release(markerPartition, m);
  return { moved: moves.length, skipped: skipped + back.length };
}

/**
 * After a restart (queues loaded): settles dead-letter entries whose copy was made before the
 * crash (their marker survived), then releases every marker once those acks are durable.
 */
export async function recoverRedrives(vhosts: Iterable<VhostImpl>, partitions: Map<string, number>): Promise<number> {
  let settled = 0;
  const release: [VhostImpl, number, number][] = [];
  for (const vh of vhosts) {
    const p = partitions.get(vh.name);
    if (p === undefined) continue;
    const store = vh.ctx.store;
    const bySource = new Map<Queue, Set<number>>();
    for (let off = store.startOffset(p), end = store.endOffset(p); off < end; ) {
      const batches = await store.read(p, off, 1 << 20);
      if (batches.length === 0) break;
      for (const b of batches) {
        for (const d of decodeBatchMessages(b.batch, b.baseOffset, '')) {
          const from = text(headerValue(d.message.headers, REDRIVEN_FROM));
          const src = from === undefined ? undefined : vh.queuesByName.get(from);
          if (src) {
            let tags = bySource.get(src);
            if (!tags) bySource.set(src, (tags = new Set()));
            tags.add(b.tagHash >>> 0);
          }
          release.push([vh, p, d.offset]);
        }
      }
      const last = batches[batches.length - 1]!;
      off = last.baseOffset + last.recordCount;
    }
    for (const [src, tags] of bySource) {
      const done = new Set<QueueEntry>();
      for (const e of src.readyEntries()) if (tags.has(e.offset >>> 0)) done.add(e);
      for (const e of src.takeReady(done)) {
        vh.settle(src, e);
        settled++;
      }
    }
  }
  if (release.length > 0) await release[0]![0].ctx.journal.flush();
  for (const [vh, p, off] of release) vh.ctx.store.release(p, off);
  return settled;
}

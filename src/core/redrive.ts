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

export async function redrive(vh: VhostImpl, queue: string, options: RedriveOptions): Promise<RedriveResult> {
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

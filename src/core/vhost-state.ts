/**
 * A vhost's durable state: the snapshot written to the journal, rebuilding definitions from a
 * replayed state, and reading durable queues' unsettled messages back from the store.
 */
import type { CursorState, VhostState } from './journal.js';
import { settledSet, toRanges } from './journal.js';
import { Exchange, argsKey, type Routable } from './exchange.js';
import { effectiveArguments, parseQueueSettings, pickPolicy } from './queue-args.js';
import { Queue } from './queue.js';
import { decodeBatchMessages } from './record-codec.js';
import { Stream } from './stream.js';
import * as streams from './vhost-streams.js';
import type { VhostImpl } from './vhost.js';

export function snapshotVhost(vh: VhostImpl, cursors: Record<number, CursorState>, delivered: Record<number, number>): VhostState {
  const vs: VhostState = { options: vh.options, exchanges: {}, queues: {}, streams: {}, bindings: [], policies: {}, offsets: [] };
  for (const ex of vh.exchangesByName.values()) {
    if (!ex.durable || ex.name === '' || ex.name.startsWith('amq.')) continue;
    vs.exchanges[ex.name] = { name: ex.name, type: ex.type, autoDelete: ex.autoDelete, internal: ex.internal, arguments: ex.args };
  }
  for (const q of vh.queuesByName.values()) {
    if (q.partition < 0) continue;
    vs.queues[q.name] = { name: q.name, autoDelete: q.autoDelete, arguments: q.args, durability: q.durabilityOption, partition: q.partition };
    cursors[q.partition] = { markDelete: q.markDelete, settled: q.settled ? toRanges(q.settled) : [] };
    if (q.deliveredMark >= 0) delivered[q.partition] = q.deliveredMark;
  }
  for (const s of vh.streamsByName.values()) vs.streams[s.name] = streams.streamDef(s);
  for (const ex of vh.exchangesByName.values()) {
    if (!ex.durable) continue;
    for (const b of ex.bindings) {
      const d = b.destination;
      if (!vh.isDurable(d)) continue;
      if (d instanceof Stream && ex.name === 'amq.topic' && d.bindToTopicExchange && b.routingKey === `${d.name}.#`) continue;
      vs.bindings.push(vh.bindingDef(ex, d, b.routingKey, b.args));
    }
  }
  for (const p of vh.policiesByName.values()) vs.policies[p.name] = p;
  for (const [g, m] of vh.offsets) for (const [s, ps] of m) for (const [p, c] of ps) vs.offsets.push([g, s, p, c.offset, c.metadata, c.commitTimestamp]);
  return vs;
}

/** Rebuilds definitions from replayed state (messages are loaded by `loadQueues`). */
export function restoreVhost(vh: VhostImpl, vs: VhostState, cursors: Record<number, CursorState>, delivered: Record<number, number>): void {
  for (const p of Object.values(vs.policies)) vh.policiesByName.set(p.name, p);
  for (const d of Object.values(vs.exchanges)) {
    const ex = new Exchange(d.name, d.type, true, d.autoDelete, d.internal, d.arguments, vh.name);
    vh.exchangesByName.set(d.name, ex);
  }
  for (const d of Object.values(vs.queues)) {
    const where = vh.where('queue', d.name);
    const eff = effectiveArguments(d.arguments, pickPolicy(vh.policiesByName.values(), d.name, 'queues'));
    let settings;
    try {
      settings = parseQueueSettings(eff, where);
    } catch {
      settings = parseQueueSettings(d.arguments, where);
    }
    const q = new Queue(d.name, vh.name, true, false, d.autoDelete, d.arguments, settings, eff, vh);
    q.partition = d.partition;
    q.durabilityOption = d.durability;
    q.durability = d.durability ?? vh.durability;
    const c = cursors[d.partition];
    if (c) {
      q.markDelete = c.markDelete;
      const set = settledSet(c);
      if (set.size > 0) q.settled = set;
    }
    q.deliveredMark = delivered[d.partition] ?? -1;
    vh.queuesByName.set(d.name, q);
    vh.ctx.store.setPolicy(q.partition, { kind: 'queue' });
  }
  for (const d of Object.values(vs.streams)) streams.restoreStream(vh, d);
  for (const b of vs.bindings) {
    const src = vh.exchangesByName.get(b.source);
    const dst: Routable | undefined = b.kind === 'exchange' ? vh.exchangesByName.get(b.destination) : (vh.queuesByName.get(b.destination) ?? vh.streamsByName.get(b.destination));
    if (!src || !dst) continue;
    if (!src.find(dst, b.routingKey, argsKey(b.arguments))) src.add(dst, b.routingKey, b.arguments);
  }
  for (const [g, s, p, o, m, ts] of vs.offsets) vh.setOffset(g, s, p, { offset: o, metadata: m, commitTimestamp: ts });
  for (const ex of vh.exchangesByName.values()) vh.applyExchangePolicy(ex);
}

/** Reads every durable queue's unsettled messages back from the store. */
export async function loadQueues(vh: VhostImpl): Promise<void> {
  for (const q of vh.queuesByName.values()) if (q.partition >= 0) await loadQueue(vh, q);
}

const READ_CHUNK_BYTES = 1 << 20;

/** Reads a durable queue's unsettled messages back (recovery); non-persistent ones are dropped. */
async function loadQueue(vh: VhostImpl, q: Queue): Promise<void> {
  const store = vh.ctx.store;
  const end = store.endOffset(q.partition);
  // The store keeps only its released head across restarts (persisted at its last reclaim):
  // re-apply the cursor. truncateBefore kills every segment run wholly below our head, even
  // one the store's head sat inside (its lower offsets' release bits were not persisted);
  // the offsets from the store's head up to ours are then released one by one, for the run
  // that holds our head; then each offset settled beyond it.
  const head = Math.min(q.markDelete, end);
  const storeHead = store.startOffset(q.partition);
  if (head > storeHead) store.truncateBefore(q.partition, head);
  for (let o = storeHead; o < head; o++) vh.release(q, o);
  if (q.settled) for (const o of q.settled) if (o < end) vh.release(q, o);
  let off = Math.max(q.markDelete, store.startOffset(q.partition));
  while (off < end) {
    const batches = await store.read(q.partition, off, READ_CHUNK_BYTES);
    if (batches.length === 0) break;
    for (const b of batches) {
      let decoded;
      try {
        decoded = decodeBatchMessages(b.batch, b.baseOffset, q.name);
      } catch (err) {
        vh.ctx.warn({ queue: q.name, offset: b.baseOffset, err: String(err) }, 'unreadable stored message skipped');
        continue;
      }
      for (const d of decoded) {
        if (d.offset < off || d.offset < q.markDelete || q.settled?.has(d.offset)) continue;
        const m = d.message;
        const e = { offset: d.offset, message: m, size: m.body.length, expiresAt: Infinity, immediate: false, priority: m.properties.priority ?? 0, deliveries: 0, redelivered: false };
        if (m.properties.persistent !== true) {
          vh.settle(q, e);
          continue;
        }
        const ttl = q.settings.messageTtl;
        if (ttl !== null) e.expiresAt = d.storedAt + ttl;
        const per = m.properties.expiration;
        if (per !== undefined && d.storedAt + per < e.expiresAt) e.expiresAt = d.storedAt + per;
        if (d.offset <= q.deliveredMark) {
          e.redelivered = true;
          e.deliveries = 1;
        }
        q.enqueue(e);
      }
    }
    const last = batches[batches.length - 1]!;
    off = last.baseOffset + last.recordCount;
  }
}

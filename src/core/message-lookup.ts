/**
 * Message lookup by id or key within retention (docs/business.md "Message lookup"): candidates
 * from the store's on-disk key index (RocketMQ's IndexFile), confirmed on the decoded message,
 * with every queue and stream partition of this vhost that holds it and its state there.
 */
import type { MessageLookup, MessageRoute } from './api.js';
import { lookupKeysOf } from './message-keys.js';
import { decodeBatchMessages } from './record-codec.js';
import type { VhostImpl } from './vhost.js';

const DEFAULT_LIMIT = 32;

export async function lookupMessages(vh: VhostImpl, key: string, limit = DEFAULT_LIMIT): Promise<MessageLookup[]> {
  const owners = new Map<number, { kind: 'queue' | 'stream'; name: string; index: number }>();
  for (const q of vh.queuesByName.values()) if (q.partition >= 0) owners.set(q.partition, { kind: 'queue', name: q.name, index: 0 });
  for (const s of vh.streamsByName.values()) s.partitionIds.forEach((id, index) => owners.set(id, { kind: 'stream', name: s.name, index }));
  const out: MessageLookup[] = [];
  for (const entry of await vh.ctx.store.lookupKey(key, limit)) {
    const mine = entry.targets.filter((t) => owners.has(t.partition));
    if (mine.length === 0) continue; // another vhost's message with the same key
    let decoded;
    try {
      // Kafka records take their stream's name as routing key (record-codec.ts).
      const stream = mine.map((t) => owners.get(t.partition)!).find((o) => o.kind === 'stream');
      decoded = decodeBatchMessages(entry.batch, 0, stream?.name ?? '');
    } catch {
      continue;
    }
    for (const d of decoded) {
      if (d.isControl || !lookupKeysOf(d.message).includes(key)) continue;
      const routes: MessageRoute[] = mine.map((t) => route(vh, owners.get(t.partition)!, t.baseOffset + d.offset));
      out.push({ message: d.message, storedAt: d.storedAt, routes });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

function route(vh: VhostImpl, owner: { kind: 'queue' | 'stream'; name: string; index: number }, offset: number): MessageRoute {
  if (owner.kind === 'queue') {
    const q = vh.queuesByName.get(owner.name)!;
    const state = offset < q.markDelete || q.settled?.has(offset) === true ? 'settled' : offset <= q.deliveredMark ? 'delivered' : 'ready';
    return { kind: 'queue', name: owner.name, partition: 0, offset, state };
  }
  const id = vh.streamsByName.get(owner.name)!.partitionIds[owner.index]!;
  if (offset < vh.ctx.store.startOffset(id)) return { kind: 'stream', name: owner.name, partition: owner.index, offset, state: 'removed', consumedBy: [] };
  const consumedBy: string[] = [];
  for (const [group, streams] of vh.offsets) {
    const c = streams.get(owner.name)?.get(owner.index);
    if (c !== undefined && c.offset > offset) consumedBy.push(group);
  }
  return { kind: 'stream', name: owner.name, partition: owner.index, offset, state: 'retained', consumedBy };
}

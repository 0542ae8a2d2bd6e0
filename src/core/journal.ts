/**
 * The core's durable metadata: definitions (vhosts, exchanges, queues, streams, bindings,
 * policies), queue cursors (acks), delivered marks and consumer-group offsets, as JSON records
 * in one internal log (`store.metaLog('core')`) with periodic snapshots. Replay folds the
 * snapshot and the records after it into one `JournalState`.
 *
 * Acks and delivered marks of one tick are one record each, appended without fsync: losing
 * them in a crash only redelivers (at-least-once). Definitions and group offsets are appended
 * with the store's durability mode and awaited.
 */
import type { DurabilityMode, MetaLog } from '../../storage/types.js';
import type { Arguments, ExchangeType, Policy, VhostOptions } from './api.js';

export interface ExchangeDef {
  name: string;
  type: ExchangeType;
  autoDelete: boolean;
  internal: boolean;
  arguments: Arguments;
}

export interface QueueDef {
  name: string;
  autoDelete: boolean;
  arguments: Arguments;
  durability?: DurabilityMode;
  partition: number;
}

export interface StreamDef {
  name: string;
  partitions: number[];
  retentionMs: number;
  retentionBytes: number;
  durability: DurabilityMode;
  config: Record<string, string>;
  bindToTopicExchange: boolean;
  queueArgs: Arguments | null;
}

export interface BindingDef {
  source: string;
  destination: string;
  kind: 'queue' | 'exchange' | 'stream';
  routingKey: string;
  arguments: Arguments;
}

/** [group, stream, partition, offset, metadata, commitTimestamp] */
export type OffsetDef = [string, string, number, number, string, number];

export interface VhostState {
  options: VhostOptions;
  exchanges: Record<string, ExchangeDef>;
  queues: Record<string, QueueDef>;
  streams: Record<string, StreamDef>;
  bindings: BindingDef[];
  policies: Record<string, Policy>;
  offsets: OffsetDef[];
}

export interface CursorState {
  markDelete: number;
  /** Settled offsets above markDelete, as [from, to) ranges flattened. */
  settled: number[];
}

export interface JournalState {
  nextPartition: number;
  vhosts: Record<string, VhostState>;
  cursors: Record<number, CursorState>;
  delivered: Record<number, number>;
}

export type JournalRecord =
  | { t: 'vhost'; v: string; o: VhostOptions }
  | { t: 'vhost-'; v: string }
  | { t: 'x'; v: string; d: ExchangeDef }
  | { t: 'x-'; v: string; n: string }
  | { t: 'q'; v: string; d: QueueDef }
  | { t: 'q-'; v: string; n: string }
  | { t: 's'; v: string; d: StreamDef }
  | { t: 's-'; v: string; n: string }
  | { t: 'b'; v: string; d: BindingDef }
  | { t: 'b-'; v: string; d: BindingDef }
  | { t: 'p'; v: string; d: Policy }
  | { t: 'p-'; v: string; n: string }
  | { t: 'o'; v: string; d: OffsetDef }
  | { t: 'g-'; v: string; g: string }
  | { t: 'o-'; v: string; g: string; s: string; p: number }
  | { t: 'a'; a: number[] }
  | { t: 'd'; d: number[] };

export function emptyState(): JournalState {
  return { nextPartition: 1, vhosts: {}, cursors: {}, delivered: {} };
}

function emptyVhost(o: VhostOptions): VhostState {
  return { options: o, exchanges: {}, queues: {}, streams: {}, bindings: [], policies: {}, offsets: [] };
}

function sameBinding(a: BindingDef, b: BindingDef): boolean {
  return a.source === b.source && a.destination === b.destination && a.kind === b.kind && a.routingKey === b.routingKey && JSON.stringify(a.arguments) === JSON.stringify(b.arguments);
}

/** Settled offsets of a replayed cursor as a Set (ranges expanded). */
export function settledSet(c: CursorState): Set<number> {
  const s = new Set<number>();
  for (let i = 0; i + 1 < c.settled.length; i += 2) for (let o = c.settled[i]!; o < c.settled[i + 1]!; o++) s.add(o);
  return s;
}

/** Offsets as sorted [from, to) ranges, flattened. */
export function toRanges(offsets: Iterable<number>): number[] {
  const sorted = [...offsets].sort((a, b) => a - b);
  const out: number[] = [];
  for (const o of sorted) {
    if (out.length > 0 && out[out.length - 1] === o) out[out.length - 1] = o + 1;
    else out.push(o, o + 1);
  }
  return out;
}

export function applyRecord(s: JournalState, r: JournalRecord): void {
  const vh = (name: string): VhostState => (s.vhosts[name] ??= emptyVhost({}));
  switch (r.t) {
    case 'vhost':
      if (s.vhosts[r.v]) s.vhosts[r.v]!.options = r.o;
      else s.vhosts[r.v] = emptyVhost(r.o);
      break;
    case 'vhost-':
      delete s.vhosts[r.v];
      break;
    case 'x':
      vh(r.v).exchanges[r.d.name] = r.d;
      break;
    case 'x-': {
      const v = vh(r.v);
      delete v.exchanges[r.n];
      v.bindings = v.bindings.filter((b) => b.source !== r.n && !(b.kind === 'exchange' && b.destination === r.n));
      break;
    }
    case 'q':
      vh(r.v).queues[r.d.name] = r.d;
      s.nextPartition = Math.max(s.nextPartition, r.d.partition + 1);
      s.cursors[r.d.partition] ??= { markDelete: 0, settled: [] };
      break;
    case 'q-': {
      const v = vh(r.v);
      const q = v.queues[r.n];
      if (q) {
        delete s.cursors[q.partition];
        delete s.delivered[q.partition];
      }
      delete v.queues[r.n];
      v.bindings = v.bindings.filter((b) => !(b.kind === 'queue' && b.destination === r.n));
      break;
    }
    case 's':
      vh(r.v).streams[r.d.name] = r.d;
      for (const p of r.d.partitions) s.nextPartition = Math.max(s.nextPartition, p + 1);
      break;
    case 's-': {
      const v = vh(r.v);
      delete v.streams[r.n];
      v.bindings = v.bindings.filter((b) => !(b.kind !== 'exchange' && b.destination === r.n));
      v.offsets = v.offsets.filter((o) => o[1] !== r.n);
      break;
    }
    case 'b': {
      const v = vh(r.v);
      if (!v.bindings.some((b) => sameBinding(b, r.d))) v.bindings.push(r.d);
      break;
    }
    case 'b-': {
      const v = vh(r.v);
      v.bindings = v.bindings.filter((b) => !sameBinding(b, r.d));
      break;
    }
    case 'p':
      vh(r.v).policies[r.d.name] = r.d;
      break;
    case 'p-':
      delete vh(r.v).policies[r.n];
      break;
    case 'o': {
      const v = vh(r.v);
      const [g, st, p] = r.d;
      const i = v.offsets.findIndex((o) => o[0] === g && o[1] === st && o[2] === p);
      if (i >= 0) v.offsets[i] = r.d;
      else v.offsets.push(r.d);
      break;
    }
    case 'o-': {
      const v = vh(r.v);
      v.offsets = v.offsets.filter((o) => !(o[0] === r.g && o[1] === r.s && o[2] === r.p));
      break;
    }
    case 'g-': {
      const v = vh(r.v);
      v.offsets = v.offsets.filter((o) => o[0] !== r.g);
      break;
    }
    case 'a': {
      // Acks: extend ranges lazily as a sorted flat list would be costly here; keep a Set per cursor while replaying.
      for (let i = 0; i + 1 < r.a.length; i += 2) {
        const c = s.cursors[r.a[i]!];
        if (!c) continue;
        const o = r.a[i + 1]!;
        if (o < c.markDelete) continue;
        (replaySets.get(c) ?? replaySets.set(c, settledSet(c)).get(c)!).add(o);
      }
      break;
    }
    case 'd':
      for (let i = 0; i + 1 < r.d.length; i += 2) s.delivered[r.d[i]!] = Math.max(s.delivered[r.d[i]!] ?? -1, r.d[i + 1]!);
      break;
  }
}

/** Replay-time sets of settled offsets, folded back into ranges by `finishReplay`. */
const replaySets = new WeakMap<CursorState, Set<number>>();

/** Folds replay-time ack sets into each cursor (advancing markDelete over contiguous acks). */
function finishReplay(s: JournalState): void {
  for (const c of Object.values(s.cursors)) {
    const set = replaySets.get(c);
    if (!set) continue;
    replaySets.delete(c);
    while (set.has(c.markDelete)) set.delete(c.markDelete++);
    c.settled = toRanges([...set].filter((o) => o >= c.markDelete));
  }
}

/** The meta log plus per-tick batching of ack and delivered records. */
export class Journal {
  private acks: number[] = [];
  private delivered = new Map<number, number>();
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly log: MetaLog,
    private readonly snapshotEvery: number,
    private readonly snapshotState: () => JournalState,
    /** Failures of background writes (tick records, snapshots); they cost redeliveries only. */
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  static replay(log: MetaLog): JournalState {
    const { snapshot, records } = log.replay();
    const s = snapshot ? (JSON.parse(snapshot.toString('utf8')) as JournalState) : emptyState();
    for (const rec of records) applyRecord(s, JSON.parse(rec.toString('utf8')) as JournalRecord);
    finishReplay(s);
    return s;
  }

  /** Appends a definition record; resolves when durable per the store's mode. */
  write(r: JournalRecord): Promise<void> {
    const p = this.log.append(Buffer.from(JSON.stringify(r)));
    this.maybeSnapshot();
    return p;
  }

  ack(partition: number, offset: number): void {
    this.acks.push(partition, offset);
    this.schedule();
  }

  markDelivered(partition: number, offset: number): void {
    const cur = this.delivered.get(partition);
    if (cur === undefined || offset > cur) {
      this.delivered.set(partition, offset);
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flush().catch((err: unknown) => this.onError(err));
    });
  }

  /** Writes the tick's ack and delivered records (no fsync: a lost ack only redelivers). */
  flush(): Promise<void> {
    try {
      return this.flushNow();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private flushNow(): Promise<void> {
    this.flushScheduled = false;
    const ps: Promise<void>[] = [];
    if (this.delivered.size > 0) {
      const d: number[] = [];
      for (const [p, o] of this.delivered) d.push(p, o);
      this.delivered.clear();
      ps.push(this.log.append(Buffer.from(JSON.stringify({ t: 'd', d })), 'none'));
    }
    if (this.acks.length > 0) {
      const a = this.acks;
      this.acks = [];
      ps.push(this.log.append(Buffer.from(JSON.stringify({ t: 'a', a })), 'none'));
    }
    this.maybeSnapshot();
    return Promise.all(ps).then(() => undefined);
  }

  private snapshotting = false;
  private maybeSnapshot(): void {
    if (this.snapshotting || this.log.recordsSinceSnapshot < this.snapshotEvery) return;
    this.snapshot().catch((err: unknown) => this.onError(err));
  }

  /** Replaces the log with one snapshot of the current state. */
  async snapshot(): Promise<void> {
    this.snapshotting = true;
    try {
      // Pending tick records are part of the state already (cursors are live), so drop them.
      this.acks = [];
      this.delivered.clear();
      await this.log.snapshot(Buffer.from(JSON.stringify(this.snapshotState())));
    } finally {
      this.snapshotting = false;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.snapshot();
    this.closed = true;
  }
}

/**
 * Delayed delivery and retry backoff on the store's durable timer (storage/timer):
 *
 * - A delayed message is appended once to its vhost's **delay partition** (a store partition
 *   no consumer reads: invisible until due) with two private headers, `x-pb-due` and
 *   `x-pb-target` (`x:<exchange>` for a delayed publish, `q:<queue>` for a retry); the timer
 *   gets one unit pointing at (partition, offset), scheduled as recoverable: the publisher's
 *   confirm waits for the commit-log append alone (one append, one fsync), and the timer
 *   fsyncs its unit with its next checkpoint. After a crash the delay partition is read from
 *   the timer's mark on and every entry whose unit was lost is scheduled again from its
 *   `x-pb-due` header (RocketMQ rebuilds its timer log from the commit log the same way).
 * - At due time the message is read back, its private headers dropped, and routed as if
 *   published then, in **one** store append whose extra target is the vhost's **fired
 *   partition** with the delay offset as its tag: the routed copy and the record that the
 *   timer fired are one commit-log entry. After a crash, a timer that fires again finds its
 *   marker and is only finished, never routed twice.
 * - Then the timer is told `done`, the delay entry released (its segment can go), and the
 *   marker released once the timer's done unit is fsynced.
 *
 * Each vhost's two partitions are allocated on first use and recorded in the `delays` meta
 * log before anything is appended to them. After a restart, every delay-partition entry that
 * is not pending in the timer is released again (the store does not persist releases beyond
 * a partition's head).
 */
import type { MetaLog, Store, StoredBatch } from '../../storage/types.js';
import type { DueTimer, TimerClock, TimerStore } from '../../storage/timer/index.js';
import type { DelayedMessageInfo, PublishResult } from './api.js';
import { InvalidArgument, NotAllowed } from './errors.js';
import { headerValue, type Message, type MessageOrigin } from './message.js';
import { decodeBatchMessages, encodeMessageBatch } from './record-codec.js';
import type { VhostImpl } from './vhost.js';

/** One year: the longest delay accepted. */
export const MAX_DELAY_MS = 365 * 86_400_000;
const DUE_HEADER = 'x-pb-due';
const TARGET_HEADER = 'x-pb-target';
/** Bytes per store read while rebuilding lost timers at open. */
const REBUILD_READ_BYTES = 1 << 20;

interface VhostDelays {
  vhost: string;
  /** Partition holding the delayed messages. */
  delay: number;
  /** Partition of the fired markers (tag = delay offset, low 32 bits). */
  fired: number;
  /** Partition of the redrive markers (tag = dead-letter queue offset, low 32 bits; redrive.ts). */
  redriven: number;
  /** Resolves once the partitions are recorded (first use); null once they are. */
  ready: Promise<void> | null;
  /** Its vhost was deleted: timers still pending are finished without routing. */
  gone: boolean;
  /** Markers found at recovery: delay offset (low 32 bits) -> marker offset. */
  recoveredMarkers: Map<number, number> | null;
}

interface DelaysRecord {
  v: string;
  d: number;
  f: number;
  r: number;
  /** The vhost was deleted: its delayed messages are dropped as they fall due. */
  gone?: boolean;
}

export interface DelayedDeliveryDeps {
  store: Store;
  clock?: TimerClock;
  allocatePartition(): number;
  vhost(name: string): VhostImpl | undefined;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** A delayed message as stored, decoded. */
interface StoredDelayed {
  message: Message;
  dueAt: number;
  target: string;
}

export class DelayedDelivery {
  private timer: TimerStore | null = null;
  private log: MetaLog | null = null;
  private readonly byVhost = new Map<string, VhostDelays>();
  private readonly byPartition = new Map<number, VhostDelays>();
  private readonly inflight = new Set<Promise<void>>();
  /** Timers fired in this turn, not yet handed to `deliverBatch`. */
  private due: DueTimer[] = [];
  private closing = false;

  constructor(private readonly deps: DelayedDeliveryDeps) {}

  /** The timer's clock, ms since the epoch. */
  now(): number {
    return this.timer ? this.clockNow() : Date.now();
  }

  private clockNow(): number {
    return this.deps.clock ? this.deps.clock.now() : Date.now();
  }

  /**
   * Opens the timer and the partitions' record, re-releases delay entries that are not
   * pending and reads the fired markers. Returns the highest partition id in use (the core
   * must not hand it out again). Call `start()` once the vhosts are ready to route.
   */
  async open(): Promise<number> {
    const { store } = this.deps;
    let maxPartition = 0;
    if (!store.timer) return 0;
    this.log = await store.metaLog('delays');
    const { snapshot, records } = this.log.replay();
    const recs: DelaysRecord[] = [];
    if (snapshot) recs.push(...(JSON.parse(snapshot.toString('utf8')) as DelaysRecord[]));
    for (const r of records) recs.push(JSON.parse(r.toString('utf8')) as DelaysRecord);
    this.timer = store.timer(this.deps.clock ? { clock: this.deps.clock } : {});
    for (const r of recs) {
      const prev = this.byPartition.get(r.d);
      if (prev && r.gone) {
        prev.gone = true;
        if (this.byVhost.get(r.v) === prev) this.byVhost.delete(r.v);
        continue;
      }
      const o: VhostDelays = { vhost: r.v, delay: r.d, fired: r.f, redriven: r.r, ready: null, gone: r.gone === true, recoveredMarkers: new Map() };
      if (!o.gone) this.byVhost.set(r.v, o);
      this.byPartition.set(r.d, o);
      maxPartition = Math.max(maxPartition, r.d, r.f, r.r);
      store.setPolicy(r.d, { kind: 'queue' });
      store.setPolicy(r.f, { kind: 'queue' });
      store.setPolicy(r.r, { kind: 'queue' });
      for (let off = store.startOffset(r.f), end = store.endOffset(r.f); off < end; off++) {
        const u = store.lookup(r.f, off);
        if (u) o.recoveredMarkers!.set(u.tagHash >>> 0, off);
      }
    }
    const pending = this.timer.takeRecoveredOffsets() ?? new Map<number, number[]>();
    for (const o of this.byPartition.values()) {
      const again = await this.rebuild(o);
      if (again.length === 0) continue;
      const offs = pending.get(o.delay) ?? [];
      offs.push(...again);
      offs.sort((a, b) => a - b);
      pending.set(o.delay, offs);
    }
    for (const o of this.byPartition.values()) {
      const offs = pending.get(o.delay) ?? [];
      const start = store.startOffset(o.delay);
      const end = store.endOffset(o.delay);
      const lo = offs.length > 0 ? Math.max(start, offs[0]!) : end;
      if (lo > start) store.truncateBefore(o.delay, lo);
      let i = 0;
      for (let off = lo; off < end; off++) {
        while (i < offs.length && offs[i]! < off) i++;
        if (i < offs.length && offs[i] === off) continue;
        store.release(o.delay, off);
      }
      // Markers of timers that are no longer pending have done their job.
      const pendingTags = new Set(offs.map((x) => x >>> 0));
      for (const [tag, markerOffset] of o.recoveredMarkers!) {
        if (pendingTags.has(tag)) continue;
        store.release(o.fired, markerOffset);
        o.recoveredMarkers!.delete(tag);
      }
    }
    // Keep the meta log short: one snapshot of the partitions.
    await this.log.snapshot(Buffer.from(JSON.stringify([...this.byPartition.values()].map((o) => ({ v: o.vhost, d: o.delay, f: o.fired, r: o.redriven, gone: o.gone })))));
    return maxPartition;
  }

  /**
   * Schedules again the delayed messages of `o` whose timer unit a crash lost (the timer
   * fsyncs units lazily; the commit log has every confirmed one). Returns their offsets.
   */
  private async rebuild(o: VhostDelays): Promise<number[]> {
    const timer = this.timer!;
    const { store } = this.deps;
    const end = store.endOffset(o.delay);
    let off = Math.max(timer.rebuildFrom(o.delay), store.startOffset(o.delay));
    const again: number[] = [];
    while (off < end) {
      const batches = await store.read(o.delay, off, REBUILD_READ_BYTES);
      if (batches.length === 0) break;
      for (const b of batches) {
        for (const d of decodeBatchMessages(b.batch, b.baseOffset, '')) {
          if (d.offset < off || timer.hadUnit(o.delay, d.offset)) continue;
          const due = Number(headerValue(d.message.headers, DUE_HEADER));
          if (!Number.isFinite(due)) {
            this.deps.warn({ vhost: o.vhost, offset: d.offset }, 'delayed message without a due time: dropped');
            continue;
          }
          timer.schedule(due, o.delay, d.offset, true);
          again.push(d.offset);
        }
      }
      const last = batches[batches.length - 1]!;
      off = last.baseOffset + last.recordCount;
    }
    // Only as far as it read: what it could not read is rebuilt again after the next restart.
    timer.rebuilt(o.delay, Math.min(off, end));
    if (again.length > 0) this.deps.warn({ vhost: o.vhost, count: again.length }, 'delayed messages scheduled again from the commit log (their timer units were lost in a crash)');
    return again;
  }

  /** Starts firing due timers (after recovery, when every vhost can route). */
  start(): void {
    this.timer?.start((t) => this.fire(t));
  }

  /** Waits for fires in progress; the store closes the timer. */
  async close(): Promise<void> {
    this.closing = true;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private requireTimer(): TimerStore {
    if (!this.timer) throw new NotAllowed('delayed delivery needs a store with a timer');
    return this.timer;
  }

  /** The redrive-marker partition of `vh`, once it is recorded. */
  async redriveMarkers(vh: VhostImpl): Promise<number> {
    this.requireTimer();
    const o = this.partitionsOf(vh);
    if (o.ready) await o.ready;
    return o.redriven;
  }

  /** Redrive-marker partitions by vhost name (recovery, redrive.ts). */
  redriveMarkerPartitions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const o of this.byVhost.values()) if (!o.gone) out.set(o.vhost, o.redriven);
    return out;
  }

  private partitionsOf(vh: VhostImpl): VhostDelays {
    let o = this.byVhost.get(vh.name);
    if (o) return o;
    const delay = this.deps.allocatePartition();
    const fired = this.deps.allocatePartition();
    const redriven = this.deps.allocatePartition();
    for (const p of [delay, fired, redriven]) this.deps.store.setPolicy(p, { kind: 'queue' });
    // Recorded (fsynced) before anything is appended to them: a restart must not hand them out again.
    const rec: DelaysRecord = { v: vh.name, d: delay, f: fired, r: redriven };
    const ready = this.log!.append(Buffer.from(JSON.stringify(rec)), 'sync');
    o = { vhost: vh.name, delay, fired, redriven, ready, gone: false, recoveredMarkers: null };
    const created = o;
    ready.then(() => (created.ready = null), () => {});
    this.byVhost.set(vh.name, o);
    this.byPartition.set(delay, o);
    return o;
  }

  /**
   * The vhost is deleted: its pending delayed messages are dropped as they fall due, and a
   * vhost created later under the same name gets new partitions.
   */
  async forgetVhost(name: string): Promise<void> {
    const o = this.byVhost.get(name);
    if (!o || !this.log) return;
    if (o.ready) await o.ready;
    o.gone = true;
    this.byVhost.delete(name);
    const rec: DelaysRecord = { v: name, d: o.delay, f: o.fired, r: o.redriven, gone: true };
    await this.log.append(Buffer.from(JSON.stringify(rec)), 'sync');
  }

  /** Checks a delay value (ms): 1 ms to one year. */
  static checkDelay(delayMs: number): void {
    if (!Number.isFinite(delayMs) || delayMs < 1 || delayMs > MAX_DELAY_MS) {
      throw new InvalidArgument(`delay of ${delayMs} ms is outside 1 ms .. ${MAX_DELAY_MS} ms (one year)`);
    }
  }

  /** A delayed publish to `exchange`: stored now, routed through it at due time. */
  publish(vh: VhostImpl, exchange: string, routingKey: string, m: Message, origin: MessageOrigin | null, delayMs: number): PublishResult {
    DelayedDelivery.checkDelay(delayMs);
    vh.router.checkPublish(exchange, m);
    m.exchange = exchange;
    m.routingKey = routingKey;
    m.origin = origin;
    return { status: 'routed', destinations: 0, durable: this.hold(vh, m, `x:${exchange}`, delayMs, m.properties.persistent === true) };
  }

  /** A retry: `m` goes back to `queue` after `delayMs`. Resolves once stored durably. */
  retry(vh: VhostImpl, queue: string, m: Message, delayMs: number): Promise<void> {
    return this.hold(vh, m, `q:${queue}`, Math.max(1, Math.min(delayMs, MAX_DELAY_MS)), true);
  }

  private hold(vh: VhostImpl, m: Message, target: string, delayMs: number, persistent: boolean): Promise<void> {
    const timer = this.requireTimer();
    const o = this.partitionsOf(vh);
    const dueAt = this.clockNow() + delayMs;
    const stored: Message = { ...m, headers: [...m.headers, { name: DUE_HEADER, value: String(dueAt) }, { name: TARGET_HEADER, value: target }] };
    const append = (): Promise<void> => {
      const res = this.deps.store.append({
        batch: encodeMessageBatch(stored, this.clockNow()),
        recordCount: 1,
        firstTimestamp: m.timestamp,
        maxTimestamp: m.timestamp,
        targets: [{ partition: o.delay }],
        durability: persistent ? vh.durability : 'none',
      });
      timer.schedule(dueAt, o.delay, res.baseOffsets[0]!, true);
      return res.durable;
    };
    return o.ready ? o.ready.then(append) : append();
  }

  /** Delayed messages pending in `vh`. */
  count(vh: VhostImpl): number {
    const o = this.byVhost.get(vh.name);
    return o && this.timer ? this.timer.count(o.delay) : 0;
  }

  async list(vh: VhostImpl, limit: number): Promise<DelayedMessageInfo[]> {
    const o = this.byVhost.get(vh.name);
    if (!o || !this.timer) return [];
    const out: DelayedMessageInfo[] = [];
    for (const p of this.timer.list(o.delay, limit)) {
      const s = await this.read(o, p.offset);
      if (!s) continue;
      const q = s.target.startsWith('q:') ? s.target.slice(2) : null;
      out.push({
        id: String(p.offset),
        dueAt: p.dueAt,
        exchange: q === null ? s.message.exchange : '',
        routingKey: q === null ? s.message.routingKey : q,
        queue: q,
        retry: retryCount(s.message),
        bodySize: s.message.body.length,
      });
    }
    return out;
  }

  async cancel(vh: VhostImpl, id: string): Promise<boolean> {
    const o = this.byVhost.get(vh.name);
    const offset = Number(id);
    if (!o || !this.timer || !/^\d+$/.test(id) || offset < this.deps.store.startOffset(o.delay) || offset >= this.deps.store.endOffset(o.delay)) return false;
    if (this.timer.isCancelled(o.delay, offset)) return false;
    const s = await this.read(o, offset);
    // Due (or fired) already: too late to cancel.
    if (!s || s.dueAt <= this.clockNow() || this.timer.isCancelled(o.delay, offset)) return false;
    await this.timer.cancel(o.delay, offset, s.dueAt);
    this.deps.store.release(o.delay, offset);
    return true;
  }

  private async read(o: VhostDelays, offset: number): Promise<StoredDelayed | null> {
    // One entry per delayed message: the tail cache, else one batch from disk (maxBytes 1).
    const cached = this.readCached(o, offset);
    if (cached !== undefined) return cached;
    try {
      const batch = (await this.deps.store.read(o.delay, offset, 1))[0];
      return batch ? decodeDelayed(batch, offset) : null;
    } catch {
      return null;
    }
  }

  /** The delayed message at `offset` from the tail cache; undefined when it is not cached. */
  private readCached(o: VhostDelays, offset: number): StoredDelayed | null | undefined {
    const batch = this.deps.store.readCached(o.delay, offset);
    return batch === null ? undefined : decodeDelayed(batch, offset);
  }

  private fire(t: DueTimer): void {
    if (this.closing) return;
    // The timer fires a turn's due timers in one loop: they are delivered together after it.
    if (this.due.length === 0) queueMicrotask(() => this.deliverDue());
    this.due.push(t);
  }

  private deliverDue(): void {
    const batch = this.due;
    this.due = [];
    // Closing: not delivered now, so not finished; they fire again after the restart.
    if (batch.length === 0 || this.closing) return;
    const p: Promise<void> = this.deliverBatch(batch)
      .catch((err: unknown) => this.deps.warn({ count: batch.length, first: batch[0]!.offset, err: String(err) }, 'delayed messages could not be routed; they are retried after a restart'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /**
   * Routes the timers fired in one turn together: their messages from the tail cache (the
   * rest read from disk in parallel), each routed with its marker, one wait for the appends'
   * fsync, then every timer finished and, once the timer has fsynced their done units, every
   * marker released with one callback. A promise chain per timer under bursts of tens of
   * thousands a second kept the garbage collector busy for hundreds of ms at a time.
   */
  private async deliverBatch(batch: DueTimer[]): Promise<void> {
    const timer = this.timer!;
    const { store } = this.deps;
    const n = batch.length;
    const owners: (VhostDelays | undefined)[] = new Array<VhostDelays | undefined>(n);
    const stored: (StoredDelayed | null | undefined)[] = new Array<StoredDelayed | null | undefined>(n);
    const markers: number[] = new Array<number>(n).fill(-1);
    const toRoute: boolean[] = new Array<boolean>(n).fill(false);
    let misses: Promise<void>[] | null = null;
    for (let i = 0; i < n; i++) {
      const t = batch[i]!;
      const o = this.byPartition.get(t.partition);
      owners[i] = o;
      if (!o || o.gone) continue;
      const known = o.recoveredMarkers?.get(t.offset >>> 0);
      if (known !== undefined) {
        // Routed before a crash (its marker survived): finish only.
        o.recoveredMarkers!.delete(t.offset >>> 0);
        markers[i] = known;
        continue;
      }
      toRoute[i] = true;
      stored[i] = this.readCached(o, t.offset);
      if (stored[i] === undefined) (misses ??= []).push(this.read(o, t.offset).then((sd) => void (stored[i] = sd)));
    }
    if (misses !== null) await Promise.all(misses);
    const durables = new Set<Promise<void>>();
    for (let i = 0; i < n; i++) {
      if (!toRoute[i]) continue;
      const t = batch[i]!;
      const o = owners[i]!;
      const sd = stored[i];
      const vh = this.deps.vhost(o.vhost);
      if (!sd || !vh) {
        if (!sd) this.deps.warn({ vhost: o.vhost, offset: t.offset }, 'delayed message unreadable: dropped');
        continue;
      }
      const m = sd.message;
      // Routed as if published now: Kafka consumers of a stream see the due time.
      m.timestamp = this.clockNow();
      const res = vh.routeDue(sd.target, m, { partition: o.fired, tagHash: t.offset >>> 0 });
      markers[i] = vh.router.lastMarkerOffset;
      durables.add(res.durable);
    }
    if (durables.size > 0) await Promise.all(durables);
    let synced: Promise<void> | null = null;
    const release: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = batch[i]!;
      synced = timer.done(t.position);
      store.release(t.partition, t.offset);
      const o = owners[i];
      if (o && markers[i]! >= 0) release.push(o.fired, markers[i]!);
    }
    if (synced !== null && release.length > 0) {
      void synced.then(() => {
        for (let k = 0; k < release.length; k += 2) store.release(release[k]!, release[k + 1]!);
      }, () => {});
    }
  }
}

/** The delayed message at `offset` of a stored batch, its private headers dropped; null when it is not one. */
function decodeDelayed(batch: StoredBatch, offset: number): StoredDelayed | null {
  for (const d of decodeBatchMessages(batch.batch, batch.baseOffset, '')) {
    if (d.offset !== offset) continue;
    const m = d.message;
    const due = headerValue(m.headers, DUE_HEADER);
    const target = headerValue(m.headers, TARGET_HEADER);
    if (typeof due !== 'string' || typeof target !== 'string') return null;
    m.headers = m.headers.filter((h) => h.name !== DUE_HEADER && h.name !== TARGET_HEADER);
    return { message: m, dueAt: Number(due), target };
  }
  return null;
}

/** The `x-retry-count` header of a message (0 when absent). */
export function retryCount(m: Message): number {
  const v = headerValue(m.headers, 'x-retry-count');
  const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : Buffer.isBuffer(v) ? Number(v.toString('utf8')) : 0;
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

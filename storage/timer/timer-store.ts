/**
 * A durable timer for delayed delivery, retry backoff and other "do this at time t" work:
 * RocketMQ 5's TimerLog + TimerWheel design (STYLE.md anchor 8).
 *
 * - The **timer log** (timer-log.ts) takes one 48-byte unit per timer: due time, the slot it
 *   is linked into, the previous unit of that slot, and a reference (partition, offset) to
 *   the message, which lives in the commit log. Writes are sequential and group-committed.
 * - The **wheel** is an array of `wheelSlots` slot heads (positions in the timer log), one
 *   per `slotMs` of the near future; each slot's units form a chain through their `link`
 *   field. A timer further away than the wheel reaches is linked into the wheel's last slot
 *   and re-linked ("rolled") when that slot comes up, so far timers cost no memory at all.
 * - A slot is **loaded** (its chain read into a small in-memory heap) one slot before it
 *   begins; each loaded timer fires at its exact due time through the clock.
 * - The consumer of a fired timer calls `done(position)` once its effect is durable; a
 *   `done` unit is appended, and the **checkpoint** (`checkpoint` file, the first slot that
 *   is not finished) moves on. Segments of the timer log wholly below the checkpoint go.
 *
 * - A timer scheduled as **recoverable** is one its owner can schedule again from a durable
 *   record of its own (the core's delay partition in the commit log; RocketMQ rebuilds its
 *   timer log from the commit log the same way): its unit is written with the next tick but
 *   fsynced only with the next checkpoint (at most a second later), so scheduling costs the
 *   owner's one append and fsync. The checkpoint records, per partition, the offset below
 *   which every recoverable timer's unit is fsynced (`marks`); after a crash the owner
 *   reschedules its entries from there (`rebuildFrom`, `hadUnit`, `rebuilt`).
 *
 * Recovery scans the log's live segments: timer units at or after the checkpoint slot,
 * minus those with a `done` unit, minus older copies of rolled timers, are pending; the
 * wheel heads are rebuilt from them. Timers that fell due while the process was down fire
 * as soon as `start()` loads their slots. A timer whose `done` unit was lost in a crash
 * fires again: the consumer must recognise it (the core keeps a marker in the commit log
 * written atomically with the fired message, see src/core/delayed-delivery.ts).
 */
import { crc32c } from '@node-rs/crc32';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { DurabilityMode } from '../types.js';
import { systemClock, type TimerClock } from './clock.js';
import { NearHeap, type NearTimer } from './near-heap.js';
import { TimerLog } from './timer-log.js';
import { FLAG_ROLLED, UnitKind, type TimerUnit } from './timer-unit.js';

export type { TimerClock } from './clock.js';

/** Checkpoint of the first format: the slot only (every timer unit was fsynced when scheduled). */
const CHECKPOINT_MAGIC_V1 = 0x50425443; // 'PBTC'
/** Checkpoint with marks: magic, crc32c of the rest, slot float64, count uint32, (partition uint32, mark float64) x count. */
const CHECKPOINT_MAGIC = 0x50425432; // 'PBT2'
const DAY_MS = 86_400_000;
const RESOLVED = Promise.resolve();
/** Timer units read per event-loop turn while loading a slot (~2 ms of work). */
const LOAD_CHUNK = 4096;

export interface TimerStoreOptions {
  /** Directory of the timer log and its checkpoint. */
  dir: string;
  /** `none`: units are written to the OS only; otherwise each schedule is fsynced before it resolves. */
  durability: DurabilityMode;
  clock?: TimerClock;
  /** Width of one wheel slot, ms (default 1000). Timers fire at their exact ms regardless. */
  slotMs?: number;
  /** Slots in the wheel (default: two days' worth). Memory: 8 bytes a slot. */
  wheelSlots?: number;
  /** Timer-log segment size, bytes (default 48 MiB = 1,048,576 units). */
  segmentBytes?: number;
  warn?: (fields: Record<string, unknown>, msg: string) => void;
}

/** A timer that fell due, handed to the consumer; call `done(position)` when it is handled. */
export interface DueTimer {
  position: number;
  dueAt: number;
  partition: number;
  offset: number;
}

/** A pending timer as listed. */
export interface PendingTimer {
  position: number;
  dueAt: number;
  partition: number;
  offset: number;
}

function refKey(partition: number, offset: number): string {
  return `${partition}:${offset}`;
}

export class TimerStore {
  private readonly clock: TimerClock;
  private readonly slotMs: number;
  private readonly wheelSlots: number;
  private readonly heads: Float64Array;
  /** The slot each head's chain belongs to (-1 = none): a slot a wheel later must not join it. */
  private readonly headSlot: Float64Array;
  private readonly heap = new NearHeap();
  private readonly sync: boolean;
  private readonly warn: (fields: Record<string, unknown>, msg: string) => void;
  private log!: TimerLog;
  /** Every unit linked in a slot below this one is finished (persisted in `checkpoint`). */
  private doneSlot = 0;
  private persistedDoneSlot = -1;
  /** Next slot to load. */
  private loadedThrough = 0;
  private maxLinkedSlot = -1;
  /** The slot whose chain is being read (in chunks), and where the reading stands. */
  private loading: { slot: number; pos: number } | null = null;
  private continueQueued = false;
  /** No slot in [loadedThrough, scanFrom) has a chain. */
  private scanFrom = 0;
  /** Loaded (or fired, awaiting `done`) timers by position. */
  private readonly inMemory = new Map<number, NearTimer>();
  /** Loaded-but-unfinished timers per slot (the checkpoint waits for them). */
  private readonly outstanding = new Map<number, number>();
  /** Scheduled straight into memory (due within the loaded horizon): skip when their slot loads. */
  private readonly late = new Set<number>();
  /** Positions recovery found finished or superseded: skip when their slot loads. */
  private readonly skip = new Set<number>();
  /** Cancelled pending timers by reference, until their slot loads. */
  private readonly cancelled = new Map<string, number>();
  private readonly counts = new Map<number, number>();
  private recovered: Map<number, number[]> | null = new Map();
  /**
   * Per partition, the offset below which every recoverable timer's unit is fsynced, or will
   * be by the next checkpoint's sync (max offset + 1 of those appended).
   */
  private readonly marks = new Map<number, number>();
  private marksDirty = false;
  /** From the checkpoint read at recovery: where each partition's rebuild starts. */
  private recoveredMarks = new Map<number, number>();
  /** A first-format checkpoint: every unit was fsynced when scheduled, nothing to rebuild. */
  private legacyCheckpoint = false;
  /** Offsets (sorted) with a timer unit in the log at recovery, at or after their partition's mark; until `start`. */
  private unitsFound: Map<number, number[]> | null = new Map();
  /** Resolved by the next checkpoint's sync: one promise shared by every `done` until then. */
  private syncEpoch: { promise: Promise<void>; resolve: () => void } | null = null;
  private onDue: ((t: DueTimer) => void) | null = null;
  private cancelWake: (() => void) | null = null;
  private wakeAt = Infinity;
  private checkpointTimer: (() => void) | null = null;
  private checkpointChain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: TimerStoreOptions) {
    this.clock = options.clock ?? systemClock();
    this.slotMs = options.slotMs ?? 1000;
    this.wheelSlots = options.wheelSlots ?? Math.ceil((2 * DAY_MS) / this.slotMs);
    this.heads = new Float64Array(this.wheelSlots).fill(-1);
    this.headSlot = new Float64Array(this.wheelSlots).fill(-1);
    this.sync = options.durability !== 'none';
    this.warn = options.warn ?? (() => {});
  }

  /** Opens (creating) the timer in `options.dir` and recovers its pending timers. Call `start` to fire them. */
  static open(options: TimerStoreOptions): TimerStore {
    mkdirSync(options.dir, { recursive: true });
    const t = new TimerStore(options);
    t.recover();
    return t;
  }

  private get checkpointPath(): string {
    return join(this.options.dir, 'checkpoint');
  }

  private slotOf(ms: number): number {
    return Math.floor(ms / this.slotMs);
  }

  private recover(): void {
    let checkpoint: number | null = null;
    if (existsSync(this.checkpointPath)) {
      const b = readFileSync(this.checkpointPath);
      const parsed = parseCheckpoint(b);
      if (parsed !== null) {
        checkpoint = parsed.slot;
        this.legacyCheckpoint = parsed.marks === null;
        if (parsed.marks !== null) for (const [p, m] of parsed.marks) this.recoveredMarks.set(p, m);
      } else this.warn({ file: this.checkpointPath }, 'timer checkpoint is corrupt: every timer in the log is recovered');
    }
    for (const [p, m] of this.recoveredMarks) this.marks.set(p, m);
    const from = checkpoint ?? -Infinity;
    const found = this.unitsFound!;
    // Pass 1 (the scan): candidates in slots at or after the checkpoint, finished positions, cancels.
    const cand: { position: number; u: TimerUnit }[] = [];
    const finished = new Set<number>();
    const cancels = new Set<string>();
    const rolledLatest = new Map<string, number>();
    this.log = TimerLog.open(
      this.options.dir,
      this.options.segmentBytes ?? 48 * 1024 * 1024,
      (position, u) => {
        if (u.kind === UnitKind.Timer) {
          if (!this.legacyCheckpoint && u.offset >= (this.recoveredMarks.get(u.partition) ?? 0)) {
            let offs = found.get(u.partition);
            if (!offs) found.set(u.partition, (offs = []));
            offs.push(u.offset);
          }
          if (u.slot < from) return;
          cand.push({ position, u });
          if (u.flags & FLAG_ROLLED) rolledLatest.set(refKey(u.partition, u.offset), position);
        } else if (u.kind === UnitKind.Done) finished.add(u.link);
        else cancels.add(refKey(u.partition, u.offset));
      },
      this.warn,
    );
    for (const offs of found.values()) offs.sort((a, b) => a - b);
    // A candidate is live unless finished or an older copy of a rolled timer. Only slots with a
    // live unit are rebuilt: a finished slot's chain may share a wheel index with a later one.
    const live: boolean[] = new Array(cand.length);
    let minLive = Infinity;
    const liveSlots = new Set<number>();
    for (let i = 0; i < cand.length; i++) {
      const { position, u } = cand[i]!;
      const dead = finished.has(position) || (rolledLatest.get(refKey(u.partition, u.offset)) ?? position) > position;
      live[i] = !dead;
      if (dead) continue;
      liveSlots.add(u.slot);
      if (u.slot < minLive) minLive = u.slot;
    }
    this.doneSlot = minLive !== Infinity ? minLive : (checkpoint ?? this.slotOf(this.clock.now()));
    this.persistedDoneSlot = checkpoint ?? -1;
    this.loadedThrough = this.doneSlot;
    // Each wheel index serves the earliest live slot mapped to it; live units of a later slot
    // on the same index (written while the checkpoint lagged a wheel) are held in memory.
    const slotOfIndex = new Map<number, number>();
    for (const sl of liveSlots) {
      const idx = sl % this.wheelSlots;
      const cur = slotOfIndex.get(idx);
      if (cur === undefined || sl < cur) slotOfIndex.set(idx, sl);
    }
    for (let i = 0; i < cand.length; i++) {
      const { position, u } = cand[i]!;
      if (!liveSlots.has(u.slot)) continue;
      const idx = u.slot % this.wheelSlots;
      const chained = slotOfIndex.get(idx) === u.slot;
      if (chained) {
        this.heads[idx] = position;
        this.headSlot[idx] = u.slot;
        if (u.slot > this.maxLinkedSlot) this.maxLinkedSlot = u.slot;
      }
      if (!live[i]) {
        if (chained) this.skip.add(position);
        continue;
      }
      const key = refKey(u.partition, u.offset);
      if (cancels.has(key)) {
        this.cancelled.set(key, u.dueAt);
        continue;
      }
      if (!chained || this.slotOf(u.dueAt) < u.slot) {
        // Not reachable through the wheel, or scheduled into memory (due within the loaded
        // horizon) before the crash: load it now.
        if (chained) this.late.add(position);
        this.hold({ dueAt: u.dueAt, position, partition: u.partition, offset: u.offset, slot: u.slot });
      }
      this.counts.set(u.partition, (this.counts.get(u.partition) ?? 0) + 1);
      let offs = this.recovered!.get(u.partition);
      if (!offs) this.recovered!.set(u.partition, (offs = []));
      offs.push(u.offset);
    }
  }

  /**
   * Offsets of the timers pending at recovery, per partition, sorted: the owner uses them once
   * to release the rest of its partition's entries in the store. Returns null after the first call.
   */
  takeRecoveredOffsets(): Map<number, number[]> | null {
    const r = this.recovered;
    this.recovered = null;
    if (r) for (const offs of r.values()) offs.sort((a, b) => a - b);
    return r;
  }

  /** Starts loading slots and firing: `onDue` is called for each timer as it falls due. */
  start(onDue: (t: DueTimer) => void): void {
    this.onDue = onDue;
    this.unitsFound = null;
    this.pump();
  }

  /** Pending timers (all, or of one partition). */
  count(partition?: number): number {
    if (partition !== undefined) return this.counts.get(partition) ?? 0;
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Bytes of the timer log on disk. */
  get diskBytes(): number {
    return this.log.diskBytes;
  }

  /**
   * Schedules a timer for the message at (partition, offset). Due times in the past fire at
   * once. `durable` resolves when the unit is on disk per the durability mode; for a
   * `recoverable` timer (its owner can schedule it again from its own durable record after a
   * crash, see `rebuildFrom`) at once: the unit is fsynced with the next checkpoint.
   * Recoverable timers of one partition must be scheduled in offset order.
   */
  schedule(dueAt: number, partition: number, offset: number, recoverable = false): { position: number; durable: Promise<void> } {
    if (this.closed) return { position: -1, durable: Promise.reject(new Error('timer store closed')) };
    const natural = this.slotOf(dueAt);
    let slot = Math.max(natural, this.loadedThrough);
    const cap = this.doneSlot + this.wheelSlots - 1;
    if (slot > cap) slot = Math.max(cap, this.loadedThrough);
    const r = this.link({ dueAt, slot, link: -1, offset, partition, kind: UnitKind.Timer, flags: 0 }, !recoverable);
    this.counts.set(partition, (this.counts.get(partition) ?? 0) + 1);
    if (recoverable) {
      if (offset + 1 > (this.marks.get(partition) ?? 0)) this.marks.set(partition, offset + 1);
      this.marksDirty = true;
      this.requestCheckpoint();
      r.durable = RESOLVED;
    }
    if (!r.linked) this.hold({ dueAt, position: r.position, partition, offset, slot });
    else if (natural < this.loadedThrough) {
      // Due within the loaded horizon: into memory now, skipped when its slot loads.
      this.late.add(r.position);
      this.hold({ dueAt, position: r.position, partition, offset, slot });
    }
    this.arm();
    return r;
  }

  /**
   * Where a crash may have lost the units of `partition`'s recoverable timers: its owner
   * schedules again (with `hadUnit` to pass over those that were not lost) each of its entries
   * from this offset on, then calls `rebuilt`. Infinity when there is nothing to rebuild.
   */
  rebuildFrom(partition: number): number {
    if (this.legacyCheckpoint) return Infinity;
    return this.recoveredMarks.get(partition) ?? 0;
  }

  /** True when recovery found a timer unit for (partition, offset) (at or after its `rebuildFrom`); only before `start`. */
  hadUnit(partition: number, offset: number): boolean {
    const offs = this.unitsFound?.get(partition);
    if (!offs) return false;
    let lo = 0;
    let hi = offs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = offs[mid]!;
      if (v === offset) return true;
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** The owner has scheduled (again) every timer of `partition` below `endOffset`. */
  rebuilt(partition: number, endOffset: number): void {
    if (endOffset <= (this.marks.get(partition) ?? 0)) return;
    this.marks.set(partition, endOffset);
    this.marksDirty = true;
    this.requestCheckpoint();
  }

  /**
   * Appends a timer unit and links it into its slot's chain. When the wheel index still holds
   * the chain of a slot one wheel earlier (the checkpoint lags a whole wheel: a fire is stuck),
   * the unit is written unlinked (`linked` false) and the caller keeps it in memory.
   */
  private link(u: TimerUnit, sync = true): { position: number; durable: Promise<void>; linked: boolean } {
    const idx = u.slot % this.wheelSlots;
    const busy = this.heads[idx]! >= 0 && this.headSlot[idx] !== u.slot;
    u.link = busy ? -1 : this.heads[idx]!;
    const r = this.log.append(u, this.sync && sync);
    if (busy) {
      this.warn({ slot: u.slot, position: r.position }, 'timer wheel slot still holds a slot one wheel earlier: timer kept in memory');
      return { position: r.position, durable: r.durable, linked: false };
    }
    this.heads[idx] = r.position;
    this.headSlot[idx] = u.slot;
    if (u.slot > this.maxLinkedSlot) this.maxLinkedSlot = u.slot;
    if (u.slot < this.scanFrom) this.scanFrom = u.slot;
    return { position: r.position, durable: r.durable, linked: true };
  }

  private hold(t: NearTimer): void {
    this.inMemory.set(t.position, t);
    this.outstanding.set(t.slot, (this.outstanding.get(t.slot) ?? 0) + 1);
    this.heap.push(t);
  }

  /**
   * Cancels the pending timer of (partition, offset), due at `dueAt`. The caller knows it is
   * pending (its due time is in the future and it was not cancelled before).
   */
  cancel(partition: number, offset: number, dueAt: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('timer store closed'));
    const key = refKey(partition, offset);
    this.cancelled.set(key, dueAt);
    this.counts.set(partition, (this.counts.get(partition) ?? 1) - 1);
    return this.log.append({ dueAt, slot: 0, link: -1, offset, partition, kind: UnitKind.Cancel, flags: 0 }, this.sync).durable;
  }

  /** True when (partition, offset) was cancelled and its slot has not come up yet. */
  isCancelled(partition: number, offset: number): boolean {
    return this.cancelled.has(refKey(partition, offset));
  }

  /**
   * The consumer has handled the fired timer at `position` durably. Resolves when the done
   * unit is fsynced, with the next checkpoint (losing it only makes the timer fire again after
   * a crash: what lets the consumer recognise that, like the core's fired marker, must stay
   * until then).
   */
  done(position: number): Promise<void> {
    const t = this.inMemory.get(position);
    if (!t) return Promise.resolve();
    this.counts.set(t.partition, (this.counts.get(t.partition) ?? 1) - 1);
    const written = this.finish(t);
    if (this.closed) return written;
    return this.whenSynced();
  }

  /**
   * Resolves once everything appended so far is fsynced (by the next checkpoint, within a
   * second; its sync starts after this returns, so it covers what is appended now). Once
   * closed, only a checkpoint already under way resolves it (after `halt`, nothing may).
   */
  private whenSynced(): Promise<void> {
    this.requestCheckpoint();
    if (this.syncEpoch === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.syncEpoch = { promise, resolve };
    }
    return this.syncEpoch.promise;
  }

  private finish(t: NearTimer): Promise<void> {
    this.inMemory.delete(t.position);
    const n = (this.outstanding.get(t.slot) ?? 1) - 1;
    if (n <= 0) this.outstanding.delete(t.slot);
    else this.outstanding.set(t.slot, n);
    let written = RESOLVED;
    if (!this.closed) written = this.log.append({ dueAt: t.dueAt, slot: 0, link: t.position, offset: t.offset, partition: t.partition, kind: UnitKind.Done, flags: 0 }, false).durable;
    this.advanceDone();
    return written;
  }

  private advanceDone(): void {
    let min = this.loadedThrough;
    for (const s of this.outstanding.keys()) if (s < min) min = s;
    if (min <= this.doneSlot) return;
    this.doneSlot = min;
    this.requestCheckpoint();
  }

  private requestCheckpoint(): void {
    if (this.checkpointTimer === null && !this.closed) {
      // At most one checkpoint a second: recovery redoes at most a second of slots, and
      // owners rebuild at most a second of recoverable timers.
      this.checkpointTimer = this.clock.wakeAt(this.clock.now() + 1000, () => {
        this.checkpointTimer = null;
        void this.writeCheckpoint();
      });
    }
  }

  /**
   * Persists the checkpoint (temp file, fsync, rename), off the event loop: an fsync can take
   * tens of ms on a busy disk and timers must keep firing meanwhile. One write at a time.
   */
  private writeCheckpoint(): Promise<void> {
    this.checkpointChain = this.checkpointChain.then(async () => {
      const slot = this.doneSlot;
      const epoch = this.syncEpoch;
      this.syncEpoch = null;
      if (slot === this.persistedDoneSlot && !this.marksDirty && epoch === null) return;
      // Taken before the sync: every unit the marks count is appended, so the sync covers it.
      const marks = [...this.marks];
      const marksChanged = this.marksDirty;
      this.marksDirty = false;
      const end = this.log.endPosition;
      await this.log.sync();
      epoch?.resolve();
      if (slot === this.persistedDoneSlot && !marksChanged) return;
      const b = encodeCheckpoint(slot, marks);
      const tmp = this.checkpointPath + '.tmp';
      const fh = await open(tmp, 'w');
      try {
        await fh.write(b);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.checkpointPath);
      this.persistedDoneSlot = slot;
      this.log.reclaimBefore = slot;
      this.log.reclaimEnd = end;
      this.log.deleteBefore(slot, end);
    }).catch((err: unknown) => this.warn({ file: this.checkpointPath, err: String(err) }, 'timer checkpoint write failed'));
    return this.checkpointChain;
  }

  /** Loads slots that begin within one slot from now, fires due timers, re-arms the wake. */
  private pump(): void {
    if (this.closed || this.onDue === null) return;
    const now = this.clock.now();
    const horizonSlot = this.slotOf(now + this.slotMs);
    // Slots load in chunks of LOAD_CHUNK units per turn: a slot holding 50,000 timers must not
    // stop the timers of the slot before it from firing on time.
    let budget = LOAD_CHUNK;
    while (budget > 0) {
      if (this.loading === null) {
        // Empty slots are passed over without a wake each.
        const s = this.nextLinkedSlot();
        if (s > horizonSlot) break;
        this.startLoading(s);
      }
      budget = this.loadSome(budget);
    }
    if (this.loading === null && this.loadedThrough <= horizonSlot) this.loadedThrough = horizonSlot + 1;
    this.advanceDone();
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.dueAt > now) break;
      this.heap.pop();
      const key = refKey(top.partition, top.offset);
      if (this.cancelled.delete(key)) {
        void this.finish(top).catch(() => {});
        continue;
      }
      this.onDue({ position: top.position, dueAt: top.dueAt, partition: top.partition, offset: top.offset });
    }
    if (this.loading !== null && !this.continueQueued) {
      this.continueQueued = true;
      setImmediate(() => {
        this.continueQueued = false;
        this.pump();
      });
    }
    this.arm();
  }

  /**
   * Takes slot `s`'s chain out of the wheel. From now on new timers due in it go to memory
   * (`loadedThrough` is past it), and the checkpoint waits until the chain is read.
   */
  private startLoading(s: number): void {
    const idx = s % this.wheelSlots;
    this.loading = { slot: s, pos: this.heads[idx]! };
    this.heads[idx] = -1;
    this.headSlot[idx] = -1;
    this.loadedThrough = s + 1;
    this.outstanding.set(s, (this.outstanding.get(s) ?? 0) + 1);
  }

  /** Reads up to `budget` units of the slot being loaded; returns the budget left. */
  private loadSome(budget: number): number {
    const l = this.loading!;
    const s = l.slot;
    while (l.pos >= 0 && budget > 0) {
      budget--;
      const u = this.log.read(l.pos);
      if (u === null || u.kind !== UnitKind.Timer || u.slot !== s) {
        this.warn({ position: l.pos, slot: s }, 'timer log chain broken: the rest of the slot is lost');
        break;
      }
      const p = l.pos;
      l.pos = u.link;
      if (this.skip.delete(p) || this.late.delete(p)) continue;
      const key = refKey(u.partition, u.offset);
      if (this.cancelled.delete(key)) {
        this.log.append({ dueAt: u.dueAt, slot: 0, link: p, offset: u.offset, partition: u.partition, kind: UnitKind.Done, flags: 0 }, false);
        continue;
      }
      if (this.slotOf(u.dueAt) > s) this.roll(u, p, s);
      else this.hold({ dueAt: u.dueAt, position: p, partition: u.partition, offset: u.offset, slot: s });
    }
    if (budget > 0 || l.pos < 0) {
      // The chain is read (or broken): the slot no longer holds the checkpoint back.
      this.loading = null;
      const n = (this.outstanding.get(s) ?? 1) - 1;
      if (n <= 0) this.outstanding.delete(s);
      else this.outstanding.set(s, n);
    }
    return budget;
  }

  /** First slot at or after `loadedThrough` with a chain, or Infinity. Amortised: the scan only moves forward. */
  private nextLinkedSlot(): number {
    let s = Math.max(this.scanFrom, this.loadedThrough);
    while (s <= this.maxLinkedSlot && this.headSlot[s % this.wheelSlots] !== s) s++;
    this.scanFrom = s;
    return s <= this.maxLinkedSlot ? s : Infinity;
  }

  /** The slot the checkpoint could move to now, given that slot `loading` is being loaded. */
  private effectiveDoneSlot(loading: number): number {
    let min = loading;
    for (const s of this.outstanding.keys()) if (s < min) min = s;
    return min;
  }

  /** Re-links a far timer further on; the slot it leaves stays unfinished until the copy is durable. */
  private roll(u: TimerUnit, position: number, from: number): void {
    const target = Math.min(this.slotOf(u.dueAt), this.effectiveDoneSlot(from) + this.wheelSlots - 1);
    if (target <= from) {
      // The checkpoint lags a whole wheel behind (a fire is stuck): keep it in memory instead.
      this.hold({ dueAt: u.dueAt, position, partition: u.partition, offset: u.offset, slot: from });
      return;
    }
    const r = this.link({ ...u, slot: target, link: -1, flags: FLAG_ROLLED });
    if (!r.linked) this.hold({ dueAt: u.dueAt, position: r.position, partition: u.partition, offset: u.offset, slot: target });
    this.outstanding.set(from, (this.outstanding.get(from) ?? 0) + 1);
    const release = (): void => {
      const n = (this.outstanding.get(from) ?? 1) - 1;
      if (n <= 0) this.outstanding.delete(from);
      else this.outstanding.set(from, n);
      this.advanceDone();
    };
    r.durable.then(release, (err: unknown) => this.warn({ position, err: String(err) }, 'timer roll write failed'));
  }

  private arm(): void {
    if (this.closed || this.onDue === null) return;
    let next = Infinity;
    const top = this.heap.peek();
    if (top) next = top.dueAt;
    const linked = this.nextLinkedSlot();
    if (linked !== Infinity) next = Math.min(next, linked * this.slotMs - this.slotMs);
    if (next === this.wakeAt) return;
    this.cancelWake?.();
    this.cancelWake = null;
    this.wakeAt = next;
    if (next === Infinity) return;
    this.cancelWake = this.clock.wakeAt(next, () => {
      this.cancelWake = null;
      this.wakeAt = Infinity;
      this.pump();
    });
  }

  /**
   * Pending timers of `partition` (or all), nearest first, at most `limit`. Walks the loaded
   * timers and the wheel's chains: its cost grows with the timers it passes.
   */
  list(partition: number | undefined, limit: number): PendingTimer[] {
    const out: PendingTimer[] = [];
    for (const t of this.inMemory.values()) {
      if (partition !== undefined && t.partition !== partition) continue;
      if (this.cancelled.has(refKey(t.partition, t.offset))) continue;
      out.push({ position: t.position, dueAt: t.dueAt, partition: t.partition, offset: t.offset });
    }
    const chained: PendingTimer[] = [];
    for (let pos = this.loading?.pos ?? -1; pos >= 0 && chained.length < limit; ) {
      const u = this.log.read(pos);
      if (u === null) break;
      const p = pos;
      pos = u.link;
      if (this.skip.has(p) || this.late.has(p) || (partition !== undefined && u.partition !== partition) || this.cancelled.has(refKey(u.partition, u.offset))) continue;
      chained.push({ position: p, dueAt: u.dueAt, partition: u.partition, offset: u.offset });
    }
    for (let s = this.loadedThrough; s <= this.maxLinkedSlot && chained.length < limit; s++) {
      let pos = this.headSlot[s % this.wheelSlots] === s ? this.heads[s % this.wheelSlots]! : -1;
      while (pos >= 0) {
        const u = this.log.read(pos);
        if (u === null || u.slot !== s) break;
        const p = pos;
        pos = u.link;
        if (this.skip.has(p) || this.late.has(p)) continue;
        if (partition !== undefined && u.partition !== partition) continue;
        if (this.cancelled.has(refKey(u.partition, u.offset))) continue;
        chained.push({ position: p, dueAt: u.dueAt, partition: u.partition, offset: u.offset });
      }
    }
    out.push(...chained);
    out.sort((a, b) => a.dueAt - b.dueAt || a.position - b.position);
    return out.slice(0, limit);
  }

  /** Resolves once every unit appended so far is written and fsynced. */
  flush(): Promise<void> {
    return this.log.sync();
  }

  /**
   * Stops firing and lets the writes already started finish, writing nothing more (no
   * checkpoint): the state a crash leaves, for tests that reopen the directory in-process.
   */
  async halt(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelWake?.();
    this.checkpointTimer?.();
    this.checkpointTimer = null;
    await this.checkpointChain;
    await this.log.halt();
  }


  /** Stops firing, writes the checkpoint and closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelWake?.();
    this.checkpointTimer?.();
    this.checkpointTimer = null;
    await this.log.sync();
    await this.writeCheckpoint();
    await this.log.close();
  }
}

function encodeCheckpoint(slot: number, marks: [number, number][]): Buffer {
  const b = Buffer.alloc(20 + 12 * marks.length);
  b.writeUInt32BE(CHECKPOINT_MAGIC, 0);
  b.writeDoubleBE(slot, 8);
  b.writeUInt32BE(marks.length, 16);
  marks.forEach(([p, m], i) => {
    b.writeUInt32BE(p >>> 0, 20 + 12 * i);
    b.writeDoubleBE(m, 24 + 12 * i);
  });
  b.writeUInt32BE(crc32c(b.subarray(8)), 4);
  return b;
}

/** The checkpoint's slot and marks (null marks: first format), or null when it is corrupt. */
function parseCheckpoint(b: Buffer): { slot: number; marks: Map<number, number> | null } | null {
  if (b.length < 16 || crc32c(b.subarray(8)) !== b.readUInt32BE(4)) return null;
  const magic = b.readUInt32BE(0);
  if (magic === CHECKPOINT_MAGIC_V1) return b.length === 16 ? { slot: b.readDoubleBE(8), marks: null } : null;
  if (magic !== CHECKPOINT_MAGIC || b.length < 20) return null;
  const n = b.readUInt32BE(16);
  if (b.length !== 20 + 12 * n) return null;
  const marks = new Map<number, number>();
  for (let i = 0; i < n; i++) marks.set(b.readUInt32BE(20 + 12 * i), b.readDoubleBE(24 + 12 * i));
  return { slot: b.readDoubleBE(8), marks };
}

/**
 * The core: vhosts on one Store, the dispatch scheduler (queues touched in a tick dispatch once,
 * in a microtask), the sweep timer (TTL, queue expiry, stream retention), resource alarms and
 * recovery from the journal.
 */
import { statfs } from 'node:fs/promises';
import type { Store } from '../../storage/types.js';
import type { AlarmEvent, AlarmKind, Connection, ConnectionInfo, ConnectOptions, GroupMembership, MessageTotals, Core, CoreOptions, Vhost, VhostOptions } from './api.js';
import { DurableUserStore } from './auth/user-store.js';
import { DEFAULT_HALF_SETTINGS } from './half/half-messages.js';
import { ConnectionImpl } from './connection.js';
import { MessageCounts } from './message-counts.js';
import { lookupKeysOf } from './message-keys.js';
import { decodeBatchMessages } from './record-codec.js';
import { NotAllowed, NotFound, ResourceError } from './errors.js';

import { Journal, type CursorState, type JournalState } from './journal.js';
import type { Queue } from './queue.js';
import { VhostImpl, type VhostContext } from './vhost.js';
import { DelayedDelivery } from './delayed-delivery.js';
import { recoverRedrives, resumeRedrives } from './redrive.js';
import { PublisherFlow } from './publisher-flow.js';

const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/** Ready messages of a queue whose consumer waits on its socket at which its publishers are throttled. */
const DEFAULT_FLOW_CONTROL_BACKLOG = 2000;
/** Kafka's default log.retention.hours (168). */
const WEEK_MS = 7 * 24 * 3600 * 1000;

class CoreImpl implements Core {
  private readonly vhosts = new Map<string, VhostImpl>();
  private journal: Journal | null = null;
  private nextPartition = 1;
  private connectionSeq = 0;
  private readonly dirty = new Set<Queue>();
  private flushQueued = false;
  private readonly alarmListeners = new Set<(e: AlarmEvent) => void>();
  private readonly activeAlarms = new Set<AlarmKind>();
  private alarmTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private compacting: Promise<void> | null = null;
  private lsoHook: ((vhost: string, stream: string, partition: number, hw: number) => number) | null = null;
  private opened = false;
  readonly maxMessageBytes: number;
  readonly users: DurableUserStore;
  private readonly now: () => number;
  private readonly warn: (fields: Record<string, unknown>, msg: string) => void;
  private readonly ctxBase: Omit<VhostContext, 'journal'>;
  private readonly counts = new MessageCounts();
  private readonly delays: DelayedDelivery;

  constructor(
    private readonly store: Store,
    private readonly options: CoreOptions,
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.users = new DurableUserStore(options.auth);
    // A deleted user's connections are closed, as RabbitMQ does.
    this.users.onChange((change) => {
      if (change.kind !== 'delete') return;
      for (const vh of this.vhosts.values()) for (const c of [...vh.connections]) if (c.origin.user === change.user) void c.requestClose(`user '${change.user}' was deleted`);
    });
    this.now = options.now ?? Date.now;
    this.warn = options.warn ?? (() => {});
    this.delays = new DelayedDelivery({
      store,
      clock: options.timerClock,
      allocatePartition: () => this.nextPartition++,
      vhost: (name) => this.vhosts.get(name),
      warn: this.warn,
    });
    this.ctxBase = {
      delays: this.delays,
      store,
      now: this.now,
      maxMessageBytes: this.maxMessageBytes,
      defaultDurability: options.durability ?? 'sync',
      defaultStreamRetentionMs: options.streamRetentionMs ?? WEEK_MS,
      defaultStreamRetentionBytes: options.streamRetentionBytes ?? -1,
      allocatePartition: () => this.nextPartition++,
      scheduleDispatch: (q) => this.scheduleDispatch(q),
      lastStableOffset: (v, s, p, hw) => (this.lsoHook ? this.lsoHook(v, s, p, hw) : hw),
      warn: this.warn,
      counts: this.counts,
      halfMessages: { ...DEFAULT_HALF_SETTINGS, ...options.halfMessages },
      deadlineTimers: (options.sweepIntervalMs ?? 1000) > 0,
      flow: new PublisherFlow(options.flowControlBacklog ?? DEFAULT_FLOW_CONTROL_BACKLOG, options.flowControlStallMs),
    };
  }

  private ctx(): VhostContext {
    if (!this.journal) throw new NotAllowed('the core is not open');
    return { ...this.ctxBase, journal: this.journal };
  }

  private scheduleDispatch(q: Queue): void {
    this.dirty.add(q);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.dispatchDirty());
  }

  private dispatchDirty(): void {
    this.flushQueued = false;
    // Dispatch may requeue/dead-letter and mark queues dirty again: loop until quiet.
    for (let round = 0; round < 16 && this.dirty.size > 0; round++) {
      const qs = [...this.dirty];
      this.dirty.clear();
      for (const q of qs) q.dispatch();
    }
    if (this.dirty.size > 0 && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.dispatchDirty());
    }
  }

  async open(): Promise<void> {
    if (this.opened) return;
    // The store re-indexes lookup keys past its key index's checkpoint with the core's codec.
    this.store.setKeyExtractor((batch) => {
      const keys: string[] = [];
      for (const d of decodeBatchMessages(batch, 0, '')) for (const k of lookupKeysOf(d.message)) if (!keys.includes(k)) keys.push(k);
      return keys;
    });
    await this.store.open();
    const log = await this.store.metaLog('core');
    const state = Journal.replay(log);
    this.nextPartition = Math.max(1, state.nextPartition);
    this.journal = new Journal(log, this.options.snapshotEvery ?? 10_000, () => this.snapshotState(), (err) =>
      this.warn({ err: String(err) }, 'journal write failed (acks may be redelivered after a restart)'),
    );
    const ctx = this.ctx();
    for (const [name, vs] of Object.entries(state.vhosts)) {
      const vh = new VhostImpl(name, vs.options, ctx);
      vh.restore(vs, state.cursors, state.delivered);
      this.vhosts.set(name, vh);
    }
    for (const vh of this.vhosts.values()) await vh.loadQueues();
    // Delayed messages and redrive journals (docs/business.md): their partitions are not in the journal.
    this.nextPartition = Math.max(this.nextPartition, (await this.delays.open()) + 1);
    await recoverRedrives(this.vhosts.values(), this.delays.redriveMarkerPartitions());
    await resumeRedrives(this.vhosts, this.store, (f, m) => this.warn(f, m));
    const def = this.options.defaultVhost ?? '/';
    if (!this.vhosts.has(def)) await this.declareVhost(def, {});
    // Users live in their own meta log: credentials never mix with definitions snapshots.
    await this.users.open(await this.store.metaLog('users'), def);
    // Compact the history into one snapshot now that the state is rebuilt.
    await this.journal.snapshot();
    this.opened = true;
    const alarmMs = this.options.alarmCheckIntervalMs ?? 1000;
    if (alarmMs > 0 && (this.options.memoryHighWatermarkBytes || this.options.diskFreeLimitBytes)) {
      this.alarmTimer = setInterval(() => void this.checkResources(), alarmMs);
      this.alarmTimer.unref();
    }
    this.delays.start();
    const sweepMs = this.options.sweepIntervalMs ?? 1000;
    if (sweepMs > 0) {
      this.sweepTimer = setInterval(() => void this.sweep(), sweepMs);
      this.sweepTimer.unref();
    }
  }

  /** Expires messages and queues and applies stream retention. Exposed for tests through `sweepNow`. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const vh of this.vhosts.values()) await vh.sweep(now);
    await this.store.reclaim(now);
    // Compaction runs in the background (it can take long); one pass at a time.
    this.compacting ??= this.compactStreams().finally(() => (this.compacting = null));
  }

  /** Compacts compacted streams until none is eligible, never past a partition's last stable offset. */
  private async compactStreams(): Promise<void> {
    const where = new Map<number, [string, string, number]>();
    for (const vh of this.vhosts.values()) {
      for (const s of vh.streamsByName.values()) s.partitionIds.forEach((id, i) => where.set(id, [vh.name, s.name, i]));
    }
    const stableOffset = (id: number): number => {
      const hw = this.store.endOffset(id);
      const w = where.get(id);
      return w && this.lsoHook ? this.lsoHook(w[0], w[1], w[2], hw) : hw;
    };
    try {
      for (;;) {
        if (!this.opened) break;
        const report = await this.store.compact({ now: this.now(), stableOffset });
        if (report === null) break;
        this.options.onCompacted?.(report);
      }
    } catch (err) {
      this.warn({ err: String(err) }, 'stream compaction failed; it is retried at the next sweep');
    }
  }

  private snapshotState(): JournalState {
    const cursors: Record<number, CursorState> = {};
    const delivered: Record<number, number> = {};
    const vhosts: JournalState['vhosts'] = {};
    for (const [name, vh] of this.vhosts) vhosts[name] = vh.snapshot(cursors, delivered);
    return { nextPartition: this.nextPartition, vhosts, cursors, delivered };
  }

  async flush(): Promise<void> {
    await this.settlePending();
    if (this.journal) await this.journal.flush();
    await this.store.flush();
  }

  /** Waits for dead-lettered sources whose copies are still being made durable. */
  private async settlePending(): Promise<void> {
    for (const vh of this.vhosts.values()) while (vh.pendingSettles.size > 0) await Promise.all([...vh.pendingSettles]);
  }

  async close(): Promise<void> {
    if (this.alarmTimer) clearInterval(this.alarmTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.alarmTimer = this.sweepTimer = null;
    for (const vh of this.vhosts.values()) {
      for (const c of [...vh.connections]) {
        c.closed = true;
        vh.connections.delete(c);
      }
      for (const s of vh.streamsByName.values()) s.wakeAll();
      for (const c of vh.streamConsumers) c.cancel();
      for (const q of vh.queuesByName.values()) q.clearDeadline();
    }
    await this.delays.close();
    await this.settlePending();
    if (this.journal) await this.journal.close();
    this.journal = null;
    this.opened = false;
    await this.store.close();
  }

  vhost(name: string): Vhost {
    return this.vhostImpl(name);
  }

  private vhostImpl(name: string): VhostImpl {
    const vh = this.vhosts.get(name);
    if (!vh) throw new NotFound(`no vhost '${name}'`);
    return vh;
  }

  hasVhost(name: string): boolean {
    return this.vhosts.has(name);
  }

  vhostNames(): string[] {
    return [...this.vhosts.keys()];
  }

  async declareVhost(name: string, options: VhostOptions = {}): Promise<Vhost> {
    const clean: VhostOptions = {};
    if (options.durability) clean.durability = options.durability;
    if (options.limits) clean.limits = { ...options.limits };
    const existing = this.vhosts.get(name);
    if (existing) {
      if (JSON.stringify(existing.options) === JSON.stringify(clean)) return existing;
      existing.options = clean;
    }
    const vh = existing ?? new VhostImpl(name, clean, this.ctx());
    this.vhosts.set(name, vh);
    await this.journal!.write({ t: 'vhost', v: name, o: clean });
    return vh;
  }

  async deleteVhost(name: string): Promise<void> {
    const vh = this.vhostImpl(name);
    for (const c of [...vh.connections]) await c.close();
    for (const q of [...vh.queuesByName.values()]) await vh.deleteQueueNow(q, 'vhost deleted');
    for (const s of [...vh.streamsByName.keys()]) await vh.deleteStream(s);
    this.vhosts.delete(name);
    await this.delays.forgetVhost(name);
    await this.journal!.write({ t: 'vhost-', v: name });
  }

  connect(options: ConnectOptions): Connection {
    const vh = this.vhosts.get(options.vhost);
    if (!vh) throw new NotAllowed(`vhost '${options.vhost}' does not exist`);
    const perUser = this.options.maxConnectionsPerUser ?? -1;
    if (perUser >= 0 && options.user) {
      let n = 0;
      for (const v of this.vhosts.values()) for (const c of v.connections) if (c.origin.user === options.user) n++;
      if (n >= perUser) throw new ResourceError(`user '${options.user}' has reached its limit of ${perUser} connections`);
    }
    const c = new ConnectionImpl(`conn-${++this.connectionSeq}`, vh, { protocol: options.protocol, clientId: options.clientId ?? '', user: options.user ?? '' }, options);
    vh.addConnection(c);
    return c;
  }

  connections(): ConnectionInfo[] {
    const out: ConnectionInfo[] = [];
    for (const vh of this.vhosts.values()) for (const c of vh.connections) if (!c.internal) out.push(c.info());
    return out;
  }

  async closeConnection(id: string, reason: string): Promise<boolean> {
    for (const vh of this.vhosts.values()) {
      for (const c of vh.connections) {
        if (c.id !== id) continue;
        await c.requestClose(reason);
        return true;
      }
    }
    return false;
  }

  private groupSource: ((vhost: string) => GroupMembership[]) | null = null;

  setGroupMembershipSource(source: ((vhost: string) => GroupMembership[]) | null): void {
    this.groupSource = source;
  }

  groupMemberships(vhost: string): GroupMembership[] {
    return this.groupSource ? this.groupSource(vhost) : [];
  }

  messageTotals(): MessageTotals {
    return { published: { ...this.counts.published }, delivered: { ...this.counts.delivered } };
  }

  onAlarm(listener: (event: AlarmEvent) => void): () => void {
    this.alarmListeners.add(listener);
    return () => this.alarmListeners.delete(listener);
  }

  get alarms(): ReadonlySet<AlarmKind> {
    return this.activeAlarms;
  }

  get blocked(): boolean {
    return this.activeAlarms.size > 0;
  }

  setAlarm(kind: AlarmKind, active: boolean): void {
    if (this.activeAlarms.has(kind) === active) return;
    if (active) this.activeAlarms.add(kind);
    else this.activeAlarms.delete(kind);
    this.warn({ alarm: kind, active }, active ? 'resource alarm raised: publishers blocked' : 'resource alarm cleared');
    const e: AlarmEvent = { kind, active, blocked: this.blocked };
    for (const l of [...this.alarmListeners]) l(e);
  }

  async checkResources(): Promise<void> {
    const mem = this.options.memoryHighWatermarkBytes ?? 0;
    if (mem > 0) this.setAlarm('memory', process.memoryUsage.rss() > mem);
    const disk = this.options.diskFreeLimitBytes ?? 0;
    if (disk > 0 && this.options.dataDir) {
      try {
        const st = await statfs(this.options.dataDir);
        this.setAlarm('disk', st.bavail * st.bsize < disk);
      } catch (err) {
        this.warn({ dir: this.options.dataDir, err: String(err) }, 'cannot check free disk space');
      }
    }
  }

  get writable(): boolean {
    return this.store.writable;
  }

  whenWritable(): Promise<void> {
    return this.store.whenWritable();
  }

  setLastStableOffsetHook(hook: ((vhost: string, stream: string, partition: number, highWatermark: number) => number) | null): void {
    this.lsoHook = hook;
  }
}

/**
 * Creates the core on a Store (not yet opened). `open()` opens the store, recovers
 * definitions, messages, unacked deliveries (as redelivered) and committed offsets, and
 * creates the default vhost; `close()` closes the store.
 */
export function createCore(store: Store, options: CoreOptions = {}): Core {
  return new CoreImpl(store, options);
}


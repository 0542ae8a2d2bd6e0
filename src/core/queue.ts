/**
 * A queue: ready messages in offset order (per priority level for `x-max-priority`), competing
 * consumers with credit, acks, requeue at the head, TTL, length limits and the hooks that
 * dead-letter and persist cursors (QueueHost, implemented by the vhost).
 *
 * The bodies of ready messages stay in memory (the Message the publisher handed in, shared by
 * every queue it was routed to); on restart they are read back from the store.
 */
import type { Arguments, Delivery, DurabilityMode, GetResult, QueueType } from './api.js';
import { Consumer, type DeliveryChannel, type PendingDelivery, type QueueLike } from './consumer.js';
import type { Message } from './message.js';
import type { QueueSettings } from './queue-args.js';
import type { Binding, Routable } from './exchange.js';
import { ReadyList } from './ready-list.js';
import type { PublisherFlow } from './publisher-flow.js';

export interface QueueEntry {
  /** Offset in the queue's store partition (durable queues) or a per-queue counter. */
  offset: number;
  message: Message;
  size: number;
  /** Absolute deadline, ms; Infinity when none. */
  expiresAt: number;
  /**
   * TTL 0 ("deliver now or never", RabbitMQ): deliverable only by the dispatch of the tick it
   * arrived in, to a consumer with credit, never by `get`; dead-lettered as expired otherwise.
   */
  immediate: boolean;
  priority: number;
  /** Times delivered so far. */
  deliveries: number;
  redelivered: boolean;
  /** Queues with filtering consumers: the consumer-set epoch at which no consumer accepted it. */
  rejectedAt?: number;
}

export type DeathReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** What a queue needs from its vhost. */
export interface QueueHost {
  now(): number;
  /** Runs `q.dispatch()` soon (once per tick however often it is called). */
  scheduleDispatch(q: Queue): void;
  /** The entry left the queue for good: persist the ack and release the stored entry. */
  settle(q: Queue, e: QueueEntry): void;
  /** Dead-letters entries (settles each once the target holds it) or settles them when there is no DLX. */
  deadLetter(q: Queue, entries: QueueEntry[], reason: DeathReason): void;
  /** Called once per delivery: the delivered mark used to flag recovered messages as redelivered. */
  delivered(q: Queue, e: QueueEntry): void;
  /** The last consumer went away (auto-delete). */
  consumersGone(q: Queue): void;
  /** Publisher flow control (publisher-flow.ts). */
  readonly flow: PublisherFlow;
  /** The queue's next deadline came (a message TTL at its head, or x-expires): expire what is due. */
  deadline(q: Queue): void;
  /** False when expiry is driven by hand (`sweepIntervalMs` 0: tests with a hand-driven clock). */
  readonly deadlineTimers: boolean;
}

export class Queue implements QueueLike, Routable {
  readonly kind = 'queue' as const;
  routeMark = 0;
  boundBy: Binding[] | null = null;
  deleted = false;
  /** Durable cursor: every offset below is settled; `settled` holds settled offsets above it. */
  markDelete = 0;
  settled: Set<number> | null = null;
  /** Highest offset delivered (recovered messages at or below it are flagged redelivered). */
  deliveredMark = -1;
  /** Store partition id, -1 for transient queues. */
  partition = -1;
  /** Durability mode of appends (durable queues). */
  durability: DurabilityMode = 'none';
  /** The mode given at declaration, if any (else the vhost's). */
  durabilityOption: DurabilityMode | undefined = undefined;
  /** Next offset for transient queues. */
  nextOffset = 0;
  owner: string | null = null;
  hadConsumer = false;
  lastUsed: number;
  unackedCount = 0;
  readyBytes = 0;
  /** Publishers are throttled until this queue's backlog drains (publisher-flow.ts). */
  flowWaiting = false;
  /** Delivered nothing while publishers waited: throttles no one until it delivers again. */
  flowStalled = false;
  /** Cumulative counts for management rates. */
  readonly stats = { published: 0, delivered: 0, acked: 0, deadLettered: 0 };
  /** Entries carrying a deadline (skip TTL sweeps when 0). */
  expiring = 0;
  /** One timer for the queue's earliest known deadline (message TTL at the head, x-expires). */
  private deadlineTimer: NodeJS.Timeout | null = null;
  private deadlineAt = Infinity;
  /** Ready entries with TTL 0 waiting for this tick's dispatch. */
  private immediateCount = 0;
  /** FIFO queues: one list; priority queues: one list per level (separate fields keep access monomorphic). */
  private fifo: ReadyList<QueueEntry> | null = null;
  private levels: ReadyList<QueueEntry>[] | null = null;
  private readyCount = 0;
  consumers: Consumer[] = [];
  private rr = 0;
  private dispatching = false;

  constructor(
    readonly name: string,
    readonly vhostName: string,
    readonly durable: boolean,
    readonly exclusive: boolean,
    readonly autoDelete: boolean,
    readonly args: Arguments,
    public settings: QueueSettings,
    public effectiveArgs: Arguments,
    private readonly host: QueueHost,
  ) {
    this.lastUsed = host.now();
  }

  get type(): QueueType {
    return this.settings.type;
  }
  get messageCount(): number {
    return this.readyCount;
  }
  get consumerCount(): number {
    return this.consumers.length;
  }
  describe(): string {
    return `queue '${this.name}' in vhost '${this.vhostName}'`;
  }

  // Ready list ---------------------------------------------------------------------------

  private level(priority: number): ReadyList<QueueEntry> {
    const max = this.settings.maxPriority;
    if (max === 0) return (this.fifo ??= new ReadyList<QueueEntry>());
    const levels = (this.levels ??= []);
    const p = priority > max ? max : priority;
    return (levels[p] ??= new ReadyList<QueueEntry>());
  }

  private headList(): ReadyList<QueueEntry> | null {
    if (this.readyCount === 0) return null;
    if (this.fifo !== null && this.fifo.length > 0) return this.fifo;
    const levels = this.levels;
    if (levels === null) return null;
    for (let p = levels.length - 1; p >= 0; p--) {
      const l = levels[p];
      if (l && l.length > 0) return l;
    }
    return null;
  }

  private lists(): ReadyList<QueueEntry>[] {
    const out: ReadyList<QueueEntry>[] = [];
    if (this.fifo) out.push(this.fifo);
    if (this.levels) for (const l of this.levels) if (l) out.push(l);
    return out;
  }

  private added(e: QueueEntry): void {
    this.readyCount++;
    this.readyBytes += e.size;
    if (e.expiresAt !== Infinity) this.expiring++;
    if (e.immediate) this.immediateCount++;
  }
  private removed(e: QueueEntry): void {
    this.readyCount--;
    this.readyBytes -= e.size;
    if (e.expiresAt !== Infinity) this.expiring--;
    if (e.immediate) this.immediateCount--;
  }

  /** Removes the ready entries `pred` selects, in offset order. */
  private removeReady(pred: (e: QueueEntry) => boolean): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (const l of this.lists()) {
      for (const e of l.removeWhere(pred)) {
        this.removed(e);
        out.push(e);
      }
    }
    if (this.levels) out.sort((a, b) => a.offset - b.offset);
    return out;
  }

  /**
   * Takes the head message, dead-lettering expired ones on the way (never delivers them).
   * `forConsumer`: a TTL-0 message that was never delivered may still go to a consumer.
   */
  private takeHead(forConsumer: boolean): QueueEntry | undefined {
    let expired: QueueEntry[] | null = null;
    let out: QueueEntry | undefined;
    for (;;) {
      const l = this.headList();
      if (!l) break;
      const e = l.shift()!;
      this.removed(e);
      if (e.expiresAt !== Infinity && (e.immediate ? !(forConsumer && e.deliveries === 0) : e.expiresAt <= this.host.now())) {
        (expired ??= []).push(e);
        continue;
      }
      out = e;
      break;
    }
    if (expired) this.host.deadLetter(this, expired, 'expired');
    return out;
  }

  /** True when one more message of `size` bytes would exceed a length limit. */
  isFull(size: number): boolean {
    const s = this.settings;
    return (s.maxLength !== null && this.readyCount + 1 > s.maxLength) || (s.maxLengthBytes !== null && this.readyBytes + size > s.maxLengthBytes);
  }

  /** The entry most recently given to `enqueue` (half messages find their entry by it). */
  lastEntry: QueueEntry | null = null;

  /** Removes the ready entries `pred` selects (the caller settles them). */
  removeEntries(pred: (e: QueueEntry) => boolean): QueueEntry[] {
    return this.removeReady(pred);
  }

  /** Adds a newly published (or recovered) message; with drop-head, drops from the head to fit. */
  enqueue(e: QueueEntry): void {
    this.lastEntry = e;
    // TTL 0 behind other messages or without a consumer able to take it: expired on arrival.
    if (e.immediate && (this.readyCount > 0 || !this.consumers.some((c) => c.canTake()))) {
      this.host.deadLetter(this, [e], 'expired');
      return;
    }
    this.level(e.priority).push(e);
    this.stats.published++;
    this.added(e);
    if (e.expiresAt !== Infinity && !e.immediate) this.armDeadline(e.expiresAt);
    this.dropOverflow();
    if (this.consumers.length > 0) {
      this.host.scheduleDispatch(this);
      if (this.readyCount >= this.host.flow.backlog) this.host.flow.backlogged(this);
    }
  }

  /**
   * x-overflow drop-head: drops (dead-letters, reason maxlen) from the head while over a limit.
   * Runs after publishes and after requeues, as RabbitMQ's maybe_drop_head does.
   */
  private dropOverflow(): void {
    const s = this.settings;
    if ((s.maxLength === null && s.maxLengthBytes === null) || s.overflow !== 'drop-head') return;
    let dropped: QueueEntry[] | null = null;
    const dlx = s.deadLetterExchange !== null;
    while (this.readyCount > 0 && ((s.maxLength !== null && this.readyCount > s.maxLength) || (s.maxLengthBytes !== null && this.readyBytes > s.maxLengthBytes))) {
      const l = this.headList()!;
      const d = l.shift()!;
      this.removed(d);
      if (dlx) (dropped ??= []).push(d);
      else this.host.settle(this, d);
    }
    if (dropped) this.host.deadLetter(this, dropped, 'maxlen');
  }

  /** Puts entries back at their place (requeue), or dead-letters those past the delivery limit. */
  requeue(entries: QueueEntry[]): void {
    const limit = this.settings.deliveryLimit;
    let poison: QueueEntry[] | null = null;
    for (const e of entries) {
      if (limit !== null && e.deliveries > limit) {
        (poison ??= []).push(e);
        continue;
      }
      e.redelivered = true;
      this.level(e.priority).insert(e);
      this.added(e);
    }
    if (poison) this.host.deadLetter(this, poison, 'delivery_limit');
    this.dropOverflow();
    if (this.consumers.length > 0) {
      this.host.scheduleDispatch(this);
      if (this.readyCount >= this.host.flow.backlog) this.host.flow.backlogged(this);
    }
  }

  /** Removes the ready entries in `which` (redrive); returns them in offset order. */
  takeReady(which: ReadonlySet<QueueEntry>): QueueEntry[] {
    return this.removeReady((e) => which.has(e));
  }

  /** Removes every ready message; returns them (the caller settles them). */
  takeAllReady(): QueueEntry[] {
    const out: QueueEntry[] = [];
    // One push per entry: a spread of a list of 120k+ entries overflows the call stack.
    for (const l of this.lists()) for (const e of l.clear()) out.push(e);
    if (this.levels) out.sort((a, b) => a.offset - b.offset);
    this.readyCount = 0;
    this.readyBytes = 0;
    this.expiring = 0;
    return out;
  }

  /** Removes expired ready messages anywhere in the queue and dead-letters them. */
  expire(now: number): void {
    if (this.expiring === 0) return;
    const expired = this.removeReady((x) => x.expiresAt <= now);
    if (expired.length > 0) this.host.deadLetter(this, expired, 'expired');
  }

  /**
   * Expires messages at the head whose TTL has passed (RabbitMQ expires at the head, on time),
   * then arms the timer for the next deadline: the new head's TTL, or x-expires while unused.
   * The periodic sweep still walks the whole queue for messages behind one without a TTL.
   */
  expireHead(now: number): void {
    let expired: QueueEntry[] | null = null;
    for (let l = this.headList(); l !== null; l = this.headList()) {
      const e = l.peek();
      if (e === undefined || e.expiresAt > now || e.immediate) break;
      l.shift();
      this.removed(e);
      (expired ??= []).push(e);
    }
    if (expired) this.host.deadLetter(this, expired, 'expired');
    const head = this.headList()?.peek();
    if (head !== undefined && head.expiresAt !== Infinity && head.expiresAt > now) this.armDeadline(head.expiresAt);
    this.armIdleExpiry();
  }

  /** x-expires: the queue is deleted once unused that long (no consumers, no declare or get). */
  armIdleExpiry(): void {
    const ttl = this.settings.expires;
    if (ttl !== null && this.consumers.length === 0 && !this.deleted) this.armDeadline(this.lastUsed + ttl);
  }

  private armDeadline(at: number): void {
    if (at >= this.deadlineAt || this.deleted || !this.host.deadlineTimers) return;
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    // setTimeout takes at most 2^31-1 ms; a later deadline is re-armed when this one fires.
    const ms = Math.min(Math.max(at - this.host.now(), 0), 0x7fffffff);
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null;
      this.deadlineAt = Infinity;
      if (!this.deleted) this.host.deadline(this);
    }, ms);
    this.deadlineTimer.unref();
  }

  /** Stops the deadline timer (the queue is deleted). */
  clearDeadline(): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.deadlineAt = Infinity;
  }

  /** Every ready entry (recovery, snapshots). */
  *readyEntries(): IterableIterator<QueueEntry> {
    for (const l of this.lists()) yield* l;
  }

  // Consumers ----------------------------------------------------------------------------

  /** Consumers with a server-side filter: while any is here, dispatch looks past the head. */
  private filteredConsumers = 0;
  /** Changes whenever the set of consumers changes: a message nobody accepted may now be taken. */
  private consumerEpoch = 0;

  addConsumer(c: Consumer): void {
    this.consumerEpoch++;
    if (c.filter !== null) this.filteredConsumers++;
    if (this.settings.singleActiveConsumer) {
      const current = this.activeConsumer();
      c.active = current === null;
      if (current && c.priority > current.priority && current.unacked === 0) {
        // A higher-priority consumer takes over when the current one holds nothing (RabbitMQ 3.12).
        current.active = false;
        c.active = true;
        current.onActiveChange?.(false);
      }
    }
    this.consumers.push(c);
    this.hadConsumer = true;
    this.lastUsed = this.host.now();
    this.host.scheduleDispatch(this);
  }

  private activeConsumer(): Consumer | null {
    for (const c of this.consumers) if (c.active) return c;
    return null;
  }

  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    c.cancelled = true;
    this.consumerEpoch++;
    if (c.filter !== null) this.filteredConsumers--;
    if (this.rr > i) this.rr--;
    this.lastUsed = this.host.now();
    if (this.settings.singleActiveConsumer && c.active && this.consumers.length > 0) {
      // Fail over to the next consumer: highest priority, then oldest.
      let next = this.consumers[0]!;
      for (const x of this.consumers) if (x.priority > next.priority) next = x;
      next.active = true;
      next.onActiveChange?.(true);
    }
    if (this.consumers.length === 0) {
      this.host.consumersGone(this);
      this.armIdleExpiry();
    } else this.host.scheduleDispatch(this);
  }

  /** Picks the next consumer with credit: highest priority first, round robin within it. */
  private pickConsumer(): Consumer | null {
    const cs = this.consumers;
    const n = cs.length;
    if (n === 0) return null;
    if (n === 1) return cs[0]!.canTake() ? cs[0]! : null;
    let best: Consumer | null = null;
    let bestIndex = -1;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      const c = cs[i]!;
      if ((best === null || c.priority > best.priority) && c.canTake()) {
        best = c;
        bestIndex = i;
      }
    }
    if (best) this.rr = (bestIndex + 1) % n;
    return best;
  }

  /** Delivers ready messages to consumers while both last. */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    const delivered = this.stats.delivered;
    try {
      if (this.filteredConsumers > 0) this.dispatchFiltered();
      else while (this.readyCount > 0) {
        const c = this.pickConsumer();
        if (!c) break;
        const e = this.takeHead(true);
        if (!e) break;
        this.deliver(e, c);
      }
    } finally {
      this.dispatching = false;
    }
    if (this.stats.delivered !== delivered) {
      this.flowStalled = false;
      if (this.flowWaiting && this.readyCount <= this.host.flow.backlog / 2) this.host.flow.drained(this);
    }
    // TTL-0 messages this dispatch could not hand out have missed their only chance.
    if (this.immediateCount > 0) this.host.deadLetter(this, this.removeReady((x) => x.immediate), 'expired');
  }

  /** The consumer with credit that takes `m`: highest priority first, round robin within it. */
  private pickConsumerFor(m: Message): Consumer | null {
    const cs = this.consumers;
    const n = cs.length;
    let best: Consumer | null = null;
    let bestIndex = -1;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      const c = cs[i]!;
      if ((best === null || c.priority > best.priority) && c.canTake() && (c.filter === null || c.filter.accepts(m))) {
        best = c;
        bestIndex = i;
      }
    }
    if (best) this.rr = (bestIndex + 1) % n;
    return best;
  }

  /**
   * Dispatch when some consumer filters: walks the ready messages in order (highest priority
   * level first) and gives each to a consumer that accepts it; a message no consumer accepts
   * stays where it is for later consumers (ActiveMQ's selector semantics on a queue).
   */
  private dispatchFiltered(): void {
    const lists = this.lists();
    if (this.levels) lists.reverse(); // fifo is absent on priority queues: highest level first
    const taken = new Set<QueueEntry>();
    const now = this.host.now();
    const epoch = this.consumerEpoch;
    let expired: QueueEntry[] | null = null;
    let out: (Consumer | Delivery)[] | null = null;
    // Delivering does not change the ready lists (removal comes after the walk), so they are
    // walked in place. A message no current consumer accepts is marked with the epoch and not
    // evaluated again until the consumers change.
    scan: for (const l of lists) {
      for (const e of l) {
        if (e.rejectedAt === epoch && (e.expiresAt === Infinity || e.immediate)) continue;
        if (!this.consumers.some((c) => c.canTake())) break scan;
        if (e.expiresAt !== Infinity && !e.immediate && e.expiresAt <= now) {
          taken.add(e);
          (expired ??= []).push(e);
          continue;
        }
        if (e.rejectedAt === epoch) continue;
        const c = this.pickConsumerFor(e.message);
        if (c === null) {
          if (!this.consumers.some((x) => x.filter === null || x.filter.accepts(e.message))) e.rejectedAt = epoch;
          continue;
        }
        taken.add(e);
        // Bookkeeping now (credit), the consumer's callback after the lists are settled: a
        // callback may requeue synchronously, which must not meet a half-walked list.
        (out ??= []).push(c, this.makeDelivery(e, c.channel, c, c.noAck));
      }
    }
    if (taken.size === 0) return;
    for (const l of lists) for (const e of l.removeWhere((x) => taken.has(x))) this.removed(e);
    if (expired) this.host.deadLetter(this, expired, 'expired');
    if (out) for (let i = 0; i < out.length; i += 2) (out[i] as Consumer).onDelivery(out[i + 1] as Delivery);
  }

  private deliver(e: QueueEntry, c: Consumer): void {
    const d = this.makeDelivery(e, c.channel, c, c.noAck);
    c.onDelivery(d);
  }

  private makeDelivery(e: QueueEntry, ch: DeliveryChannel, c: Consumer | null, noAck: boolean): Delivery {
    const redelivered = e.redelivered;
    const count = e.deliveries;
    e.deliveries++;
    e.redelivered = true;
    this.stats.delivered++;
    this.host.delivered(this, e);
    let tag: number;
    if (noAck) {
      tag = ch.nextTag();
      this.stats.acked++;
      this.host.settle(this, e);
    } else {
      tag = ch.track({ queue: this, entry: e, consumer: c });
      this.unackedCount++;
      if (c) c.unacked++;
    }
    return {
      deliveryTag: tag,
      consumerTag: c ? c.tag : null,
      queue: this.name,
      message: e.message,
      redelivered,
      deliveryCount: count,
      expiresAt: e.expiresAt === Infinity ? null : e.expiresAt,
      offset: e.offset,
    };
  }

  /** basic.get: the head message, or null. */
  get(ch: DeliveryChannel, noAck: boolean): GetResult | null {
    this.lastUsed = this.host.now();
    const e = this.takeHead(false);
    if (!e) return null;
    const d = this.makeDelivery(e, ch, null, noAck) as GetResult;
    d.messageCount = this.readyCount;
    return d;
  }

  // Acks (called by channels) -------------------------------------------------------------

  settleDelivery(p: PendingDelivery): void {
    this.unackedCount--;
    this.stats.acked++;
    if (p.consumer) {
      p.consumer.unacked--;
      if (this.consumers.length > 0) this.host.scheduleDispatch(this);
    }
    if (!this.deleted) this.host.settle(this, p.entry as QueueEntry);
  }

  /**
   * Takes back unacked deliveries: requeued, or dead-lettered (`deadLetterInstead`). When the
   * channel closed (`disconnected`) and the queue has x-retry-on-disconnect, they count as
   * failed attempts (the retry path of a rejection).
   */
  returnDeliveries(ps: PendingDelivery[], deadLetterInstead: boolean, disconnected = false): void {
    if (disconnected && this.settings.retryOnDisconnect && this.settings.retryDelaysMs !== null) deadLetterInstead = true;
    const entries: QueueEntry[] = [];
    for (const p of ps) {
      this.unackedCount--;
      if (p.consumer) p.consumer.unacked--;
      entries.push(p.entry as QueueEntry);
    }
    if (this.deleted) return;
    if (deadLetterInstead) {
      this.host.deadLetter(this, entries, 'rejected');
      // Credit came back: the next message can go out.
      if (this.consumers.length > 0) this.host.scheduleDispatch(this);
    } else {
      entries.sort((a, b) => a.offset - b.offset);
      this.requeue(entries);
    }
  }
}

/**
 * A virtual host: its exchanges, queues, streams, bindings, policies and group offsets, the
 * publish path (route -> one store append with N targets -> enqueue) and the QueueHost hooks
 * (settle, dead-letter, auto-delete). Stream reads and produce live in vhost-streams.ts.
 */
import { randomBytes } from 'node:crypto';
import type { AppendTarget, DurabilityMode, Store } from '../../storage/types.js';
import type {
  Arguments,
  BindingInfo,
  CommittedOffset,
  ConsumeOptions,
  DeleteQueueOptions,
  ExchangeInfo,
  ExchangeOptions,
  ExchangeType,
  GetResult,
  OffsetSpec,
  PartitionOffsets,
  Policy,
  ProduceOptions,
  ProduceRecord,
  ProduceResult,
  PublishResult,
  QueueDeclareResult,
  QueueInfo,
  QueueOptions,
  StreamBatch,
  StreamInfo,
  StreamMessage,
  StreamOptions,
  Vhost,
  VhostOptions,
} from './api.js';
import type { ChannelImpl } from './channel.js';
import type { ConnectionImpl } from './connection.js';
import { Consumer } from './consumer.js';
import { deadLetterMessage, isDeadLetterCycle, publishedRoutingKeys } from './dead-letter.js';
import { AccessRefused, MessageTooLarge, NotAllowed, NotFound, PreconditionFailed, ResourceError, ResourceLocked } from './errors.js';
import { Exchange, argsKey, type Routable } from './exchange.js';
import type { BindingDef, CursorState, Journal, VhostState } from './journal.js';
import { settledSet, toRanges } from './journal.js';
import type { Header, Message, MessageOrigin } from './message.js';
import { checkEquivalentArgs, effectiveArguments, parseQueueSettings, pickPolicy } from './queue-args.js';
import { Queue, type DeathReason, type QueueEntry, type QueueHost } from './queue.js';
import { encodeMessageBatch } from './record-codec.js';
import { StreamConsumer } from './stream-consumer.js';
import { Stream } from './stream.js';
import * as streams from './vhost-streams.js';

/** What a vhost needs from the core. */
export interface VhostContext {
  store: Store;
  journal: Journal;
  now(): number;
  maxMessageBytes: number;
  defaultDurability: DurabilityMode;
  allocatePartition(): number;
  scheduleDispatch(q: Queue): void;
  lastStableOffset(vhost: string, stream: string, partition: number, hw: number): number;
  warn(fields: Record<string, unknown>, msg: string): void;
}

const RESOLVED = Promise.resolve();
// Results without a durability promise to wait for are shared: no allocation per publish.
const UNROUTABLE: PublishResult = Object.freeze({ status: 'unroutable', destinations: 0, durable: RESOLVED });
const ROUTED: readonly PublishResult[] = Array.from({ length: 64 }, (_, n) => Object.freeze({ status: 'routed' as const, destinations: n, durable: RESOLVED }));
const DURABILITY_RANK: Record<DurabilityMode, number> = { none: 0, interval: 1, sync: 2 };
const DEFAULT_EXCHANGES: [string, ExchangeType][] = [
  ['', 'direct'],
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
];

/** Argument values as JSON-safe plain values (AMQP tables may carry Buffers and bigints). */
export function normalizeArgs(args: Arguments | undefined): Arguments {
  if (!args) return {};
  const out: Arguments = {};
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

export class VhostImpl implements Vhost, QueueHost {
  readonly exchangesByName = new Map<string, Exchange>();
  readonly queuesByName = new Map<string, Queue>();
  readonly streamsByName = new Map<string, Stream>();
  readonly streamConsumers = new Set<StreamConsumer>();
  private readonly policiesByName = new Map<string, Policy>();
  readonly offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  readonly connections = new Set<ConnectionImpl>();
  private routeStamp = 0;
  private visitStamp = 0;

  constructor(
    readonly name: string,
    public options: VhostOptions,
    readonly ctx: VhostContext,
  ) {
    for (const [n, t] of DEFAULT_EXCHANGES) this.exchangesByName.set(n, new Exchange(n, t, true, false, false, {}, name));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private get durability(): DurabilityMode {
    return this.options.durability ?? this.ctx.defaultDurability;
  }

  private where(kind: string, n: string): string {
    return `${kind} '${n}' in vhost '${this.name}'`;
  }

  now(): number {
    return this.ctx.now();
  }

  // Connections ------------------------------------------------------------------------------

  addConnection(c: ConnectionImpl): void {
    const max = this.options.limits?.maxConnections ?? -1;
    if (max >= 0 && this.connections.size >= max) throw new ResourceError(`connection limit (${max}) of vhost '${this.name}' is reached`);
    this.connections.add(c);
  }

  async connectionClosed(c: ConnectionImpl): Promise<void> {
    this.connections.delete(c);
    for (const q of [...this.queuesByName.values()]) if (q.exclusive && q.owner === c.id) await this.deleteQueueNow(q, 'exclusive queue owner closed');
  }

  // Exchanges --------------------------------------------------------------------------------

  async declareExchange(name: string, options: ExchangeOptions): Promise<ExchangeInfo> {
    const existing = this.exchangesByName.get(name);
    if (options.passive) {
      if (!existing) throw new NotFound(`no ${this.where('exchange', name)}`);
      return existing.info();
    }
    if (!['direct', 'fanout', 'topic', 'headers'].includes(options.type)) {
      throw new PreconditionFailed(`invalid exchange type '${options.type}' for ${this.where('exchange', name)}`);
    }
    const durable = options.durable ?? true;
    const autoDelete = options.autoDelete ?? false;
    const internal = options.internal ?? false;
    const args = normalizeArgs(options.arguments);
    const where = this.where('exchange', name);
    if (existing) {
      const cmp = (prop: string, cur: unknown, rec: unknown): void => {
        if (cur !== rec) throw new PreconditionFailed(`inequivalent arg '${prop}' for ${where}: received '${String(rec)}' but current is '${String(cur)}'`);
      };
      cmp('type', existing.type, options.type);
      cmp('durable', existing.durable, durable);
      cmp('auto_delete', existing.autoDelete, autoDelete);
      cmp('internal', existing.internal, internal);
      checkEquivalentArgs(existing.args, args, where);
      return existing.info();
    }
    if (name === '' || name.startsWith('amq.')) throw new AccessRefused(`${where}: exchange names starting with 'amq.' are reserved`);
    const ex = new Exchange(name, options.type, durable, autoDelete, internal, args, this.name);
    this.applyExchangePolicy(ex);
    this.exchangesByName.set(name, ex);
    if (durable) await this.ctx.journal.write({ t: 'x', v: this.name, d: { name, type: options.type, autoDelete, internal, arguments: args } });
    return ex.info();
  }

  private applyExchangePolicy(ex: Exchange): void {
    const ae = text(ex.args['alternate-exchange']) ?? text(pickPolicy(this.policiesByName.values(), ex.name, 'exchanges')?.definition['alternate-exchange']);
    ex.alternate = ae ?? null;
  }

  async deleteExchange(name: string, options: { ifUnused?: boolean } = {}): Promise<void> {
    if (name === '' || name.startsWith('amq.')) throw new AccessRefused(`cannot delete ${this.where('exchange', name)}: it is a default exchange`);
    const ex = this.exchangesByName.get(name);
    if (!ex) return;
    if (options.ifUnused && ex.bindingCount > 0) throw new PreconditionFailed(`${this.where('exchange', name)} in use`);
    await this.deleteExchangeNow(ex);
  }

  private async deleteExchangeNow(ex: Exchange): Promise<void> {
    if (this.exchangesByName.get(ex.name) !== ex) return;
    this.exchangesByName.delete(ex.name);
    for (const b of [...ex.bindings]) ex.remove(b);
    for (const b of [...(ex.boundBy ?? [])]) await this.removeBinding(b.source, ex, b.routingKey, b.argsKey, false);
    if (ex.durable) await this.ctx.journal.write({ t: 'x-', v: this.name, n: ex.name });
  }

  exchange(name: string): ExchangeInfo | null {
    return this.exchangesByName.get(name)?.info() ?? null;
  }

  exchanges(): ExchangeInfo[] {
    return [...this.exchangesByName.values()].map((e) => e.info());
  }

  private exchangeFor(name: string, what: string): Exchange {
    const ex = this.exchangesByName.get(name);
    if (!ex) throw new NotFound(`no ${this.where('exchange', name)}`);
    if (name === '') throw new AccessRefused(`operation not permitted on the default exchange (${what})`);
    return ex;
  }

  async bindExchange(destination: string, source: string, routingKey: string, args?: Arguments): Promise<void> {
    const dst = this.exchangeFor(destination, 'bind');
    const src = this.exchangeFor(source, 'bind');
    await this.addBinding(src, dst, routingKey, normalizeArgs(args));
  }

  async unbindExchange(destination: string, source: string, routingKey: string, args?: Arguments): Promise<void> {
    const dst = this.exchangeFor(destination, 'unbind');
    const src = this.exchangeFor(source, 'unbind');
    await this.removeBinding(src, dst, routingKey, argsKey(normalizeArgs(args)), true);
  }

  private isDurable(r: Routable): boolean {
    if (r instanceof Exchange) return r.durable;
    if (r instanceof Queue) return r.partition >= 0;
    return true;
  }

  private bindingDef(src: Exchange, dst: Routable, routingKey: string, args: Arguments): BindingDef {
    return { source: src.name, destination: dst.name, kind: dst.kind, routingKey, arguments: args };
  }

  async addBinding(src: Exchange, dst: Routable, routingKey: string, args: Arguments, journal = true): Promise<void> {
    const key = argsKey(args);
    if (src.find(dst, routingKey, key)) return;
    src.add(dst, routingKey, args);
    if (journal && src.durable && this.isDurable(dst)) await this.ctx.journal.write({ t: 'b', v: this.name, d: this.bindingDef(src, dst, routingKey, args) });
  }

  private async removeBinding(src: Exchange, dst: Routable, routingKey: string, key: string, autoDelete: boolean): Promise<void> {
    const b = src.find(dst, routingKey, key);
    if (!b) return;
    src.remove(b);
    if (src.durable && this.isDurable(dst) && !(dst instanceof Stream && src.name === 'amq.topic' && dst.bindToTopicExchange && routingKey === `${dst.name}.#`)) {
      await this.ctx.journal.write({ t: 'b-', v: this.name, d: this.bindingDef(src, dst, routingKey, b.args) });
    }
    if (autoDelete && src.autoDelete && src.bindingCount === 0) await this.deleteExchangeNow(src);
  }

  bindings(): BindingInfo[] {
    const out: BindingInfo[] = [];
    for (const ex of this.exchangesByName.values()) {
      for (const b of ex.bindings) out.push({ source: ex.name, destination: b.destination.name, destinationKind: b.destination.kind, routingKey: b.routingKey, arguments: b.args });
    }
    return out;
  }

  // Queues -----------------------------------------------------------------------------------

  /** A queue the caller may use: NotFound, or ResourceLocked for another connection's exclusive queue. */
  useQueue(name: string, connectionId: string | undefined): Queue {
    const q = this.queuesByName.get(name);
    if (!q) throw new NotFound(`no ${this.where('queue', name)}`);
    if (q.exclusive && q.owner !== null && q.owner !== connectionId) {
      throw new ResourceLocked(`cannot obtain exclusive access to locked ${q.describe()}`);
    }
    return q;
  }

  async declareQueue(name: string, options: QueueOptions = {}, connectionId?: string): Promise<QueueDeclareResult> {
    if (options.passive) {
      const s = this.streamsByName.get(name);
      if (s && !this.queuesByName.has(name)) return this.streamQueueCounts(s);
      const q = this.useQueue(name, connectionId);
      q.lastUsed = this.now();
      return { name, messageCount: q.messageCount, consumerCount: q.consumerCount };
    }
    if (name === '') name = `amq.gen-${randomBytes(16).toString('base64url')}`;
    const args = normalizeArgs(options.arguments);
    const durable = options.durable ?? false;
    const exclusive = options.exclusive ?? false;
    const autoDelete = options.autoDelete ?? false;
    const where = this.where('queue', name);
    if (name.startsWith('amq.') && !name.startsWith('amq.gen-') && !this.queuesByName.has(name)) {
      throw new AccessRefused(`${where}: queue names starting with 'amq.' are reserved`);
    }
    if (text(args['x-queue-type']) === 'stream') {
      const s = this.streamsByName.get(name);
      if (s) return this.streamQueueCounts(s);
      if (this.queuesByName.has(name)) throw new PreconditionFailed(`inequivalent arg 'x-queue-type' for ${where}: received 'stream' but current is 'classic'`);
      const ret = parseQueueSettings(args, where).maxAgeMs;
      const maxBytes = args['x-max-length-bytes'];
      const s2 = await this.createStream(name, {
        partitions: 1,
        retentionMs: ret ?? -1,
        retentionBytes: typeof maxBytes === 'number' ? maxBytes : -1,
        bindToTopicExchange: false,
        durability: options.durability,
      }, args);
      return this.streamQueueCounts(s2);
    }
    const existing = this.queuesByName.get(name);
    if (existing) {
      if (existing.exclusive && existing.owner !== null && existing.owner !== connectionId) {
        throw new ResourceLocked(`cannot obtain exclusive access to locked ${existing.describe()}`);
      }
      // RabbitMQ answers an exclusive redeclare of a shared queue with RESOURCE_LOCKED.
      if (exclusive && !existing.exclusive) throw new ResourceLocked(`cannot obtain exclusive access to locked ${existing.describe()}`);
      const cmp = (prop: string, cur: boolean, rec: boolean): void => {
        if (cur !== rec) throw new PreconditionFailed(`inequivalent arg '${prop}' for ${where}: received '${rec}' but current is '${cur}'`);
      };
      cmp('durable', existing.durable, durable);
      cmp('exclusive', existing.exclusive, exclusive);
      cmp('auto_delete', existing.autoDelete, autoDelete);
      checkEquivalentArgs(existing.args, args, where);
      existing.lastUsed = this.now();
      return { name, messageCount: existing.messageCount, consumerCount: existing.consumerCount };
    }
    if (this.streamsByName.has(name)) throw new PreconditionFailed(`inequivalent arg 'x-queue-type' for ${where}: received 'classic' but current is 'stream'`);
    const maxQueues = this.options.limits?.maxQueues ?? -1;
    if (maxQueues >= 0 && this.queuesByName.size >= maxQueues) throw new ResourceError(`queue limit (${maxQueues}) of vhost '${this.name}' is reached`);
    const eff = effectiveArguments(args, pickPolicy(this.policiesByName.values(), name, 'queues'));
    const settings = parseQueueSettings(eff, where);
    const q = new Queue(name, this.name, durable, exclusive, autoDelete, args, settings, eff, this);
    if (exclusive) q.owner = connectionId ?? null;
    this.queuesByName.set(name, q);
    // Exclusive queues die with their connection, so they are never written down.
    if (durable && !exclusive) {
      q.partition = this.ctx.allocatePartition();
      q.durability = options.durability ?? this.durability;
      q.durabilityOption = options.durability;
      this.ctx.store.setPolicy(q.partition, { kind: 'queue' });
      await this.ctx.journal.write({ t: 'q', v: this.name, d: { name, autoDelete, arguments: args, durability: options.durability, partition: q.partition } });
    }
    return { name, messageCount: 0, consumerCount: 0 };
  }

  private streamQueueCounts(s: Stream): QueueDeclareResult {
    const id = s.partitionIds[0]!;
    let consumers = 0;
    for (const c of this.streamConsumers) if (c.stream === s) consumers++;
    return { name: s.name, messageCount: this.ctx.store.endOffset(id) - this.ctx.store.startOffset(id), consumerCount: consumers };
  }

  async deleteQueue(name: string, options: DeleteQueueOptions = {}, connectionId?: string): Promise<number> {
    const s = this.streamsByName.get(name);
    if (s && !this.queuesByName.has(name)) {
      const n = this.streamQueueCounts(s).messageCount;
      await this.deleteStream(name);
      return n;
    }
    if (!this.queuesByName.has(name)) return 0;
    const q = this.useQueue(name, connectionId);
    if (options.ifUnused && q.consumerCount > 0) throw new PreconditionFailed(`${q.describe()} in use`);
    if (options.ifEmpty && q.messageCount > 0) throw new PreconditionFailed(`${q.describe()} not empty`);
    const n = q.messageCount;
    await this.deleteQueueNow(q, 'queue deleted');
    return n;
  }

  async deleteQueueNow(q: Queue, reason: string): Promise<void> {
    if (q.deleted) return;
    q.deleted = true;
    this.queuesByName.delete(q.name);
    for (const c of [...q.consumers]) {
      c.cancelled = true;
      (c.channel as ChannelImpl).consumerCancelled(c, reason);
    }
    q.consumers = [];
    q.takeAllReady();
    for (const b of [...(q.boundBy ?? [])]) await this.removeBinding(b.source, q, b.routingKey, b.argsKey, true);
    if (q.partition >= 0) {
      await this.ctx.journal.write({ t: 'q-', v: this.name, n: q.name });
      await this.ctx.store.dropPartition(q.partition);
    }
  }

  async purgeQueue(name: string, connectionId?: string): Promise<number> {
    const q = this.useQueue(name, connectionId);
    const entries = q.takeAllReady();
    for (const e of entries) this.settle(q, e);
    return entries.length;
  }

  queue(name: string): QueueInfo | null {
    const q = this.queuesByName.get(name);
    if (!q) {
      const s = this.streamsByName.get(name);
      if (!s || !s.queueArgs) return null;
      const c = this.streamQueueCounts(s);
      return { ...c, durable: true, exclusive: false, owner: null, autoDelete: false, arguments: s.queueArgs, effectiveArguments: s.queueArgs, type: 'stream', unackedCount: 0, messageBytes: 0 };
    }
    return {
      name: q.name,
      messageCount: q.messageCount,
      consumerCount: q.consumerCount,
      durable: q.durable,
      exclusive: q.exclusive,
      owner: q.owner,
      autoDelete: q.autoDelete,
      arguments: q.args,
      effectiveArguments: q.effectiveArgs,
      type: q.type,
      unackedCount: q.unackedCount,
      messageBytes: q.readyBytes,
    };
  }

  queues(): QueueInfo[] {
    const out: QueueInfo[] = [];
    for (const n of this.queuesByName.keys()) out.push(this.queue(n)!);
    for (const s of this.streamsByName.values()) if (s.queueArgs) out.push(this.queue(s.name)!);
    return out;
  }

  private destination(name: string, connectionId: string | undefined): Routable {
    const q = this.queuesByName.get(name);
    if (q) return this.useQueue(name, connectionId);
    const s = this.streamsByName.get(name);
    if (s) return s;
    throw new NotFound(`no ${this.where('queue', name)}`);
  }

  async bindQueue(queue: string, exchange: string, routingKey: string, args?: Arguments, connectionId?: string): Promise<void> {
    const dst = this.destination(queue, connectionId);
    const src = this.exchangeFor(exchange, 'bind');
    await this.addBinding(src, dst, routingKey, normalizeArgs(args));
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args?: Arguments, connectionId?: string): Promise<void> {
    const dst = this.destination(queue, connectionId);
    const src = this.exchangeFor(exchange, 'unbind');
    await this.removeBinding(src, dst, routingKey, argsKey(normalizeArgs(args)), true);
  }

  // Publishing -------------------------------------------------------------------------------

  /** Collects the queues and streams a message reaches from `ex` (each at most once). */
  private collect(ex: Exchange, routingKey: string, moreKeys: string[] | null, headers: readonly Header[], out: Routable[]): void {
    const stamp = ++this.routeStamp;
    this.collectKey(ex, routingKey, headers, out, stamp);
    if (moreKeys) for (const rk of moreKeys) this.collectKey(ex, rk, headers, out, stamp);
  }

  private collectKey(ex: Exchange, rk: string, headers: readonly Header[], out: Routable[], stamp: number): void {
    if (ex.name === '') {
      const d: Routable | undefined = this.queuesByName.get(rk) ?? this.streamsByName.get(rk);
      if (d && d.routeMark !== stamp) {
        d.routeMark = stamp;
        out.push(d);
      }
      return;
    }
    this.walk(ex, rk, headers, out, stamp, ++this.visitStamp);
  }

  /** Scratch destination lists, one per nesting level (a publish can dead-letter, which publishes). */
  private readonly scratch: Routable[][] = [];
  private depth = 0;
  private takeScratch(): Routable[] {
    const s = (this.scratch[this.depth++] ??= []);
    s.length = 0;
    return s;
  }
  private releaseScratch(s: Routable[]): void {
    s.length = 0;
    this.depth--;
  }

  /** Collects and stores with a scratch list; see `store`. */
  private route(ex: Exchange, routingKey: string, moreKeys: string[] | null, m: Message, deadLettered: boolean): PublishResult {
    const dests = this.takeScratch();
    try {
      this.collect(ex, routingKey, moreKeys, m.headers, dests);
      return this.store(dests, m, deadLettered);
    } finally {
      this.releaseScratch(dests);
    }
  }

  private walk(ex: Exchange, rk: string, headers: readonly Header[], out: Routable[], stamp: number, visit: number): void {
    ex.visitMark = visit;
    const before = out.length;
    let reached = false;
    const matches = ex.match(rk, headers);
    for (let i = 0; i < matches.length; i++) {
      const d = matches[i]!.destination;
      if (d.kind === 'exchange') {
        const x = d as Exchange;
        if (x.visitMark !== visit) {
          const n = out.length;
          this.walk(x, rk, headers, out, stamp, visit);
          if (out.length > n) reached = true;
        }
      } else {
        reached = true;
        if (d.routeMark !== stamp) {
          d.routeMark = stamp;
          out.push(d);
        }
      }
    }
    if (!reached && out.length === before && ex.alternate !== null) {
      const ae = this.exchangesByName.get(ex.alternate);
      if (ae && ae.visitMark !== visit) this.walk(ae, rk, headers, out, stamp, visit);
    }
  }

  /** Routes and stores a publish (see Channel.publish). */
  publish(exchangeName: string, routingKey: string, m: Message, _mandatory: boolean, origin: MessageOrigin | null): PublishResult {
    if (m.body.length > this.ctx.maxMessageBytes) {
      throw new MessageTooLarge(`message of ${m.body.length} bytes exceeds the max message size of ${this.ctx.maxMessageBytes} bytes`);
    }
    const ex = this.exchangesByName.get(exchangeName);
    if (!ex) throw new NotFound(`no ${this.where('exchange', exchangeName)}`);
    if (ex.internal) throw new AccessRefused(`cannot publish to internal ${ex.describe()}`);
    m.exchange = exchangeName;
    m.routingKey = routingKey;
    m.origin = origin;
    let keys: string[] | null = null;
    if (m.headers.length > 0) {
      let bcc = false;
      for (const h of m.headers) {
        if (h.name !== 'CC' && h.name !== 'BCC') continue;
        if (h.name === 'BCC') bcc = true;
        const vs = Array.isArray(h.value) ? h.value : [h.value];
        for (const v of vs) {
          const t = text(v);
          if (t !== undefined) (keys ??= []).push(t);
        }
      }
      if (bcc) {
        m.headers = m.headers.filter((h) => h.name !== 'BCC');
        m.native = null;
      }
    }
    return this.route(ex, routingKey, keys, m, false);
  }

  /**
   * Stores `m` once for every destination: one append with a target per durable queue and
   * stream partition, then an entry per queue. `deadLettered` applies the DLX cycle rule.
   */
  private store(dests: Routable[], m: Message, deadLettered: boolean): PublishResult {
    if (dests.length === 0) return UNROUTABLE;
    const now = this.now();
    const size = m.body.length;
    const persistent = m.properties.persistent === true;
    let rejected = false;
    let rank = -1;
    let targets: AppendTarget[] | null = null;
    let dlx: Queue[] | null = null;
    // Refused destinations are taken out of `dests` (compacted in place).
    let kept = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (d.kind === 'queue') {
        const q = d as Queue;
        if (deadLettered && isDeadLetterCycle(m, q.name)) {
          this.ctx.warn({ vhost: this.name, queue: q.name }, 'dead-letter cycle: message dropped');
          continue;
        }
        if (q.settings.overflow !== 'drop-head' && q.isFull(size)) {
          rejected = true;
          if (q.settings.overflow === 'reject-publish-dlx') (dlx ??= []).push(q);
          continue;
        }
        if (q.partition >= 0) {
          (targets ??= []).push({ partition: q.partition });
          const r = persistent ? DURABILITY_RANK[q.durability] : 0;
          if (r > rank) rank = r;
        }
      } else if (d.kind === 'stream') {
        const s = d as Stream;
        const p = s.partitionForRouted(m.key, m.routingKey);
        (targets ??= []).push({ partition: s.partitionIds[p]! });
        const r = DURABILITY_RANK[s.durability];
        if (r > rank) rank = r;
      } else continue;
      dests[kept++] = d;
    }
    dests.length = kept;
    let durable = RESOLVED;
    let offsets: number[] | null = null;
    if (targets !== null) {
      const mode: DurabilityMode = rank === 2 ? 'sync' : rank === 1 ? 'interval' : 'none';
      const res = this.ctx.store.append({ batch: encodeMessageBatch(m, now), recordCount: 1, firstTimestamp: m.timestamp, maxTimestamp: m.timestamp, targets, durability: mode });
      offsets = res.baseOffsets;
      if (rank > 0) durable = res.durable;
    }
    let ti = 0;
    const perMessageTtl = m.properties.expiration;
    const priority = m.properties.priority ?? 0;
    for (let i = 0; i < kept; i++) {
      const d = dests[i]!;
      if (d.kind === 'queue') {
        const q = d as Queue;
        const offset = q.partition >= 0 ? offsets![ti++]! : q.nextOffset++;
        const ttl = q.settings.messageTtl;
        let expiresAt = Infinity;
        if (ttl !== null) expiresAt = now + ttl;
        if (perMessageTtl !== undefined && now + perMessageTtl < expiresAt) expiresAt = now + perMessageTtl;
        q.enqueue({ offset, message: m, size, expiresAt, priority, deliveries: 0, redelivered: false });
      } else {
        const s = d as Stream;
        ti++;
        const p = s.partitionForRouted(m.key, m.routingKey);
        s.appended(p, this.ctx.store.endOffset(s.partitionIds[p]!));
      }
    }
    if (dlx) for (const q of dlx) this.deadLetter(q, [{ offset: -1, message: m, size, expiresAt: Infinity, priority, deliveries: 0, redelivered: false }], 'maxlen');
    const status = rejected ? 'rejected' : kept > 0 ? 'routed' : 'unroutable';
    if (durable === RESOLVED && status === 'routed' && kept < ROUTED.length) return ROUTED[kept]!;
    return { status, destinations: kept, durable };
  }

  /** Routes records produced to a stream through `amq.topic` to every other destination (ARCHITECTURE "Addressing"). */
  forwardToTopicExchange(s: Stream, decode: () => Message[]): void {
    const ex = this.exchangesByName.get('amq.topic');
    if (!ex) return;
    let own = 0;
    for (const b of s.boundBy ?? []) if (b.source === ex) own++;
    if (ex.bindingCount <= own) return;
    for (const m of decode()) {
      m.exchange = 'amq.topic';
      const dests = this.takeScratch();
      try {
        this.collect(ex, s.name, null, m.headers, dests);
        const i = dests.indexOf(s);
        if (i >= 0) dests.splice(i, 1);
        if (dests.length > 0) this.store(dests, m, false);
      } finally {
        this.releaseScratch(dests);
      }
    }
  }

  // QueueHost --------------------------------------------------------------------------------

  scheduleDispatch(q: Queue): void {
    this.ctx.scheduleDispatch(q);
  }

  settle(q: Queue, e: QueueEntry): void {
    if (q.partition < 0 || e.offset < 0 || q.deleted) return;
    if (e.offset === q.markDelete) {
      q.markDelete++;
      const s = q.settled;
      if (s && s.size > 0) while (s.delete(q.markDelete)) q.markDelete++;
    } else if (e.offset > q.markDelete) (q.settled ??= new Set()).add(e.offset);
    this.ctx.journal.ack(q.partition, e.offset);
    this.ctx.store.release(q.partition, e.offset);
  }

  delivered(q: Queue, e: QueueEntry): void {
    if (q.partition >= 0 && e.offset > q.deliveredMark) {
      q.deliveredMark = e.offset;
      this.ctx.journal.markDelivered(q.partition, e.offset);
    }
  }

  deadLetter(q: Queue, entries: QueueEntry[], reason: DeathReason): void {
    const dlxName = q.settings.deadLetterExchange;
    const ex = dlxName === null ? undefined : this.exchangesByName.get(dlxName);
    if (!ex) {
      for (const e of entries) this.settle(q, e);
      return;
    }
    const now = this.now();
    for (const e of entries) {
      const m2 = deadLetterMessage(e.message, q.name, reason, now);
      const keys = q.settings.deadLetterRoutingKey !== null ? [q.settings.deadLetterRoutingKey] : publishedRoutingKeys(e.message);
      m2.exchange = ex.name;
      m2.routingKey = keys[0]!;
      const res = this.route(ex, keys[0]!, keys.length > 1 ? keys.slice(1) : null, m2, true);
      // At-least-once: the source lets go only once the targets hold the copy.
      if (res.durable === RESOLVED) this.settle(q, e);
      else res.durable.then(() => this.settle(q, e), (err: unknown) => this.ctx.warn({ queue: q.name, err: String(err) }, 'dead-letter append failed'));
    }
  }

  consumersGone(q: Queue): void {
    if (q.autoDelete && q.hadConsumer) {
      void this.deleteQueueNow(q, 'auto-delete queue lost its last consumer').catch((err: unknown) => this.ctx.warn({ queue: q.name, err: String(err) }, 'auto-delete failed'));
    }
  }

  // Consumers (called by channels) ------------------------------------------------------------

  startConsumer(ch: ChannelImpl, queue: string, tag: string, prefetch: number, options: ConsumeOptions, connectionId: string): Consumer | StreamConsumer {
    const s = this.streamsByName.get(queue);
    if (s && !this.queuesByName.has(queue)) {
      const offset = this.resolveOffset(queue, 0, options.streamOffset ?? 'next');
      const c = new StreamConsumer(tag, ch, s, offset, prefetch, options, {
        readMessages: (a, b, c2, d) => this.readMessages(a, b, c2, d),
        waitForData: (a, b, c2, d, e) => this.waitForData(a, b, c2, d, e),
        warn: this.ctx.warn,
      });
      this.streamConsumers.add(c);
      c.kick();
      return c;
    }
    const q = this.useQueue(queue, connectionId);
    if (options.exclusive && q.consumers.length > 0) throw new AccessRefused(`cannot consume exclusively from ${q.describe()}: it has consumers`);
    if (q.consumers.some((c) => c.exclusive)) throw new AccessRefused(`cannot consume from ${q.describe()}: it has an exclusive consumer`);
    const c = new Consumer(tag, ch, q.name, prefetch, options);
    q.addConsumer(c);
    return c;
  }

  stopConsumer(c: Consumer | StreamConsumer): void {
    if (c instanceof StreamConsumer) {
      c.cancel();
      this.streamConsumers.delete(c);
      return;
    }
    const q = this.queuesByName.get(c.queueName);
    if (q) q.removeConsumer(c);
    else c.cancelled = true;
  }

  /** Credit came back for `c`: deliver more. */
  kick(c: Consumer | StreamConsumer): void {
    if (c instanceof StreamConsumer) c.kick();
    else {
      const q = this.queuesByName.get(c.queueName);
      if (q) this.ctx.scheduleDispatch(q);
    }
  }

  getMessage(ch: ChannelImpl, queue: string, noAck: boolean, connectionId: string): GetResult | null {
    if (this.streamsByName.has(queue) && !this.queuesByName.has(queue)) throw new NotAllowed(`cannot get from stream ${this.where('queue', queue)}: consume with an offset instead`);
    return this.useQueue(queue, connectionId).get(ch, noAck);
  }

  // Streams (vhost-streams.ts) ----------------------------------------------------------------

  streamFor(name: string): Stream {
    const s = this.streamsByName.get(name);
    if (!s) throw new NotFound(`no ${this.where('stream', name)}`);
    return s;
  }

  async createStream(name: string, options: StreamOptions, queueArgs: Arguments | null): Promise<Stream> {
    return streams.createStream(this, name, options, queueArgs);
  }
  declareStream(name: string, options: StreamOptions = {}): Promise<StreamInfo> {
    return streams.declareStream(this, name, options);
  }
  deleteStream(name: string): Promise<void> {
    return streams.deleteStream(this, name);
  }
  addPartitions(name: string, total: number): Promise<void> {
    return streams.addPartitions(this, name, total);
  }
  stream(name: string): StreamInfo | null {
    return this.streamsByName.get(name)?.info() ?? null;
  }
  streams(): StreamInfo[] {
    return [...this.streamsByName.values()].map((s) => s.info());
  }
  streamConfig(name: string): Record<string, string> {
    return streams.streamConfig(this, name);
  }
  setStreamConfig(name: string, entries: Record<string, string | null>): Promise<void> {
    return streams.setStreamConfig(this, name, entries);
  }
  partitionFor(stream: string, key: Buffer): number {
    return this.streamFor(stream).partitionForRouted(key, '');
  }
  produce(stream: string, partition: number | null, batch: Buffer, options?: ProduceOptions, origin?: MessageOrigin): ProduceResult {
    return streams.produce(this, stream, partition, batch, options, origin);
  }
  produceRecords(stream: string, partition: number | null, records: ProduceRecord[], options?: ProduceOptions, origin?: MessageOrigin): ProduceResult {
    return streams.produceRecords(this, stream, partition, records, options, origin);
  }
  partitionOffsets(stream: string, partition: number): PartitionOffsets {
    return streams.partitionOffsets(this, stream, partition);
  }
  resolveOffset(stream: string, partition: number, spec: OffsetSpec): number {
    return streams.resolveOffset(this, stream, partition, spec);
  }
  fetch(stream: string, partition: number, offset: number, maxBytes: number): Promise<StreamBatch[]> {
    return streams.fetch(this, stream, partition, offset, maxBytes);
  }
  readMessages(stream: string, partition: number, offset: number, maxMessages: number): Promise<StreamMessage[]> {
    return streams.readMessages(this, stream, partition, offset, maxMessages);
  }
  waitForData(stream: string, partition: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return streams.waitForData(this, stream, partition, offset, timeoutMs, signal);
  }
  deleteRecordsBefore(stream: string, partition: number, offset: number): void {
    streams.deleteRecordsBefore(this, stream, partition, offset);
  }

  // Consumer groups ---------------------------------------------------------------------------

  async commitOffset(group: string, stream: string, partition: number, offset: number, metadata = ''): Promise<void> {
    const s = this.streamFor(stream);
    if (partition < 0 || partition >= s.partitions) throw new NotFound(`no partition ${partition} of ${s.describe()}`);
    const commitTimestamp = this.now();
    this.setOffset(group, stream, partition, { offset, metadata, commitTimestamp });
    await this.ctx.journal.write({ t: 'o', v: this.name, d: [group, stream, partition, offset, metadata, commitTimestamp] });
  }

  setOffset(group: string, stream: string, partition: number, c: CommittedOffset): void {
    let g = this.offsets.get(group);
    if (!g) this.offsets.set(group, (g = new Map()));
    let st = g.get(stream);
    if (!st) g.set(stream, (st = new Map()));
    st.set(partition, c);
  }

  committedOffset(group: string, stream: string, partition: number): CommittedOffset | null {
    return this.offsets.get(group)?.get(stream)?.get(partition) ?? null;
  }

  groupOffsets(group: string): Map<string, Map<number, CommittedOffset>> {
    const g = this.offsets.get(group);
    const out = new Map<string, Map<number, CommittedOffset>>();
    if (g) for (const [s, m] of g) out.set(s, new Map(m));
    return out;
  }

  groups(): string[] {
    return [...this.offsets.keys()];
  }

  async deleteGroup(group: string): Promise<void> {
    if (!this.offsets.delete(group)) return;
    await this.ctx.journal.write({ t: 'g-', v: this.name, g: group });
  }

  lag(group: string, stream: string, partition: number): number {
    const o = this.partitionOffsets(stream, partition);
    const c = this.committedOffset(group, stream, partition);
    return o.highWatermark - (c ? Math.max(c.offset, o.startOffset) : o.startOffset);
  }

  // Policies ------------------------------------------------------------------------------------

  async setPolicy(policy: Policy): Promise<void> {
    try {
      new RegExp(policy.pattern);
    } catch {
      throw new PreconditionFailed(`invalid pattern '${policy.pattern}' in policy '${policy.name}' of vhost '${this.name}'`);
    }
    const p: Policy = { name: policy.name, pattern: policy.pattern, applyTo: policy.applyTo ?? 'all', priority: policy.priority ?? 0, definition: normalizeArgs(policy.definition) };
    const prev = this.policiesByName.get(p.name);
    if (prev && JSON.stringify(prev) === JSON.stringify(p)) return;
    this.policiesByName.set(p.name, p);
    this.reapplyPolicies();
    await this.ctx.journal.write({ t: 'p', v: this.name, d: p });
  }

  async deletePolicy(name: string): Promise<void> {
    if (!this.policiesByName.delete(name)) throw new NotFound(`no policy '${name}' in vhost '${this.name}'`);
    this.reapplyPolicies();
    await this.ctx.journal.write({ t: 'p-', v: this.name, n: name });
  }

  policies(): Policy[] {
    return [...this.policiesByName.values()];
  }

  /** Recomputes every queue's effective arguments and every exchange's alternate. */
  reapplyPolicies(): void {
    for (const q of this.queuesByName.values()) {
      const eff = effectiveArguments(q.args, pickPolicy(this.policiesByName.values(), q.name, 'queues'));
      try {
        const s = parseQueueSettings(eff, q.describe());
        // The ready list's shape is fixed at declaration.
        s.maxPriority = q.settings.maxPriority;
        q.settings = s;
        q.effectiveArgs = eff;
      } catch (err) {
        this.ctx.warn({ queue: q.name, err: String(err) }, 'policy not applied: invalid arguments');
      }
    }
    for (const ex of this.exchangesByName.values()) this.applyExchangePolicy(ex);
    streams.applyStreamPolicies(this, this.policiesByName.values());
  }

  // Timers ---------------------------------------------------------------------------------------

  /** Expires messages and idle queues (x-expires). */
  async sweep(now: number): Promise<void> {
    for (const q of [...this.queuesByName.values()]) {
      q.expire(now);
      const ttl = q.settings.expires;
      if (ttl !== null && q.consumerCount === 0 && now - q.lastUsed >= ttl) await this.deleteQueueNow(q, 'queue expired');
    }
  }

  // Durable state ----------------------------------------------------------------------------------

  snapshot(cursors: Record<number, CursorState>, delivered: Record<number, number>): VhostState {
    const vs: VhostState = { options: this.options, exchanges: {}, queues: {}, streams: {}, bindings: [], policies: {}, offsets: [] };
    for (const ex of this.exchangesByName.values()) {
      if (!ex.durable || ex.name === '' || ex.name.startsWith('amq.')) continue;
      vs.exchanges[ex.name] = { name: ex.name, type: ex.type, autoDelete: ex.autoDelete, internal: ex.internal, arguments: ex.args };
    }
    for (const q of this.queuesByName.values()) {
      if (q.partition < 0) continue;
      vs.queues[q.name] = { name: q.name, autoDelete: q.autoDelete, arguments: q.args, durability: q.durabilityOption, partition: q.partition };
      cursors[q.partition] = { markDelete: q.markDelete, settled: q.settled ? toRanges(q.settled) : [] };
      if (q.deliveredMark >= 0) delivered[q.partition] = q.deliveredMark;
    }
    for (const s of this.streamsByName.values()) vs.streams[s.name] = streams.streamDef(s);
    for (const ex of this.exchangesByName.values()) {
      if (!ex.durable) continue;
      for (const b of ex.bindings) {
        const d = b.destination;
        if (!this.isDurable(d)) continue;
        if (d instanceof Stream && ex.name === 'amq.topic' && d.bindToTopicExchange && b.routingKey === `${d.name}.#`) continue;
        vs.bindings.push(this.bindingDef(ex, d, b.routingKey, b.args));
      }
    }
    for (const p of this.policiesByName.values()) vs.policies[p.name] = p;
    for (const [g, m] of this.offsets) for (const [s, ps] of m) for (const [p, c] of ps) vs.offsets.push([g, s, p, c.offset, c.metadata, c.commitTimestamp]);
    return vs;
  }

  /** Rebuilds definitions from replayed state (messages are loaded by `loadQueues`). */
  restore(vs: VhostState, cursors: Record<number, CursorState>, delivered: Record<number, number>): void {
    for (const p of Object.values(vs.policies)) this.policiesByName.set(p.name, p);
    for (const d of Object.values(vs.exchanges)) {
      const ex = new Exchange(d.name, d.type, true, d.autoDelete, d.internal, d.arguments, this.name);
      this.exchangesByName.set(d.name, ex);
    }
    for (const d of Object.values(vs.queues)) {
      const where = this.where('queue', d.name);
      const eff = effectiveArguments(d.arguments, pickPolicy(this.policiesByName.values(), d.name, 'queues'));
      let settings;
      try {
        settings = parseQueueSettings(eff, where);
      } catch {
        settings = parseQueueSettings(d.arguments, where);
      }
      const q = new Queue(d.name, this.name, true, false, d.autoDelete, d.arguments, settings, eff, this);
      q.partition = d.partition;
      q.durabilityOption = d.durability;
      q.durability = d.durability ?? this.durability;
      const c = cursors[d.partition];
      if (c) {
        q.markDelete = c.markDelete;
        const set = settledSet(c);
        if (set.size > 0) q.settled = set;
      }
      q.deliveredMark = delivered[d.partition] ?? -1;
      this.queuesByName.set(d.name, q);
      this.ctx.store.setPolicy(q.partition, { kind: 'queue' });
    }
    for (const d of Object.values(vs.streams)) streams.restoreStream(this, d);
    for (const b of vs.bindings) {
      const src = this.exchangesByName.get(b.source);
      const dst: Routable | undefined = b.kind === 'exchange' ? this.exchangesByName.get(b.destination) : (this.queuesByName.get(b.destination) ?? this.streamsByName.get(b.destination));
      if (!src || !dst) continue;
      if (!src.find(dst, b.routingKey, argsKey(b.arguments))) src.add(dst, b.routingKey, b.arguments);
    }
    for (const [g, s, p, o, m, ts] of vs.offsets) this.setOffset(g, s, p, { offset: o, metadata: m, commitTimestamp: ts });
    for (const ex of this.exchangesByName.values()) this.applyExchangePolicy(ex);
  }

  /** Reads every durable queue's unsettled messages back from the store. */
  async loadQueues(): Promise<void> {
    for (const q of this.queuesByName.values()) if (q.partition >= 0) await streams.loadQueue(this, q);
  }
}

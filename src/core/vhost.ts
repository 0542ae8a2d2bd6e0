/**
 * A virtual host: its exchanges, queues, streams, bindings, policies and group offsets, the
 * publish path (route -> one store append with N targets -> enqueue) and the QueueHost hooks
 * (settle, dead-letter, auto-delete). Stream reads and produce live in vhost-streams.ts.
 */
import type { MessageCounts } from './message-counts.js';
import { randomBytes } from 'node:crypto';
import type { AppendTarget, DurabilityMode, Store } from '../../storage/types.js';
import type {
  MessageLookup,
  Arguments,
  BindingInfo,
  CommittedOffset,
  ConsumeOptions,
  DelayedMessageInfo,
  RedriveOptions,
  RedriveResult,
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
  StoredRange,
  RouteStoredOptions,
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
import { deadLetterMessage, publishedRoutingKeys } from './dead-letter.js';
import { MAX_DELAY_MS, retryCount, type DelayedDelivery } from './delayed-delivery.js';
import { redrive } from './redrive.js';
import { AccessRefused, NotAllowed, NotFound, PreconditionFailed, ResourceError, ResourceLocked } from './errors.js';
import { Exchange, argsKey, delayedTypeArg, type Routable } from './exchange.js';
import type { BindingDef, CursorState, Journal, VhostState } from './journal.js';
import { loadQueues, restoreVhost, snapshotVhost } from './vhost-state.js';
import { headerValue, type HeaderValue, type Message, type MessageOrigin } from './message.js';
import { messageFilterOf } from './message-filter.js';
import { lookupMessages } from './message-lookup.js';
import { checkEquivalentArgs, effectiveArguments, parseQueueSettings, pickPolicy } from './queue-args.js';
import { Queue, type DeathReason, type QueueEntry, type QueueHost } from './queue.js';
import { RESOLVED, Router } from './router.js';
import { HalfMessages, type HalfMessageSettings, type PendingHalfMessage } from './half/half-messages.js';
import { StreamConsumer } from './stream-consumer.js';
import { Stream } from './stream.js';
import * as streams from './vhost-streams.js';
import type { PublisherFlow } from './publisher-flow.js';

/** What a vhost needs from the core. */
export interface VhostContext {
  store: Store;
  journal: Journal;
  now(): number;
  maxMessageBytes: number;
  defaultDurability: DurabilityMode;
  defaultStreamRetentionMs: number;
  defaultStreamRetentionBytes: number;
  allocatePartition(): number;
  scheduleDispatch(q: Queue): void;
  lastStableOffset(vhost: string, stream: string, partition: number, hw: number): number;
  warn(fields: Record<string, unknown>, msg: string): void;
  /** Messages in and out per protocol (management, metrics). */
  counts: MessageCounts;
  /** Timeouts and limits of transactional half messages. */
  halfMessages: HalfMessageSettings;
  /** Delayed delivery and retries (delayed-delivery.ts). */
  delays: DelayedDelivery;
  /** Publisher flow control (publisher-flow.ts), one for the broker. */
  flow: PublisherFlow;
  /** Queues act at their deadlines (TTL at the head, x-expires) by timers; off when sweeps are driven by hand. */
  deadlineTimers: boolean;
}

/** The exchanges every vhost has (definitions checks rely on them too). */
export const DEFAULT_EXCHANGES: [string, ExchangeType][] = [
  ['', 'direct'],
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
];

const NO_ARGS: Arguments = Object.freeze({});

/**
 * Argument values as JSON-safe plain values (AMQP tables may carry Buffers and bigints);
 * empty arguments are one shared frozen object.
 */
export function normalizeArgs(args: Arguments | undefined): Arguments {
  if (!args) return NO_ARGS;
  let any = false;
  for (const _ in args) {
    any = true;
    break;
  }
  if (!any) return NO_ARGS;
  const out: Arguments = {};
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

/** Replaces (or adds) a header; the native properties no longer match the headers. */
function setHeader(m: Message, name: string, value: HeaderValue): void {
  const i = m.headers.findIndex((h) => h.name === name);
  if (i >= 0) m.headers[i] = { name, value };
  else m.headers.push({ name, value });
  m.native = null;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

export class VhostImpl implements Vhost, QueueHost {
  readonly exchangesByName = new Map<string, Exchange>();
  readonly queuesByName = new Map<string, Queue>();
  readonly streamsByName = new Map<string, Stream>();
  readonly streamConsumers = new Set<StreamConsumer>();
  readonly policiesByName = new Map<string, Policy>();
  readonly offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  readonly connections = new Set<ConnectionImpl>();
  /** Dead-lettered sources waiting for their copies to be durable before they are settled. */
  readonly pendingSettles = new Set<Promise<void>>();
  readonly router = new Router(this);
  readonly half: HalfMessages;
  readonly flow: PublisherFlow;
  readonly deadlineTimers: boolean;

  constructor(
    readonly name: string,
    public options: VhostOptions,
    readonly ctx: VhostContext,
  ) {
    for (const [n, t] of DEFAULT_EXCHANGES) this.exchangesByName.set(n, new Exchange(n, t, true, false, false, {}, name));
    this.half = new HalfMessages(this, ctx.halfMessages);
    this.flow = ctx.flow;
    this.deadlineTimers = ctx.deadlineTimers;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get durability(): DurabilityMode {
    return this.options.durability ?? this.ctx.defaultDurability;
  }

  where(kind: string, n: string): string {
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
    if (!['direct', 'fanout', 'topic', 'headers', 'x-delayed-message'].includes(options.type)) {
      throw new PreconditionFailed(`invalid exchange type '${options.type}' for ${this.where('exchange', name)}`);
    }
    if (options.type === 'x-delayed-message' && delayedTypeArg(options.arguments ?? {}) === null) {
      // The plugin's own words: the argument names an existing exchange type.
      throw new PreconditionFailed(`Invalid argument, 'x-delayed-type' must be an existing exchange type (${this.where('exchange', name)})`);
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

  applyExchangePolicy(ex: Exchange): void {
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

  isDurable(r: Routable): boolean {
    if (r instanceof Exchange) return r.durable;
    if (r instanceof Queue) return r.partition >= 0;
    return true;
  }

  bindingDef(src: Exchange, dst: Routable, routingKey: string, args: Arguments): BindingDef {
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
      // RabbitMQ's passive declare (queue.declare stat) restarts the x-expires timer too.
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
    q.armIdleExpiry();
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
    q.clearDeadline();
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
      return { ...c, durable: true, exclusive: false, owner: null, autoDelete: false, arguments: s.queueArgs, effectiveArguments: s.queueArgs, type: 'stream', unackedCount: 0, messageBytes: 0, stats: { published: 0, delivered: 0, acked: 0, deadLettered: 0 } };
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
      stats: { ...q.stats },
    };
  }

  queues(): QueueInfo[] {
    const out: QueueInfo[] = [];
    // The internal queues of half messages are not listed (Vhost.halfMessages shows them), so
    // definitions exported from the list never name a reserved `amq.` queue.
    for (const n of this.queuesByName.keys()) if (!n.startsWith('amq.transaction.')) out.push(this.queue(n)!);
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

  // Publishing (router.ts) ----------------------------------------------------------------------

  /**
   * Routes and stores a publish (see Channel.publish). Delayed when `delayMs` is given or the
   * exchange is an `x-delayed-message` one and the message has a positive `x-delay` header.
   */
  publish(exchangeName: string, routingKey: string, m: Message, mandatory: boolean, origin: MessageOrigin | null, delayMs?: number): PublishResult {
    let delay = delayMs;
    if (delay === undefined && m.headers.length > 0 && this.exchangesByName.get(exchangeName)?.delayed) {
      const x = headerValue(m.headers, 'x-delay');
      const n = typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : typeof x === 'string' || Buffer.isBuffer(x) ? Number(x.toString()) : NaN;
      // RabbitMQ's plugin routes at once when x-delay is absent, zero or negative.
      if (n > 0) delay = Math.max(1, Math.min(Math.floor(n), MAX_DELAY_MS));
    }
    if (delay !== undefined) return this.ctx.delays.publish(this, exchangeName, routingKey, m, origin, delay);
    return this.router.publish(exchangeName, routingKey, m, mandatory, origin);
  }

  /**
   * Routes a delayed message at its due time: `x:<exchange>` through the exchange as a
   * publish (CC/BCC, alternate exchanges), `q:<queue>` straight to the queue (retries).
   * `marker` is written in the same append (delayed-delivery.ts).
   */
  routeDue(target: string, m: Message, marker: AppendTarget): PublishResult {
    const name = target.slice(2);
    if (target.startsWith('x:')) {
      if (!this.exchangesByName.has(name)) return { status: 'unroutable', destinations: 0, durable: RESOLVED };
      return this.router.publish(name, m.routingKey, m, false, m.origin, marker);
    }
    return this.router.route(this.exchangesByName.get('')!, name, null, m, false, marker);
  }

  forwardToTopicExchange(s: Stream, decode: () => Message[]): void {
    this.router.forwardToTopicExchange(s, decode);
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
    this.release(q, e.offset);
  }

  /** Tells the store an entry is no longer needed (it may reclaim the segment). */
  release(q: Queue, offset: number): void {
    this.ctx.store.release(q.partition, offset);
  }

  delivered(q: Queue, e: QueueEntry): void {
    if (q.partition >= 0 && e.offset > q.deliveredMark) {
      q.deliveredMark = e.offset;
      this.ctx.journal.markDelivered(q.partition, e.offset);
    }
  }

  deadLetter(q: Queue, entries: QueueEntry[], reason: DeathReason): void {
    if (reason === 'rejected' && q.settings.retryDelaysMs !== null) entries = this.retry(q, entries);
    if (entries.length === 0) return;
    const dlxName = q.settings.deadLetterExchange;
    const ex = dlxName === null ? undefined : this.exchangesByName.get(dlxName);
    if (!ex) {
      for (const e of entries) this.settle(q, e);
      return;
    }
    const now = this.now();
    q.stats.deadLettered += entries.length;
    for (const e of entries) {
      const m2 = deadLetterMessage(e.message, q.name, reason, now);
      const keys = q.settings.deadLetterRoutingKey !== null ? [q.settings.deadLetterRoutingKey] : publishedRoutingKeys(e.message);
      m2.exchange = ex.name;
      m2.routingKey = keys[0]!;
      const res = this.router.route(ex, keys[0]!, keys.length > 1 ? keys.slice(1) : null, m2, true);
      // At-least-once: the source lets go only once the targets hold the copy.
      if (res.durable === RESOLVED) this.settle(q, e);
      else {
        const p: Promise<void> = res.durable
          .then(
            () => this.settle(q, e),
            (err: unknown) => this.ctx.warn({ queue: q.name, err: String(err) }, 'dead-letter append failed'),
          )
          .then(() => {
            this.pendingSettles.delete(p);
          });
        this.pendingSettles.add(p);
      }
    }
  }

  /**
   * Retry with backoff (x-retry-delays): each rejected entry still under x-max-retries goes
   * back to `q` after its level's delay, with an x-death entry and `x-retry-count` raised; the
   * source is settled once the delayed copy is durable. Returns the entries past the last
   * retry (to dead-letter).
   */
  private retry(q: Queue, entries: QueueEntry[]): QueueEntry[] {
    const delays = q.settings.retryDelaysMs!;
    const out: QueueEntry[] = [];
    const now = this.now();
    for (const e of entries) {
      const n = retryCount(e.message);
      if (n >= q.settings.maxRetries) {
        out.push(e);
        continue;
      }
      const m2 = deadLetterMessage(e.message, q.name, 'rejected', now);
      setHeader(m2, 'x-retry-count', n + 1);
      const delay = delays[Math.min(n, delays.length - 1)]!;
      const p: Promise<void> = this.ctx.delays
        .retry(this, q.name, m2, delay)
        .then(
          () => this.settle(q, e),
          (err: unknown) => this.ctx.warn({ queue: q.name, err: String(err) }, 'retry could not be stored; the message stays unsettled until a restart'),
        )
        .then(() => {
          this.pendingSettles.delete(p);
        });
      this.pendingSettles.add(p);
    }
    return out;
  }

  consumersGone(q: Queue): void {
    if (q.autoDelete && q.hadConsumer) {
      void this.deleteQueueNow(q, 'auto-delete queue lost its last consumer').catch((err: unknown) => this.ctx.warn({ queue: q.name, err: String(err) }, 'auto-delete failed'));
    }
  }

  // Consumers (called by channels) ------------------------------------------------------------

  startConsumer(ch: ChannelImpl, queue: string, tag: string, prefetch: number, options: ConsumeOptions, connectionId: string): Consumer | StreamConsumer {
    if (queue.startsWith('amq.transaction.')) throw new AccessRefused(`cannot consume from internal ${this.where('queue', queue)}`);
    const s = this.streamsByName.get(queue);
    if (s && !this.queuesByName.has(queue)) {
      const filter = messageFilterOf(options.arguments, this.where('stream', queue));
      const offset = this.resolveOffset(queue, 0, options.streamOffset ?? 'next');
      const c = new StreamConsumer(tag, ch, s, offset, prefetch, options, {
        readMessages: (a, b, c2, d) => this.readMessages(a, b, c2, d),
        readFilteredMessages: (a, b, c2, d, f) => streams.readFilteredMessages(this, a, b, c2, d, f),
        waitForData: (a, b, c2, d, e) => this.waitForData(a, b, c2, d, e),
        warn: this.ctx.warn,
      }, filter);
      this.streamConsumers.add(c);
      c.kick();
      return c;
    }
    const q = this.useQueue(queue, connectionId);
    if (options.exclusive && q.consumers.length > 0) throw new AccessRefused(`cannot consume exclusively from ${q.describe()}: it has consumers`);
    if (q.consumers.some((c) => c.exclusive)) throw new AccessRefused(`cannot consume from ${q.describe()}: it has an exclusive consumer`);
    const c = new Consumer(tag, ch, q.name, prefetch, options, messageFilterOf(options.arguments, q.describe()));
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
    if (queue.startsWith('amq.transaction.')) throw new AccessRefused(`cannot get from internal ${this.where('queue', queue)}`);
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
  routeStored(ranges: readonly StoredRange[], options?: RouteStoredOptions): Promise<number> {
    return streams.routeStored(this, ranges, options);
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

  async deleteOffset(group: string, stream: string, partition: number): Promise<void> {
    const g = this.offsets.get(group);
    const st = g?.get(stream);
    if (!st || !st.delete(partition)) return;
    if (st.size === 0) g!.delete(stream);
    if (g!.size === 0) this.offsets.delete(group);
    await this.ctx.journal.write({ t: 'o-', v: this.name, g: group, s: stream, p: partition });
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
        const parsed = parseQueueSettings(eff, q.describe());
        // The ready list's shape is fixed at declaration (settings objects may be shared: copy).
        q.settings = parsed.maxPriority === q.settings.maxPriority ? parsed : { ...parsed, maxPriority: q.settings.maxPriority };
        q.effectiveArgs = eff;
        q.armIdleExpiry();
      } catch (err) {
        this.ctx.warn({ queue: q.name, err: String(err) }, 'policy not applied: invalid arguments');
      }
    }
    for (const ex of this.exchangesByName.values()) this.applyExchangePolicy(ex);
    streams.applyStreamPolicies(this, this.policiesByName.values());
  }

  // Delayed delivery, retry, redrive ----------------------------------------------------------

  delayedCount(): number {
    return this.ctx.delays.count(this);
  }

  listDelayed(limit = 100): Promise<DelayedMessageInfo[]> {
    return this.ctx.delays.list(this, limit);
  }

  cancelDelayed(id: string): Promise<boolean> {
    return this.ctx.delays.cancel(this, id);
  }

  redrive(queue: string, options: RedriveOptions = {}): Promise<RedriveResult> {
    return redrive(this, queue, options);
  }

  // Timers ---------------------------------------------------------------------------------------

  deadline(q: Queue): void {
    const now = this.now();
    const ttl = q.settings.expires;
    const failed = (err: unknown) => this.ctx.warn({ queue: q.name, err: String(err) }, 'expiry failed; the periodic sweep retries it');
    if (ttl !== null && q.consumerCount === 0 && now - q.lastUsed >= ttl) {
      void this.deleteQueueNow(q, 'queue expired').catch(failed);
      return;
    }
    try {
      q.expireHead(now);
    } catch (err) {
      failed(err);
    }
  }

  /** Expires messages and idle queues (x-expires). */
  async sweep(now: number): Promise<void> {
    this.half.tick(now);
    for (const q of [...this.queuesByName.values()]) {
      q.expire(now);
      const ttl = q.settings.expires;
      if (ttl !== null && q.consumerCount === 0 && now - q.lastUsed >= ttl) await this.deleteQueueNow(q, 'queue expired');
    }
  }

  // Durable state (vhost-state.ts) -------------------------------------------------------------

  snapshot(cursors: Record<number, CursorState>, delivered: Record<number, number>): VhostState {
    return snapshotVhost(this, cursors, delivered);
  }

  restore(vs: VhostState, cursors: Record<number, CursorState>, delivered: Record<number, number>): void {
    restoreVhost(this, vs, cursors, delivered);
  }

  lookupMessages(key: string, limit?: number): Promise<MessageLookup[]> {
    return lookupMessages(this, key, limit);
  }

  halfMessages(): PendingHalfMessage[] {
    return this.half.list();
  }

  resolveHalfMessage(transactionId: string, action: 'commit' | 'rollback'): PublishResult {
    return this.half.resolve(transactionId, action);
  }

  async loadQueues(): Promise<void> {
    await loadQueues(this);
    this.half.recover();
  }

  /**
   * An internal durable queue (half messages), created on first use without the `amq.` name
   * check; `defined` gets the promise of its definition record.
   */
  internalQueue(name: string, defined: (p: Promise<void>) => void): Queue {
    const existing = this.queuesByName.get(name);
    if (existing) return existing;
    const where = this.where('queue', name);
    const q = new Queue(name, this.name, true, false, false, {}, parseQueueSettings({}, where), {}, this);
    this.queuesByName.set(name, q);
    q.partition = this.ctx.allocatePartition();
    q.durability = 'sync';
    q.durabilityOption = 'sync';
    this.ctx.store.setPolicy(q.partition, { kind: 'queue' });
    defined(this.ctx.journal.write({ t: 'q', v: this.name, d: { name, autoDelete: false, arguments: {}, durability: 'sync', partition: q.partition } }));
    return q;
  }
}

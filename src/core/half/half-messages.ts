/**
 * Transactional half messages with check-back (RocketMQ's transactional messages), per vhost.
 *
 * A publish with `x-transaction: half` and `x-transaction-id` is stored in the internal durable
 * queue `amq.transaction.half` and delivered to no one. A commit routes a copy as if published
 * now; a rollback discards it. Neither within `timeoutMs`: a check request (a copy with
 * `x-transaction: check`) goes to the `x-transaction-check-to` address, again every
 * `checkIntervalMs`, `maxChecks` times, then the message is rolled back or dead-lettered.
 *
 * Exactly once across crashes: every resolution is one store append that also lands in the
 * internal queue `amq.transaction.op` (RocketMQ's op queue) — a commit's routed copy is itself
 * that op entry, so "routed" and "resolved" are one CRC-checked entry. The half entry is settled
 * only after that append is durable; recovery settles half entries whose op entry exists, so a
 * half message is never routed twice and never lost once its publish was confirmed. Check
 * markers (count and time of the last check) are op entries too, so checks resume after a
 * restart where they stopped.
 */
import type { PublishResult } from '../api.js';
import { InvalidArgument, NotFound } from '../errors.js';
import { createMessage, headerValue, type Message, type MessageOrigin } from '../message.js';
import type { Queue, QueueEntry } from '../queue.js';
import type { VhostImpl } from '../vhost.js';
import { parseCheckAddress } from './check-address.js';
import {
  CHECK_COUNT_HEADER,
  CHECK_TO_HEADER,
  CHECKED_AT_HEADER,
  EXPIRATION_HEADER,
  headerText,
  MQTT_CONTROL_PREFIX,
  TRANSACTION_EXCHANGE,
  TRANSACTION_HEADER,
  TRANSACTION_ID_HEADER,
  transactionHeader,
  transactionId,
  withoutHeaders,
} from './half-headers.js';

export const HALF_QUEUE = 'amq.transaction.half';
export const OP_QUEUE = 'amq.transaction.op';

export interface HalfMessageSettings {
  /** First check request this long after the half message was stored, ms. Default 6 s. */
  timeoutMs: number;
  /** Between check requests, ms. Default 60 s. */
  checkIntervalMs: number;
  /** Check requests before giving up. Default 15 (RocketMQ's transactionCheckMax). */
  maxChecks: number;
  /** What giving up does. Default 'rollback'. */
  onExhausted: 'rollback' | 'dead-letter';
  /** Exchange of dead-lettered half messages (their routing key is kept). */
  deadLetterExchange: string | null;
}

export const DEFAULT_HALF_SETTINGS: HalfMessageSettings = {
  timeoutMs: 6_000,
  checkIntervalMs: 60_000,
  maxChecks: 15,
  onExhausted: 'rollback',
  deadLetterExchange: null,
};

/** A half message waiting for its commit or rollback (Vhost.halfMessages). */
export interface PendingHalfMessage {
  transactionId: string;
  /** Where the commit will route it. */
  exchange: string;
  routingKey: string;
  /** When it was stored, ms. */
  storedAt: number;
  /** Check requests sent so far. */
  checks: number;
  /** When the next check request (or the give-up) is due, ms. */
  nextCheckAt: number;
  bytes: number;
}

type OpKind = 'commit' | 'rollback' | 'check' | 'dead-letter';

interface Pending {
  id: string;
  entry: QueueEntry;
  checks: number;
  nextCheckAt: number;
  /** Op entries about it (check markers) to settle once it is resolved. */
  ops: QueueEntry[];
  resolving: boolean;
}

const RESOLVED = Promise.resolve();
const UNKNOWN: PublishResult = Object.freeze({ status: 'unroutable', destinations: 0, durable: RESOLVED });
const STRIPPED = [TRANSACTION_HEADER, CHECK_TO_HEADER, EXPIRATION_HEADER, CHECK_COUNT_HEADER, CHECKED_AT_HEADER];

export class HalfMessages {
  private readonly pending = new Map<string, Pending>();
  private half: Queue | null = null;
  private op: Queue | null = null;
  /** Durable once the internal queues' definitions are written. */
  private defined: Promise<void> = RESOLVED;

  constructor(
    private readonly vh: VhostImpl,
    private readonly settings: HalfMessageSettings,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** The pending half messages, for operators (oldest first). */
  list(): PendingHalfMessage[] {
    const out: PendingHalfMessage[] = [];
    for (const p of this.pending.values()) {
      const m = p.entry.message;
      out.push({ transactionId: p.id, exchange: m.exchange, routingKey: m.routingKey, storedAt: m.timestamp, checks: p.checks, nextCheckAt: p.nextCheckAt, bytes: m.body.length });
    }
    return out.sort((a, b) => a.storedAt - b.storedAt);
  }

  /**
   * Handles a publish that belongs to this protocol (a half message, a commit or rollback);
   * null for every other publish. Cheap for ordinary publishes: one header scan at most.
   */
  intercept(exchange: string, routingKey: string, m: Message, origin: MessageOrigin | null): PublishResult | null {
    if (exchange === TRANSACTION_EXCHANGE) return this.control(routingKey, m);
    if (exchange === 'amq.topic' && routingKey.startsWith(MQTT_CONTROL_PREFIX)) return this.control(routingKey.slice(MQTT_CONTROL_PREFIX.length), m);
    if (m.headers.length === 0 || transactionHeader(m) !== 'half') return null;
    return this.storeHalf(exchange, routingKey, m, origin);
  }

  private ensureQueues(): { half: Queue; op: Queue } {
    if (this.half === null || this.half.deleted) this.half = this.vh.internalQueue(HALF_QUEUE, (p) => (this.defined = p));
    if (this.op === null || this.op.deleted) this.op = this.vh.internalQueue(OP_QUEUE, (p) => (this.defined = p));
    return { half: this.half, op: this.op };
  }

  private storeHalf(exchange: string, routingKey: string, m: Message, origin: MessageOrigin | null): PublishResult {
    const id = transactionId(m);
    if (id === null || id === '') throw new InvalidArgument(`a half message needs a ${TRANSACTION_ID_HEADER} header`);
    if (this.pending.has(id)) throw new InvalidArgument(`transaction id '${id}' already has a half message in vhost '${this.vh.name}'`);
    if (!this.vh.exchangesByName.has(exchange)) throw new NotFound(`no ${this.vh.where('exchange', exchange)}`);
    const { half } = this.ensureQueues();
    // Stored persistent (it must survive a restart) and without its TTL, which counts from the commit.
    const properties = { ...m.properties, persistent: true };
    const headers = m.headers.slice();
    if (properties.expiration !== undefined) {
      headers.push({ name: EXPIRATION_HEADER, value: properties.expiration });
      delete properties.expiration;
    }
    const stored = createMessage(m.body, { key: m.key, timestamp: this.vh.now(), properties, headers, native: null, exchange, routingKey, origin });
    const res = this.vh.router.storeTo([half], stored);
    const entry = half.lastEntry!;
    this.track(id, entry, 0, stored.timestamp + this.settings.timeoutMs);
    return { status: 'routed', destinations: 1, durable: this.defined === RESOLVED ? res.durable : Promise.all([this.defined, res.durable]).then(() => {}) };
  }

  private track(id: string, entry: QueueEntry, checks: number, nextCheckAt: number): Pending {
    const p: Pending = { id, entry, checks, nextCheckAt, ops: [], resolving: false };
    this.pending.set(id, p);
    return p;
  }

  /** commit / rollback by transaction id (header x-transaction-id, else the body). */
  private control(action: string, m: Message): PublishResult {
    if (action !== 'commit' && action !== 'rollback') {
      throw new InvalidArgument(`unknown transaction action '${action}': use routing key 'commit' or 'rollback'`);
    }
    const id = transactionId(m) ?? m.body.toString('utf8').trim();
    if (id === '') throw new InvalidArgument(`a ${action} needs the transaction id in a ${TRANSACTION_ID_HEADER} header or as the body`);
    return this.resolve(id, action);
  }

  /** Resolves a pending half message: unroutable when the id is unknown or already resolved. */
  resolve(id: string, action: 'commit' | 'rollback' | 'dead-letter'): PublishResult {
    const p = this.pending.get(id);
    if (p === undefined || p.resolving) return UNKNOWN;
    p.resolving = true;
    const { op } = this.ensureQueues();
    const half = p.entry.message;
    const now = this.vh.now();
    let res: PublishResult;
    if (action === 'rollback') {
      res = this.vh.router.storeTo([op], this.marker(id, 'rollback', now));
    } else {
      const copy = committedCopy(half, now, action);
      const exchange = action === 'dead-letter' ? this.settings.deadLetterExchange ?? '' : half.exchange;
      res = this.vh.router.routeWith(exchange, half.routingKey, copy, op);
    }
    const opEntry = op.lastEntry!;
    const done = (): void => {
      this.pending.delete(id);
      this.settle(this.half, [p.entry]);
      this.settle(op, [...p.ops, opEntry]);
    };
    if (res.durable === RESOLVED) done();
    else void res.durable.then(done, (err: unknown) => {
      p.resolving = false;
      this.vh.ctx.warn({ vhost: this.vh.name, transaction: id, err: String(err) }, 'half message resolution failed to store');
    });
    return { status: 'routed', destinations: Math.max(1, res.destinations - 1), durable: res.durable };
  }

  private marker(id: string, kind: OpKind, now: number, checks = 0): Message {
    const headers = [
      { name: TRANSACTION_ID_HEADER, value: id },
      { name: TRANSACTION_HEADER, value: kind },
    ];
    if (kind === 'check') headers.push({ name: CHECK_COUNT_HEADER, value: String(checks) }, { name: CHECKED_AT_HEADER, value: String(now) });
    return createMessage(Buffer.alloc(0), { timestamp: now, properties: { persistent: true }, headers });
  }

  private settle(q: Queue | null, entries: QueueEntry[]): void {
    if (q === null || q.deleted) return;
    const set = new Set(entries);
    q.removeEntries((e) => set.has(e));
    for (const e of entries) this.vh.settle(q, e);
  }

  /** Sends due check requests and gives up on exhausted ones. Runs from the vhost's sweep. */
  tick(now: number): void {
    for (const p of this.pending.values()) {
      if (p.resolving || p.nextCheckAt > now) continue;
      if (p.checks >= this.settings.maxChecks) {
        const dl = this.settings.onExhausted === 'dead-letter' && this.settings.deadLetterExchange !== null;
        this.vh.ctx.warn({ vhost: this.vh.name, transaction: p.id, checks: p.checks }, dl ? 'half message dead-lettered after its last check' : 'half message rolled back after its last check');
        this.resolve(p.id, dl ? 'dead-letter' : 'rollback');
        continue;
      }
      this.check(p, now);
    }
  }

  private check(p: Pending, now: number): void {
    const half = p.entry.message;
    p.checks++;
    p.nextCheckAt = now + this.settings.checkIntervalMs;
    const to = headerText(headerValue(half.headers, CHECK_TO_HEADER));
    if (to !== null && to !== '') {
      const addr = parseCheckAddress(to, half.origin?.protocol ?? null);
      const headers = withoutHeaders(half.headers, [TRANSACTION_HEADER, CHECK_COUNT_HEADER]);
      headers.push({ name: TRANSACTION_HEADER, value: 'check' }, { name: CHECK_COUNT_HEADER, value: String(p.checks) });
      const request = createMessage(half.body, { key: half.key, timestamp: now, properties: { ...half.properties }, headers });
      try {
        this.vh.router.publish(addr.exchange, addr.routingKey, request, false, null);
      } catch (err) {
        this.vh.ctx.warn({ vhost: this.vh.name, transaction: p.id, to, err: String(err) }, 'half message check request not sent');
      }
    }
    // The count survives a restart: one marker per check, the previous one settled once it is durable.
    const { op } = this.ensureQueues();
    const res = this.vh.router.storeTo([op], this.marker(p.id, 'check', now, p.checks));
    const entry = op.lastEntry!;
    const previous = p.ops;
    p.ops = [entry];
    const drop = (): void => this.settle(op, previous);
    if (res.durable === RESOLVED) drop();
    else void res.durable.then(drop, () => {});
  }

  /**
   * After the vhost's queues are loaded: pending half messages from `amq.transaction.half`,
   * their check counts from `amq.transaction.op`, and resolutions whose half entry was not yet
   * settled when the broker stopped (settled now, never routed again).
   */
  recover(): void {
    const half = this.vh.queuesByName.get(HALF_QUEUE);
    const op = this.vh.queuesByName.get(OP_QUEUE);
    if (half) this.half = half;
    if (op) this.op = op;
    if (!half) return;
    for (const e of [...half.readyEntries()]) {
      const id = transactionId(e.message);
      if (id === null) continue;
      this.track(id, e, 0, e.message.timestamp + this.settings.timeoutMs);
    }
    if (!op) return;
    const resolvedHalf: QueueEntry[] = [];
    const resolvedOps: QueueEntry[] = [];
    for (const e of [...op.readyEntries()]) {
      const id = transactionId(e.message);
      const kind = transactionHeader(e.message) ?? 'commit';
      const p = id === null ? undefined : this.pending.get(id);
      if (kind === 'check') {
        if (p === undefined) {
          resolvedOps.push(e);
          continue;
        }
        const n = Number(headerText(headerValue(e.message.headers, CHECK_COUNT_HEADER)) ?? 0);
        const at = Number(headerText(headerValue(e.message.headers, CHECKED_AT_HEADER)) ?? e.message.timestamp);
        if (n >= p.checks) {
          p.checks = n;
          p.nextCheckAt = at + this.settings.checkIntervalMs;
        }
        p.ops.push(e);
        continue;
      }
      // A commit, rollback or dead-letter whose half entry may still be there.
      if (p !== undefined) {
        resolvedHalf.push(p.entry);
        resolvedOps.push(...p.ops);
        this.pending.delete(p.id);
      }
      resolvedOps.push(e);
    }
    this.settle(half, resolvedHalf);
    this.settle(op, resolvedOps);
  }
}

/** The message routed on commit: as if published now, without the half-message headers. */
function committedCopy(half: Message, now: number, action: 'commit' | 'dead-letter'): Message {
  const properties = { ...half.properties };
  const exp = headerText(headerValue(half.headers, EXPIRATION_HEADER));
  if (exp !== null && exp !== '') properties.expiration = Number(exp);
  const headers = withoutHeaders(half.headers, STRIPPED);
  if (action === 'dead-letter') headers.push({ name: TRANSACTION_HEADER, value: 'dead-letter' });
  return createMessage(half.body, { key: half.key, timestamp: now, properties, headers, native: null, origin: half.origin });
}

/**
 * The publish path of a vhost: collect destinations (exchange bindings, exchange-to-exchange,
 * alternate exchanges, CC/BCC; each exchange visited once per routing key and each destination
 * collected once per publish, by stamps rather than Sets), then store the message once for all
 * of them (one store append with a target per durable queue and stream partition) and enqueue.
 */
import type { AppendTarget, DurabilityMode } from '../../storage/types.js';
import type { PublishResult } from './api.js';
import { isDeadLetterCycle } from './dead-letter.js';
import { AccessRefused, MessageTooLarge, NotFound } from './errors.js';
import type { Exchange, Routable } from './exchange.js';
import type { Header, Message, MessageOrigin } from './message.js';
import type { Queue } from './queue.js';
import { messageTagHash } from './filter-tag.js';
import { lookupKeysOf } from './message-keys.js';
import { keyFromHeaders } from './kafka-key-header.js';
import { ORIGIN_HEADER_PREFIX, encodeMessageBatch, hasOriginHeader } from './record-codec.js';
import type { Stream } from './stream.js';
import type { VhostImpl } from './vhost.js';

export const RESOLVED = Promise.resolve();
const DURABILITY_RANK: Record<DurabilityMode, number> = { none: 0, interval: 1, sync: 2 };
// Results without a durability promise to wait for are shared: no allocation per publish.
const UNROUTABLE: PublishResult = Object.freeze({ status: 'unroutable', destinations: 0, durable: RESOLVED });
const ROUTED: readonly PublishResult[] = Array.from({ length: 64 }, (_, n) => Object.freeze({ status: 'routed' as const, destinations: n, durable: RESOLVED }));

const NO_HEADERS: readonly Header[] = [];

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

export class Router {
  /** Offset the marker target of the last `route`/`publish` with a marker got, -1 when none. */
  lastMarkerOffset = -1;
  private routeStamp = 0;
  private visitStamp = 0;

  constructor(private readonly vh: VhostImpl) {}

  /** Collects the queues and streams a message reaches from `ex` (each at most once). */
  private collect(ex: Exchange, routingKey: string, moreKeys: string[] | null, headers: readonly Header[], out: Routable[]): void {
    const stamp = ++this.routeStamp;
    this.collectKey(ex, routingKey, headers, out, stamp);
    if (moreKeys) for (const rk of moreKeys) this.collectKey(ex, rk, headers, out, stamp);
  }

  private collectKey(ex: Exchange, rk: string, headers: readonly Header[], out: Routable[], stamp: number): void {
    if (ex.name === '') {
      const d: Routable | undefined = this.vh.queuesByName.get(rk) ?? this.vh.streamsByName.get(rk);
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

  /**
   * Collects and stores with a scratch list; see `store`. `marker`: one more target written in
   * the same append (the delayed-delivery and redrive journals: the copy and its marker are one
   * commit-log entry, so either both survive a crash or neither).
   */
  route(ex: Exchange, routingKey: string, moreKeys: string[] | null, m: Message, deadLettered: boolean, marker: AppendTarget | null = null): PublishResult {
    const dests = this.takeScratch();
    try {
      this.collect(ex, routingKey, moreKeys, m.headers, dests);
      return this.store(dests, m, deadLettered, marker);
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
      const ae = this.vh.exchangesByName.get(ex.alternate);
      if (ae && ae.visitMark !== visit) this.walk(ae, rk, headers, out, stamp, visit);
    }
  }

  /**
   * Whether a message with routing key `rk` published to `ex` could reach a destination other
   * than `self`, answered from the bindings alone (no message needed). Conservative where the
   * answer depends on the message: a headers exchange with bindings, an alternate exchange.
   */
  private reachesBeyond(ex: Exchange, rk: string, self: Routable, visit: number): boolean {
    ex.visitMark = visit;
    if (ex.routingType === 'headers') return ex.bindingCount > 0 || ex.alternate !== null;
    const matches = ex.match(rk, NO_HEADERS);
    let reachedSelf = false;
    for (let i = 0; i < matches.length; i++) {
      const d = matches[i]!.destination;
      if (d.kind === 'exchange') {
        if ((d as Exchange).visitMark !== visit && this.reachesBeyond(d as Exchange, rk, self, visit)) return true;
      } else if (d !== self) return true;
      else reachedSelf = true;
    }
    return !reachedSelf && ex.alternate !== null;
  }

  /** Checks a publish can go to `exchangeName` (size, existence, internal) and returns the exchange. */
  checkPublish(exchangeName: string, m: Message): Exchange {
    if (m.body.length > this.vh.ctx.maxMessageBytes) {
      throw new MessageTooLarge(`message of ${m.body.length} bytes exceeds the max message size of ${this.vh.ctx.maxMessageBytes} bytes`);
    }
    const ex = this.vh.exchangesByName.get(exchangeName);
    if (!ex) throw new NotFound(`no ${this.vh.where('exchange', exchangeName)}`);
    if (ex.internal) throw new AccessRefused(`cannot publish to internal ${ex.describe()}`);
    return ex;
  }

  /** Routes and stores a publish (see Channel.publish); `marker` as in `route`. */
  publish(exchangeName: string, routingKey: string, m: Message, _mandatory: boolean, origin: MessageOrigin | null, marker: AppendTarget | null = null): PublishResult {
    if (m.body.length > this.vh.ctx.maxMessageBytes) {
      throw new MessageTooLarge(`message of ${m.body.length} bytes exceeds the max message size of ${this.vh.ctx.maxMessageBytes} bytes`);
    }
    // Half messages, commits and rollbacks (half/half-messages.ts) never take the normal route.
    const half = this.vh.half.intercept(exchangeName, routingKey, m, origin);
    if (half !== null) return half;
    const ex = this.checkPublish(exchangeName, m);
    m.exchange = exchangeName;
    m.routingKey = routingKey;
    m.origin = origin;
    // Only the broker says who published (docs/mapping.md "Publisher identity"); same-protocol
    // deliveries keep the native bytes as sent.
    if (m.headers.length > 0 && hasOriginHeader(m.headers)) m.headers = m.headers.filter((h) => !h.name.startsWith(ORIGIN_HEADER_PREFIX));
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
    return this.route(ex, routingKey, keys, m, false, marker);
  }

  /** Stores `m` in exactly these destinations (internal queues of half messages). */
  storeTo(dests: Routable[], m: Message): PublishResult {
    const scratch = this.takeScratch();
    try {
      for (const d of dests) scratch.push(d);
      return this.store(scratch, m, false);
    } finally {
      this.releaseScratch(scratch);
    }
  }

  /**
   * Routes `m` through `exchangeName` (nothing when it no longer exists) and stores it in the
   * destinations found plus `extra`, in one append: a committed half message and its op entry.
   */
  routeWith(exchangeName: string, routingKey: string, m: Message, extra: Routable): PublishResult {
    m.exchange = exchangeName;
    m.routingKey = routingKey;
    const dests = this.takeScratch();
    try {
      const ex = this.vh.exchangesByName.get(exchangeName);
      if (ex) this.collect(ex, routingKey, null, m.headers, dests);
      if (!dests.includes(extra)) dests.push(extra);
      return this.store(dests, m, false);
    } finally {
      this.releaseScratch(dests);
    }
  }

  /**
   * Stores `m` once for every destination: one append with a target per durable queue and
   * stream partition, then an entry per queue. `deadLettered` applies the DLX cycle rule.
   */
  private store(dests: Routable[], m: Message, deadLettered: boolean, marker: AppendTarget | null = null): PublishResult {
    this.lastMarkerOffset = -1;
    if (dests.length === 0) return UNROUTABLE;
    const now = this.vh.now();
    const size = m.body.length;
    const persistent = m.properties.persistent === true;
    let rejected = false;
    let rank = -1;
    let targets: AppendTarget[] | null = null;
    /** Some destination is a stream: Kafka consumers will read the record, so it carries plain property headers. */
    let toStream = false;
    let dlx: Queue[] | null = null;
    const tag = messageTagHash(m);
    // Refused destinations are taken out of `dests` (compacted in place).
    let kept = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (d.kind === 'queue') {
        const q = d as Queue;
        if (deadLettered && isDeadLetterCycle(m, q.name)) {
          this.vh.ctx.warn({ vhost: this.vh.name, queue: q.name }, 'dead-letter cycle: message dropped');
          continue;
        }
        if (q.settings.overflow !== 'drop-head' && q.isFull(size)) {
          rejected = true;
          if (q.settings.overflow === 'reject-publish-dlx') (dlx ??= []).push(q);
          continue;
        }
        if (q.partition >= 0) {
          (targets ??= []).push({ partition: q.partition, tagHash: tag });
          const r = persistent ? DURABILITY_RANK[q.durability] : 0;
          if (r > rank) rank = r;
        }
      } else if (d.kind === 'stream') {
        const s = d as Stream;
        // Entering a stream, a message of another protocol may name its Kafka key in a header.
        if (!toStream && m.key === null && m.headers.length > 0) m.key = keyFromHeaders(m.headers);
        toStream = true;
        const p = s.partitionForRouted(m.key, m.routingKey);
        (targets ??= []).push({ partition: s.partitionIds[p]!, tagHash: tag });
        const r = DURABILITY_RANK[s.durability];
        if (r > rank) rank = r;
      } else continue;
      dests[kept++] = d;
    }
    dests.length = kept;
    let durable = RESOLVED;
    let offsets: number[] | null = null;
    if (marker !== null && kept > 0) (targets ??= []).push(marker);
    if (targets !== null) {
      const mode: DurabilityMode = rank === 2 ? 'sync' : rank === 1 ? 'interval' : 'none';
      const keys = lookupKeysOf(m);
      const res = this.vh.ctx.store.append({
        batch: encodeMessageBatch(m, now, toStream),
        recordCount: 1,
        firstTimestamp: m.timestamp,
        maxTimestamp: m.timestamp,
        targets,
        durability: mode,
        ...(keys.length > 0 ? { keys } : {}),
      });
      offsets = res.baseOffsets;
      if (rank > 0) durable = res.durable;
      if (marker !== null && kept > 0) this.lastMarkerOffset = offsets[offsets.length - 1]!;
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
        q.enqueue({ offset, message: m, size, expiresAt, immediate: expiresAt <= now, priority, deliveries: 0, redelivered: false });
      } else {
        const s = d as Stream;
        ti++;
        const p = s.partitionForRouted(m.key, m.routingKey);
        s.appended(p, this.vh.ctx.store.endOffset(s.partitionIds[p]!));
      }
    }
    if (dlx) for (const q of dlx) this.vh.deadLetter(q, [{ offset: -1, message: m, size, expiresAt: Infinity, immediate: false, priority, deliveries: 0, redelivered: false }], 'maxlen');
    const status = rejected ? 'rejected' : kept > 0 ? 'routed' : 'unroutable';
    if (durable === RESOLVED && status === 'routed' && kept < ROUTED.length) return ROUTED[kept]!;
    return { status, destinations: kept, durable };
  }

  /** Routes records produced to a stream through `amq.topic` to every other destination (ARCHITECTURE "Addressing"). */
  forwardToTopicExchange(s: Stream, decode: () => Message[]): void {
    const ex = this.vh.exchangesByName.get('amq.topic');
    if (!ex) return;
    // Decoding the produced batch is most of a produce's CPU: ask the bindings first.
    if (!this.reachesBeyond(ex, s.name, s, ++this.visitStamp)) return;
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
}

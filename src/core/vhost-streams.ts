/**
 * The stream half of a vhost: create/delete/grow streams, produce (RecordBatches stored as
 * given), reads by offset or timestamp, long-poll waits and config.
 */
import {
  CorruptRecordBatchError,
  decodeRecordBatch,
  encodeRecordBatch,
  readRecordBatchHeader,
  splitRecordBatches,
  verifyRecordBatchCrc,
} from '../../storage/record-batch.js';
import type {
  Arguments,
  OffsetSpec,
  PartitionOffsets,
  Policy,
  ProduceOptions,
  ProduceRecord,
  ProduceResult,
  StreamBatch,
  StreamInfo,
  StreamMessage,
  StoredRange,
  RouteStoredOptions,
  StreamOptions,
} from './api.js';
import { InvalidArgument, MessageTooLarge, NotFound, PreconditionFailed } from './errors.js';
import type { StreamDef } from './journal.js';
import type { Message, MessageOrigin } from './message.js';
import { scanRecordBatch } from '../../storage/record-keys.js';
import { FILTER_VALUE_HEADER, tagHash, TAG_NONE, TAG_UNKNOWN } from './filter-tag.js';
import type { MessageFilter } from './message-filter.js';
import { pickPolicy } from './queue-args.js';
import { decodeBatchMessages, ORIGIN_HEADER_PREFIX, withoutOriginHeaders } from './record-codec.js';
import { Stream } from './stream.js';
import { streamRetentionPolicy } from './stream-retention.js';
import type { VhostImpl } from './vhost.js';

const RESOLVED = Promise.resolve();
const READ_CHUNK_BYTES = 1 << 20;

export function streamDef(s: Stream): StreamDef {
  return {
    name: s.name,
    partitions: [...s.partitionIds],
    retentionMs: s.retentionMs,
    retentionBytes: s.retentionBytes,
    durability: s.durability,
    config: s.config,
    bindToTopicExchange: s.bindToTopicExchange,
    queueArgs: s.queueArgs,
  };
}

function setRetention(vh: VhostImpl, s: Stream, retentionBytes = s.retentionBytes): void {
  const policy = streamRetentionPolicy(s.config, s.retentionMs, retentionBytes);
  for (const id of s.partitionIds) vh.ctx.store.setPolicy(id, policy);
}

function bindDefault(vh: VhostImpl, s: Stream): void {
  if (!s.bindToTopicExchange) return;
  // 'T.#' also matches 'T' itself ('#' matches zero words), so one binding covers both.
  const topic = vh.exchangesByName.get('amq.topic')!;
  void vh.addBinding(topic, s, `${s.name}.#`, {}, false);
}

export async function createStream(vh: VhostImpl, name: string, o: StreamOptions, queueArgs: Arguments | null): Promise<Stream> {
  const n = o.partitions ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgument(`invalid partition count ${n} for stream '${name}' in vhost '${vh.name}'`);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(vh.ctx.allocatePartition());
  const s = new Stream(
    name,
    vh.name,
    ids,
    o.retentionMs ?? vh.ctx.defaultStreamRetentionMs,
    o.retentionBytes ?? vh.ctx.defaultStreamRetentionBytes,
    o.durability ?? vh.options.durability ?? vh.ctx.defaultDurability,
    { ...(o.config ?? {}) },
    o.bindToTopicExchange ?? true,
    queueArgs,
  );
  setRetention(vh, s);
  vh.streamsByName.set(name, s);
  bindDefault(vh, s);
  await vh.ctx.journal.write({ t: 's', v: vh.name, d: streamDef(s) });
  return s;
}

export function restoreStream(vh: VhostImpl, d: StreamDef): void {
  const s = new Stream(d.name, vh.name, [...d.partitions], d.retentionMs, d.retentionBytes, d.durability, d.config, d.bindToTopicExchange, d.queueArgs);
  setRetention(vh, s);
  vh.streamsByName.set(d.name, s);
  bindDefault(vh, s);
}

export async function declareStream(vh: VhostImpl, name: string, o: StreamOptions): Promise<StreamInfo> {
  const existing = vh.streamsByName.get(name);
  if (existing) {
    if (!o.passive && o.partitions !== undefined && o.partitions !== existing.partitions) {
      throw new PreconditionFailed(`${existing.describe()} has ${existing.partitions} partitions, declared with ${o.partitions}`);
    }
    return existing.info();
  }
  if (o.passive) throw new NotFound(`no stream '${name}' in vhost '${vh.name}'`);
  if (vh.queuesByName.has(name)) throw new PreconditionFailed(`cannot create stream '${name}' in vhost '${vh.name}': a queue has that name`);
  return (await createStream(vh, name, o, null)).info();
}

export async function deleteStream(vh: VhostImpl, name: string): Promise<void> {
  const s = vh.streamsByName.get(name);
  if (!s) return;
  s.deleted = true;
  vh.streamsByName.delete(name);
  for (const c of [...vh.streamConsumers]) {
    if (c.stream !== s) continue;
    vh.streamConsumers.delete(c);
    c.cancel();
    (c.channel as import('./channel.js').ChannelImpl).consumerCancelled(c, 'stream deleted');
  }
  for (const b of [...(s.boundBy ?? [])]) b.source.remove(b);
  for (const g of vh.offsets.values()) g.delete(name);
  s.wakeAll();
  await vh.ctx.journal.write({ t: 's-', v: vh.name, n: name });
  for (const id of s.partitionIds) await vh.ctx.store.dropPartition(id);
}

export async function addPartitions(vh: VhostImpl, name: string, total: number): Promise<void> {
  const s = vh.streamFor(name);
  if (!Number.isInteger(total) || total < s.partitions) throw new InvalidArgument(`${s.describe()} has ${s.partitions} partitions: cannot shrink to ${total}`);
  if (total === s.partitions) return;
  while (s.partitionIds.length < total) s.partitionIds.push(vh.ctx.allocatePartition());
  setRetention(vh, s);
  await vh.ctx.journal.write({ t: 's', v: vh.name, d: streamDef(s) });
}

export function streamConfig(vh: VhostImpl, name: string): Record<string, string> {
  const s = vh.streamFor(name);
  return { ...s.config, 'retention.ms': String(s.retentionMs), 'retention.bytes': String(s.retentionBytes) };
}

export async function setStreamConfig(vh: VhostImpl, name: string, entries: Record<string, string | null>): Promise<void> {
  const s = vh.streamFor(name);
  for (const [k, v] of Object.entries(entries)) {
    if (k === 'retention.ms' || k === 'retention.bytes') {
      const n = v === null ? (k === 'retention.ms' ? vh.ctx.defaultStreamRetentionMs : vh.ctx.defaultStreamRetentionBytes) : Number(v);
      if (!Number.isInteger(n) || n < -1) throw new InvalidArgument(`invalid value '${v}' for ${k} of ${s.describe()}`);
      if (k === 'retention.ms') s.retentionMs = n;
      else s.retentionBytes = n;
    } else if (v === null) delete s.config[k];
    else s.config[k] = v;
  }
  setRetention(vh, s);
  await vh.ctx.journal.write({ t: 's', v: vh.name, d: streamDef(s) });
}

export function applyStreamPolicies(vh: VhostImpl, policies: Iterable<Policy>): void {
  const list = [...policies];
  for (const s of vh.streamsByName.values()) {
    const p = pickPolicy(list, s.name, 'streams');
    const bytes = p?.definition['max-length-bytes'];
    if (typeof bytes === 'number' && s.retentionBytes === -1) setRetention(vh, s, bytes);
  }
}

function partitionId(s: Stream, partition: number): number {
  const id = s.partitionIds[partition];
  if (id === undefined || partition < 0) throw new NotFound(`no partition ${partition} of ${s.describe()}`);
  return id;
}

export function produce(vh: VhostImpl, stream: string, partition: number | null, batch: Buffer, o: ProduceOptions = {}, origin?: MessageOrigin): ProduceResult {
  const s = vh.streamFor(stream);
  let batches: Buffer[];
  try {
    batches = splitRecordBatches(batch);
  } catch (err) {
    throw new InvalidArgument(`corrupt record batch for ${s.describe()}: ${(err as Error).message}`);
  }
  if (batches.length === 0) throw new InvalidArgument(`empty produce to ${s.describe()}`);
  let p = partition;
  if (p === null) {
    let key: Buffer | null = null;
    if (s.partitions > 1) {
      try {
        key = decodeRecordBatch(batches[0]!).records[0]?.key ?? null;
      } catch (err) {
        if (err instanceof CorruptRecordBatchError) throw new InvalidArgument(`corrupt record batch for ${s.describe()}: ${err.message}`);
        throw err;
      }
    }
    p = s.partitionForProduce(key);
  }
  const id = partitionId(s, p);
  const now = vh.now();
  let baseOffset = -1;
  let durable: Promise<void> = RESOLVED;
  let retained = false;
  const mode = o.durability ?? s.durability;
  for (let i = 0; i < batches.length; i++) {
    let b = batches[i]!;
    if (b.length > vh.ctx.maxMessageBytes) throw new MessageTooLarge(`record batch of ${b.length} bytes exceeds the max message size of ${vh.ctx.maxMessageBytes} bytes`);
    if (!verifyRecordBatchCrc(b)) throw new InvalidArgument(`record batch CRC mismatch for ${s.describe()}`);
    let indexing = producedBatchIndexing(b);
    if (indexing.originHeaders) {
      // Only the broker says who published: a producer's own x-pb-origin-* headers are not stored.
      try {
        batches[i] = b = withoutOriginHeaders(b);
      } catch (err) {
        if (err instanceof CorruptRecordBatchError) throw new InvalidArgument(`corrupt record batch for ${s.describe()}: ${err.message}`);
        throw err;
      }
      indexing = producedBatchIndexing(b);
    }
    const h = readRecordBatchHeader(b);
    const res = vh.ctx.store.append({
      batch: b,
      recordCount: h.lastOffsetDelta + 1,
      firstTimestamp: h.baseTimestamp,
      maxTimestamp: h.maxTimestamp,
      targets: [{ partition: id, tagHash: indexing.tagHash }],
      durability: mode,
      ...(indexing.keys ? { keys: indexing.keys } : {}),
      batchCrcVerified: true,
    });
    if (baseOffset < 0) baseOffset = res.baseOffsets[0]!;
    vh.ctx.counts.published[origin?.protocol ?? 'kafka'] += h.lastOffsetDelta + 1;
    if (mode !== 'none') durable = res.durable;
    if (res.batchRetained !== false) retained = true;
  }
  s.appended(p, vh.ctx.store.endOffset(id));
  if (o.route === false) return { partition: p, baseOffset, logAppendTime: now, durable };
  vh.forwardToTopicExchange(s, () => {
    // Decoded messages are views of the batch.
    retained = true;
    const out: Message[] = [];
    for (const b of batches) {
      try {
        // Straight from a Kafka producer: its meta headers are not trusted, its origin is the connection's.
        for (const d of decodeBatchMessages(b, 0, stream, false)) {
          if (d.isControl) continue;
          d.message.origin = origin ?? null;
          out.push(d.message);
        }
      } catch (err) {
        vh.ctx.warn({ stream, err: String(err) }, 'cannot decode produced batch for routing');
      }
    }
    return out;
  });
  return { partition: p, baseOffset, logAppendTime: now, durable, batchRetained: retained };
}

export async function routeStored(vh: VhostImpl, ranges: readonly StoredRange[], options: RouteStoredOptions = {}): Promise<number> {
  const work: { s: Stream; id: number; batches: { baseOffset: number; batch: Buffer }[] }[] = [];
  for (const r of ranges) {
    const s = vh.streamFor(r.stream);
    const id = partitionId(s, r.partition);
    const batches: { baseOffset: number; batch: Buffer }[] = [];
    let off = r.from;
    while (off < r.to) {
      const read = await vh.ctx.store.read(id, off, READ_CHUNK_BYTES);
      if (read.length === 0) break;
      for (const b of read) {
        if (b.baseOffset >= r.to) {
          off = r.to;
          break;
        }
        off = b.baseOffset + b.recordCount;
        const h = readRecordBatchHeader(b.batch);
        if (h.producerId === r.producerId && !h.isControl) batches.push({ baseOffset: b.baseOffset, batch: b.batch });
      }
    }
    work.push({ s, id, batches });
  }
  const decode = (s: Stream, id: number, batches: { baseOffset: number; batch: Buffer }[]): Message[] => {
    const out: Message[] = [];
    for (const b of batches) {
      try {
        // Kafka-produced: a meta header in them is not the core's (see decodeRecord).
        for (const d of decodeBatchMessages(b.batch, b.baseOffset, s.name, false)) {
          if (d.isControl) continue;
          d.message.routedFrom = routedFromKey(id, d.offset);
          if (options.origin !== undefined) d.message.origin = options.origin;
          out.push(d.message);
        }
      } catch (err) {
        vh.ctx.warn({ stream: s.name, err: String(err) }, 'cannot decode stored batch for routing');
      }
    }
    return out;
  };
  // After a restart the copies already stored are looked up first (async, before the synchronous
  // routing step); otherwise records are decoded only if the topic exchange routes them anywhere.
  // (One entry per range: two partitions of a stream are two ranges.)
  const known: (Message[] | null)[] = [];
  for (const { s, id, batches } of work) known.push(options.skipRouted ? await notYetRouted(vh, decode(s, id, batches)) : null);
  let routed = 0;
  for (let i = 0; i < work.length; i++) {
    const { s, id, batches } = work[i]!;
    if (s.deleted) continue;
    vh.forwardToTopicExchange(s, () => {
      const out = known[i] ?? decode(s, id, batches);
      routed += out.length;
      return out;
    });
  }
  return routed;
}

/** The lookup key of a routed copy: the stream record's storage partition (unique per created partition) and offset. */
function routedFromKey(partition: number, offset: number): string {
  return `\u0000routed:${partition}:${offset}`;
}

/**
 * The messages whose routed copy is not in the log. A copy is one entry for all its targets
 * (router.ts), so it is there for every target or for none.
 */
async function notYetRouted(vh: VhostImpl, messages: Message[]): Promise<Message[]> {
  const out: Message[] = [];
  for (const m of messages) {
    const key = m.routedFrom!;
    let stored = false;
    for (const entry of await vh.ctx.store.lookupKey(key, 4)) {
      try {
        // The index has hash collisions: confirm on the decoded copy.
        if (decodeBatchMessages(entry.batch, 0, '').some((d) => d.message.routedFrom === key)) stored = true;
      } catch {
        // not a core message batch: a collision
      }
      if (stored) break;
    }
    if (!stored) out.push(m);
  }
  return out;
}

const FILTER_HEADER_BYTES = Buffer.from(FILTER_VALUE_HEADER);
const ORIGIN_PREFIX_BYTES = Buffer.from(ORIGIN_HEADER_PREFIX);

/**
 * What the index learns of a produced batch without decoding it: its record keys (message-key
 * index) and its tag hash: the filter value's when every record has the same one, none when
 * no record has one, else unknown (read and checked record by record).
 */
function producedBatchIndexing(batch: Buffer): { tagHash: number; keys?: string[]; originHeaders: boolean } {
  const scan = scanRecordBatch(batch, FILTER_HEADER_BYTES, ORIGIN_PREFIX_BYTES);
  const v = scan.headerValue;
  const tag = v === 'mixed' ? TAG_UNKNOWN : v === null ? TAG_NONE : tagHash(v.toString('utf8'));
  const originHeaders = scan.prefixSeen;
  if (scan.keys.length === 0) return { tagHash: tag, originHeaders };
  const keys: string[] = [];
  for (const k of scan.keys) {
    if (k.length === 0) continue;
    const t = k.toString('utf8');
    if (!keys.includes(t)) keys.push(t);
  }
  return keys.length > 0 ? { tagHash: tag, keys, originHeaders } : { tagHash: tag, originHeaders };
}

export function produceRecords(vh: VhostImpl, stream: string, partition: number | null, records: ProduceRecord[], o?: ProduceOptions, origin?: MessageOrigin): ProduceResult {
  const s = vh.streamFor(stream);
  const p = partition ?? s.partitionForProduce(records[0]?.key ?? null);
  const now = vh.now();
  const batch = encodeRecordBatch({
    records: records.map((r) => ({ key: r.key, value: r.value, headers: (r.headers ?? []).map((h) => [h.key, h.value] as [string, Buffer | null]), timestamp: r.timestamp ?? now })),
  });
  return produce(vh, stream, p, batch, o, origin);
}

export function partitionOffsets(vh: VhostImpl, stream: string, partition: number): PartitionOffsets {
  const s = vh.streamFor(stream);
  const id = partitionId(s, partition);
  const hw = vh.ctx.store.endOffset(id);
  return { startOffset: vh.ctx.store.startOffset(id), highWatermark: hw, lastStableOffset: vh.ctx.lastStableOffset(vh.name, stream, partition, hw) };
}

export function resolveOffset(vh: VhostImpl, stream: string, partition: number, spec: OffsetSpec): number {
  const s = vh.streamFor(stream);
  const id = partitionId(s, partition);
  const start = vh.ctx.store.startOffset(id);
  const end = vh.ctx.store.endOffset(id);
  if (spec === 'first') return start;
  if (spec === 'next') return end;
  if (spec === 'last') return end > start ? end - 1 : start;
  if ('offset' in spec) return Math.min(Math.max(spec.offset, start), end);
  return Math.max(vh.ctx.store.offsetForTimestamp(id, spec.timestamp), start);
}

export async function fetch(vh: VhostImpl, stream: string, partition: number, offset: number, maxBytes: number): Promise<StreamBatch[]> {
  const s = vh.streamFor(stream);
  const id = partitionId(s, partition);
  const batches = await vh.ctx.store.read(id, offset, maxBytes);
  // Only Kafka fetches read stored batches: count the records served as Kafka deliveries.
  for (const b of batches) vh.ctx.counts.delivered.kafka += b.recordCount;
  return batches.map((b) => ({ baseOffset: b.baseOffset, recordCount: b.recordCount, timestamp: b.timestamp, batch: b.batch }));
}

export async function readMessages(vh: VhostImpl, stream: string, partition: number, offset: number, maxMessages: number): Promise<StreamMessage[]> {
  const s = vh.streamFor(stream);
  const id = partitionId(s, partition);
  const out: StreamMessage[] = [];
  let off = Math.max(offset, vh.ctx.store.startOffset(id));
  // Read about what is asked for (1 KiB a message), not a whole chunk per call: a consumer
  // asking for 256 messages would otherwise read and decode four times what it gets.
  const bytes = Math.min(READ_CHUNK_BYTES, Math.max(64 * 1024, maxMessages * 1024));
  while (out.length < maxMessages && off < vh.ctx.store.endOffset(id)) {
    const batches = await vh.ctx.store.read(id, off, bytes);
    if (batches.length === 0) break;
    for (const b of batches) {
      if (out.length >= maxMessages) break;
      for (const d of decodeBatchMessages(b.batch, b.baseOffset, stream)) {
        if (d.offset < off || d.isControl || out.length >= maxMessages) continue;
        out.push({ offset: d.offset, message: d.message });
      }
    }
    const last = batches[batches.length - 1]!;
    off = last.baseOffset + last.recordCount;
  }
  return out;
}

/** Batches a filtered read scans per call before it answers (with what it found, maybe nothing). */
const FILTER_SCAN_CALLS = 4;

/**
 * Messages from `offset` that pass `filter`, at most `maxMessages`: batches whose tag hash
 * cannot match are skipped from the index without being read. `nextOffset` is where to go on
 * (past everything scanned), so a consumer advances through long non-matching runs.
 */
export async function readFilteredMessages(
  vh: VhostImpl,
  stream: string,
  partition: number,
  offset: number,
  maxMessages: number,
  filter: MessageFilter,
): Promise<{ messages: StreamMessage[]; nextOffset: number }> {
  const s = vh.streamFor(stream);
  const id = partitionId(s, partition);
  const messages: StreamMessage[] = [];
  let off = Math.max(offset, vh.ctx.store.startOffset(id));
  const accept = (h: number): boolean => filter.acceptsTag(h);
  // As in readMessages: read about what is asked for, or the rest is scanned and read again.
  const bytes = Math.min(READ_CHUNK_BYTES, Math.max(64 * 1024, maxMessages * 1024));
  for (let call = 0; call < FILTER_SCAN_CALLS && messages.length === 0 && off < vh.ctx.store.endOffset(id); call++) {
    const r = await vh.ctx.store.readFiltered(id, off, bytes, accept);
    let next = r.nextOffset;
    outer: for (const b of r.batches) {
      for (const d of decodeBatchMessages(b.batch, b.baseOffset, stream)) {
        if (d.offset < off || d.isControl) continue;
        if (messages.length >= maxMessages) {
          next = d.offset;
          break outer;
        }
        if (filter.accepts(d.message)) messages.push({ offset: d.offset, message: d.message });
      }
    }
    if (next <= off) break;
    off = next;
  }
  return { messages, nextOffset: off };
}

export function waitForData(vh: VhostImpl, stream: string, partition: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const s = vh.streamFor(stream);
  const id = partitionId(s, partition);
  if (vh.ctx.store.endOffset(id) > offset) return Promise.resolve(true);
  if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false);
  return s.wait(partition, offset, timeoutMs, signal);
}

export function deleteRecordsBefore(vh: VhostImpl, stream: string, partition: number, offset: number): void {
  const s = vh.streamFor(stream);
  vh.ctx.store.truncateBefore(partitionId(s, partition), offset);
}

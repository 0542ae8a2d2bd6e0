import { fetch } from '../schema/apis.js';
import { mayTopic } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import type { Handler, RequestContext } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

const EMPTY = Buffer.alloc(0);

/** Fetch isolation levels (KIP-98). */
const READ_COMMITTED = 1;

interface PartitionFetch {
  /** Topic name ('' when a v13+ topic id is unknown). */
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

interface Collected {
  responses: Message[];
  bytes: number;
  error: boolean;
  /** High watermark of each requested partition when read (what a long poll waits to pass). */
  highWatermarks: number[];
}

/**
 * Fetch: stored RecordBatches are returned as stored, with the partition's base offset written
 * into the first 8 bytes of each (the CRC does not cover them). Limits as Kafka applies them
 * (KIP-74): partitionMaxBytes per partition and maxBytes in total (capped by the broker's
 * `kafka.fetchMaxBytes`), but the first batch is sent whole even when larger, so a consumer can
 * always progress. With fewer than minBytes ready, the
 * request long-polls: it is woken by the core when a partition's high watermark moves and
 * answered when minBytes is reached or maxWaitMs passes. read_committed stops at the last stable
 * offset. Fetch sessions (KIP-227) are declined: every response has session id 0, so clients
 * keep sending full fetch requests.
 */
export const fetchHandler: Handler = {
  api: fetch,
  minVersion: 0,
  maxVersion: 17,
  async handle(req, ctx) {
    if (req.sessionId !== 0 && req.sessionEpoch > 0) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
    }
    const parts: PartitionFetch[] = [];
    for (const t of req.topics as Message[]) {
      // v13+ (KIP-516) names topics by id.
      if (ctx.apiVersion >= 13) t.topic = ctx.node.topicById(t.topicId) ?? '';
      for (const p of t.partitions as Message[]) {
        parts.push({ topic: t.topic, partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes });
      }
    }
    // The broker's fetch.max.bytes caps the request's (v0-2 have none); min_bytes cannot exceed it.
    const maxBytes = Math.min(req.maxBytes > 0 ? req.maxBytes : 0x7fffffff, ctx.node.options.fetchMaxBytes);
    const minBytes = Math.min(Math.max(1, req.minBytes), maxBytes);
    const readCommitted = req.isolationLevel === READ_COMMITTED;
    // Until open transactions are rebuilt after a start, the last stable offset is not known.
    const recovering = readCommitted ? ctx.node.producers.whenReady() : null;
    if (recovering) await recovering;
    let result = await collect(ctx, req.topics, parts, maxBytes, readCommitted);
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    while (result.bytes < minBytes && !result.error && !ctx.conn.closed.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const woke = await waitForAny(ctx, parts, result.highWatermarks, remaining);
      if (ctx.conn.closed.aborted) return null;
      result = await collect(ctx, req.topics, parts, maxBytes, readCommitted);
      if (!woke) break;
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: result.responses };
  },
};

async function collect(ctx: RequestContext, topics: Message[], parts: PartitionFetch[], maxBytes: number, readCommitted: boolean): Promise<Collected> {
  const vhost = ctx.node.vhost();
  const out: Collected = { responses: [], bytes: 0, error: false, highWatermarks: [] };
  let i = 0;
  for (const t of topics) {
    const partitions: Message[] = [];
    out.responses.push({ topic: t.topic, topicId: t.topicId, partitions });
    for (let n = 0; n < t.partitions.length; n++, i++) {
      const p = parts[i]!;
      const entry: Message = {
        partitionIndex: p.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions: readCommitted ? [] : null,
        preferredReadReplica: -1,
        // Kafka sends empty records, never null: librdkafka rejects a -1 size.
        records: EMPTY,
      };
      partitions.push(entry);
      out.highWatermarks.push(-1);
      if (p.topic !== '' && !mayTopic(ctx.node, ctx.conn, p.topic, 'read')) {
        entry.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        out.error = true;
        continue;
      }
      try {
        const info = p.topic === '' ? null : vhost.stream(p.topic);
        if (!info || p.partition < 0 || p.partition >= info.partitions) {
          entry.errorCode = p.topic === '' ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          out.error = true;
          continue;
        }
        const offsets = vhost.partitionOffsets(p.topic, p.partition);
        entry.highWatermark = offsets.highWatermark;
        entry.lastStableOffset = offsets.lastStableOffset;
        entry.logStartOffset = offsets.startOffset;
        out.highWatermarks[out.highWatermarks.length - 1] = offsets.highWatermark;
        if (p.fetchOffset < offsets.startOffset || p.fetchOffset > offsets.highWatermark) {
          entry.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
          out.error = true;
          continue;
        }
        const limit = readCommitted ? offsets.lastStableOffset : offsets.highWatermark;
        const budget = Math.min(p.partitionMaxBytes, maxBytes - out.bytes);
        if (p.fetchOffset >= limit || budget <= 0) continue;
        const batches = await vhost.fetch(p.topic, p.partition, p.fetchOffset, budget);
        const chunks: Buffer[] = [];
        let size = 0;
        let lastFetchedOffset = p.fetchOffset;
        for (const b of batches) {
          if (b.baseOffset >= limit) break;
          // KIP-74: only the very first batch of the response may exceed the limits.
          if (size + b.batch.length > budget && (size > 0 || out.bytes > 0)) break;
          const head = Buffer.allocUnsafe(8);
          head.writeBigInt64BE(BigInt(b.baseOffset), 0);
          chunks.push(head, b.batch.subarray(8));
          size += b.batch.length;
          lastFetchedOffset = b.baseOffset + b.recordCount - 1;
        }
        if (chunks.length > 0) {
          entry.records = chunks;
          out.bytes += size;
          if (readCommitted) {
            // The aborted transactions among the returned batches, so the client drops their records.
            const end = lastFetchedOffset;
            const aborted = ctx.node.producers.existing(p.topic, p.partition)?.abortedIn(p.fetchOffset, end) ?? [];
            entry.abortedTransactions = aborted.map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }));
          }
        }
      } catch (e) {
        entry.errorCode = errorCodeFor(e);
        out.error = true;
        ctx.node.log.warn({ err: e, topic: p.topic, partition: p.partition }, 'fetch failed');
      }
    }
  }
  return out;
}

/** Resolves true when any partition's high watermark moves past what the last read saw. */
async function waitForAny(ctx: RequestContext, parts: PartitionFetch[], highWatermarks: number[], timeoutMs: number): Promise<boolean> {
  const vhost = ctx.node.vhost();
  const ac = new AbortController();
  const onClose = () => ac.abort();
  ctx.conn.closed.addEventListener('abort', onClose);
  try {
    const waits: Promise<boolean>[] = [];
    parts.forEach((p, i) => {
      const hw = highWatermarks[i]!;
      if (hw >= 0) waits.push(vhost.waitForData(p.topic, p.partition, hw, timeoutMs, ac.signal));
    });
    if (waits.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        ac.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      return false;
    }
    return await Promise.race(waits);
  } finally {
    ac.abort();
    ctx.conn.closed.removeEventListener('abort', onClose);
  }
}

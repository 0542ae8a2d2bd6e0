import { listOffsets } from '../schema/apis.js';
import { mayTopic } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import { batchMaxTimestamp } from '../mapping/produce-batch.js';
import type { Handler, RequestContext } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/** Special timestamps of ListOffsets (KIP-79, KIP-734, KIP-1005). */
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

/**
 * ListOffsets: earliest (log start), latest (high watermark, or the last stable offset for
 * read_committed), by timestamp (the first record whose timestamp is >= it; -1/-1 when none),
 * and max timestamp (v7+: the record with the largest timestamp).
 * v0 answers in `oldStyleOffsets`. Leader epoch is always 0: this node is the only leader.
 */
export const listOffsetsHandler: Handler = {
  api: listOffsets,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    // Until open transactions are rebuilt after a start, the last stable offset is not known.
    const recovering = req.isolationLevel === 1 ? ctx.node.producers.whenReady() : null;
    if (recovering) await recovering;
    const topics: Message[] = [];
    for (const t of req.topics as Message[]) {
      const partitions: Message[] = [];
      topics.push({ name: t.name, partitions });
      const allowed = mayTopic(ctx.node, ctx.conn, t.name, 'read');
      for (const p of t.partitions as Message[]) {
        if (!allowed) {
          partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 });
          continue;
        }
        partitions.push(await listPartition(ctx, t.name, p.partitionIndex, p.timestamp, req.isolationLevel === 1));
      }
    }
    return { throttleTimeMs: 0, topics };
  },
};

async function listPartition(ctx: RequestContext, topic: string, partition: number, timestamp: number, readCommitted: boolean): Promise<Message> {
  const vhost = ctx.node.vhost();
  const answer = (offset: number, ts: number): Message => ({
    partitionIndex: partition,
    errorCode: ErrorCode.NONE,
    oldStyleOffsets: offset >= 0 ? [offset] : [],
    timestamp: ts,
    offset,
    leaderEpoch: 0,
  });
  try {
    const info = vhost.stream(topic);
    if (!info || partition < 0 || partition >= info.partitions) {
      return { partitionIndex: partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
    }
    const o = vhost.partitionOffsets(topic, partition);
    switch (timestamp) {
      case LATEST:
      case LATEST_TIERED:
        return answer(readCommitted ? o.lastStableOffset : o.highWatermark, -1);
      case EARLIEST:
      case EARLIEST_LOCAL:
        return answer(o.startOffset, -1);
      case MAX_TIMESTAMP:
        return await maxTimestamp(ctx, topic, partition, o.startOffset, o.highWatermark, answer);
      default:
        return await byTimestamp(ctx, topic, partition, timestamp, o.highWatermark, answer);
    }
  } catch (e) {
    return { partitionIndex: partition, errorCode: errorCodeFor(e), oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
  }
}

/**
 * The first record whose timestamp is >= `timestamp`: the time index finds the batch, then the
 * batch's records (decoded by the core) give the exact offset, as Kafka's LogSegment does.
 */
async function byTimestamp(
  ctx: RequestContext,
  topic: string,
  partition: number,
  timestamp: number,
  end: number,
  answer: (offset: number, ts: number) => Message,
): Promise<Message> {
  const vhost = ctx.node.vhost();
  let offset = vhost.resolveOffset(topic, partition, { timestamp });
  // The index is by batch: step back to the batch that may hold earlier matching records.
  const [first] = await vhost.fetch(topic, partition, Math.min(offset, Math.max(end - 1, 0)), 1);
  if (first && first.baseOffset < offset) offset = first.baseOffset;
  while (offset < end) {
    const messages = await vhost.readMessages(topic, partition, offset, 500);
    if (messages.length === 0) break;
    for (const m of messages) if (m.message.timestamp >= timestamp) return answer(m.offset, m.message.timestamp);
    offset = messages[messages.length - 1]!.offset + 1;
  }
  return answer(-1, -1);
}

/** Scans the partition's batches for the largest maxTimestamp (Kafka keeps it in memory; we read). */
async function maxTimestamp(
  ctx: RequestContext,
  topic: string,
  partition: number,
  start: number,
  end: number,
  answer: (offset: number, ts: number) => Message,
): Promise<Message> {
  const vhost = ctx.node.vhost();
  let best = -1;
  let bestOffset = -1;
  let bestBatch = -1;
  let offset = start;
  while (offset < end) {
    const batches = await vhost.fetch(topic, partition, offset, 1 << 20);
    if (batches.length === 0) break;
    for (const b of batches) {
      const ts = batchMaxTimestamp(b.batch);
      const last = b.baseOffset + b.recordCount - 1;
      if (ts > best) {
        best = ts;
        bestOffset = last;
        bestBatch = b.baseOffset;
      }
      offset = last + 1;
    }
  }
  if (bestBatch >= 0) {
    // The exact record inside the batch (KIP-734 asks for the record's offset).
    const messages = await vhost.readMessages(topic, partition, bestBatch, bestOffset - bestBatch + 1);
    const hit = messages.find((m) => m.message.timestamp === best);
    if (hit) bestOffset = hit.offset;
  }
  return answer(bestOffset, best);
}

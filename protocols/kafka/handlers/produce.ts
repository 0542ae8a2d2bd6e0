import { produce } from '../schema/apis.js';
import { mayTopic, topicDenied } from '../mapping/authorize.js';
import { ErrorCode, KafkaError, errorCodeFor } from '../mapping/errors.js';
import { checkProducedRecords, isCorruptBatchError, withLogAppendTime } from '../mapping/produce-batch.js';
import { batchProducerId } from '../mapping/produce-guard.js';
import type { Handler, RequestContext } from './handler.js';
import { TRANSACTION_LOG } from '../transactions/transaction-log.js';
import { PRODUCER_SNAPSHOTS } from '../producers/producer-snapshots.js';
import type { Message } from '../codec/schema-codec.js';
import { firstKeylessRecord } from '../../../src/core/index.js';

/**
 * Produce: each partition's RecordBatch is checked (magic 2, CRC32C, size, codec), stamped
 * with LogAppendTime when the topic asks for it, and appended through the core, which stores the
 * bytes as produced and also routes the records through `amq.topic` with routing key = topic.
 * acks=0: no response; acks=1: answered once appended; acks=all (-1): answered once the
 * append's durability promise holds (fsynced in `sync` mode).
 *
 * Appends happen synchronously in request order when the topic exists, so pipelined produce
 * requests on one connection keep their order. Idempotent and transactional batches (producer
 * id >= 0) pass through `node.produceGuard` when one is installed (issue 9); without one they are
 * stored as they come.
 */
export const produceHandler: Handler = {
  api: produce,
  minVersion: 0,
  maxVersion: 11,
  async handle(req, ctx) {
    const acks = req.acks as number;
    const responses: Message[] = [];
    const durable: Promise<void>[] = [];
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      for (const t of req.topicData) {
        responses.push({
          name: t.name,
          partitionResponses: t.partitionData.map((p: Message) => partitionError(p.index, ErrorCode.INVALID_REQUIRED_ACKS, null)),
        });
      }
      return { responses, throttleTimeMs: 0 };
    }
    // Producer state is being rebuilt after a start: produces of idempotent and transactional
    // producers wait (in arrival order); plain producers do not need it.
    const guardPending = ctx.node.produceGuard?.whenReady();
    if (guardPending && hasProducerId(req.topicData as Message[])) await guardPending;
    for (const t of req.topicData as Message[]) {
      const partitionResponses: Message[] = [];
      responses.push({ name: t.name, partitionResponses });
      if (t.name === TRANSACTION_LOG || t.name === PRODUCER_SNAPSHOTS) {
        // Internal topic: only the transaction coordinator writes it (Kafka answers the same).
        for (const p of t.partitionData) partitionResponses.push(partitionError(p.index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${t.name}`));
        continue;
      }
      if (!mayTopic(ctx.node, ctx.conn, t.name, 'write')) {
        for (const p of t.partitionData) partitionResponses.push(partitionError(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED, topicDenied(t.name, ctx.conn.principal)));
        continue;
      }
      let exists = ctx.node.vhost().stream(t.name) !== null;
      if (!exists && !mayTopic(ctx.node, ctx.conn, t.name, 'configure')) {
        for (const p of t.partitionData) partitionResponses.push(partitionError(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED, topicDenied(t.name, ctx.conn.principal)));
        continue;
      }
      if (!exists) {
        try {
          await ctx.node.topic(t.name, true);
          exists = true;
        } catch (e) {
          for (const p of t.partitionData) partitionResponses.push(partitionError(p.index, errorCodeFor(e), (e as Error).message));
          continue;
        }
      }
      for (const p of t.partitionData as Message[]) partitionResponses.push(appendPartition(ctx, t.name, p, durable, req.transactionalId));
    }
    if (acks === 0) return null;
    if (acks === -1 && durable.length > 0) {
      try {
        await Promise.all(durable);
      } catch (e) {
        ctx.node.log.error({ err: e }, 'produce: durable append failed');
        for (const t of responses) for (const p of t.partitionResponses) if (p.errorCode === ErrorCode.NONE) p.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
      }
    }
    return { responses, throttleTimeMs: 0 };
  },
};

const STORE_ONLY = { route: false } as const;
const TRANSACTIONAL_BIT = 0x10;

function isTransactional(batch: Buffer): boolean {
  return (batch.readInt16BE(21) & TRANSACTIONAL_BIT) !== 0;
}

function hasProducerId(topics: Message[]): boolean {
  for (const t of topics) {
    for (const p of t.partitionData as Message[]) {
      const records = p.records as Buffer | null;
      if (records !== null && records.length >= 61 && records.readBigInt64BE(43) >= 0n) return true;
    }
  }
  return false;
}

function isCompacted(policy: string | undefined): boolean {
  return policy !== undefined && policy.split(',').some((v) => v.trim() === 'compact');
}

/**
 * A record without a key on a compacted topic: Kafka (2.4+, KIP-467) refuses the partition's
 * data with INVALID_RECORD at every Produce version, and from v8 on names the record
 * (recordErrors) and says why (errorMessage); older versions get the code alone.
 */
function keylessRecordError(topic: string, partition: number, batches: Buffer[]): Message | null {
  let index = 0;
  for (const batch of batches) {
    const i = firstKeylessRecord(batch);
    if (i >= 0) {
      const why = `Compacted topic cannot accept message without key in topic partition ${topic}-${partition}`;
      const e = partitionError(partition, ErrorCode.INVALID_RECORD, `One or more records have been rejected due to 1 record errors in total: record ${index + i}: ${why}`);
      e.recordErrors = [{ batchIndex: index + i, batchIndexErrorMessage: why }];
      return e;
    }
    index += batch.readInt32BE(57);
  }
  return null;
}

function partitionError(index: number, errorCode: number, errorMessage: string | null): Message {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage };
}

function appendPartition(ctx: RequestContext, topic: string, p: Message, durable: Promise<void>[], transactionalId: string | null): Message {
  const { node, conn, apiVersion } = ctx;
  const vhost = node.vhost();
  try {
    const info = vhost.stream(topic);
    if (!info || p.index < 0 || p.index >= info.partitions) {
      return partitionError(p.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic-partition: ${topic}-${p.index}`);
    }
    const config = vhost.streamConfig(topic);
    const maxBytes = config['max.message.bytes'] !== undefined ? Number(config['max.message.bytes']) : node.options.maxMessageBytes;
    const logAppendTime = config['message.timestamp.type'] === 'LogAppendTime';
    const check = checkProducedRecords(p.records, maxBytes, apiVersion, logAppendTime);
    if (check.errorCode !== ErrorCode.NONE) return partitionError(p.index, check.errorCode, check.errorMessage);
    if (isCompacted(config['cleanup.policy'])) {
      const refused = keylessRecordError(topic, p.index, check.batches);
      if (refused !== null) return refused;
    }
    const now = Date.now();
    let baseOffset = -1;
    const guard = node.produceGuard;
    for (const batch of check.batches) {
      const guarded = guard !== null && batchProducerId(batch) >= 0;
      if (guarded) {
        const verdict = guard.check(topic, p.index, batch, transactionalId);
        if (verdict.kind === 'reject') return partitionError(p.index, verdict.errorCode, verdict.errorMessage);
        if (verdict.kind === 'duplicate') {
          if (baseOffset < 0) baseOffset = verdict.baseOffset;
          continue;
        }
      }
      const stored = logAppendTime ? withLogAppendTime(batch, now) : batch;
      // A transaction's records reach other protocols only when it commits (the coordinator routes them).
      const r = vhost.produce(topic, p.index, stored, isTransactional(stored) ? STORE_ONLY : undefined, conn.core().origin);
      // The guard keeps only the header's numbers, never a view of the batch: an idempotent
      // request's buffer is recycled like a plain one's (fresh 1 MB buffers cost page faults).
      if (r.batchRetained !== false) ctx.retainRequest?.();
      if (guarded) guard.appended(topic, p.index, stored, r.baseOffset);
      if (baseOffset < 0) baseOffset = r.baseOffset;
      durable.push(r.durable);
    }
    return {
      index: p.index,
      errorCode: ErrorCode.NONE,
      baseOffset,
      logAppendTimeMs: logAppendTime ? now : -1,
      logStartOffset: vhost.partitionOffsets(topic, p.index).startOffset,
      recordErrors: [],
      errorMessage: null,
    };
  } catch (e) {
    ctx.retainRequest?.();
    if (isCorruptBatchError(e)) return partitionError(p.index, ErrorCode.CORRUPT_MESSAGE, (e as Error).message);
    if (!(e instanceof KafkaError)) node.log.warn({ err: e, topic, partition: p.index }, 'produce failed');
    return partitionError(p.index, errorCodeFor(e), (e as Error).message);
  }
}

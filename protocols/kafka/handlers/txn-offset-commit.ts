import { txnOffsetCommit } from '../schema/apis.js';
import type { Message } from '../codec/schema-codec.js';
import { mayGroup, mayTopic, mayTransactionalId } from '../mapping/authorize.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/**
 * TxnOffsetCommit: offsets a transactional producer commits for a consumer group; they become
 * the group's committed offsets only when the transaction commits (EndTxn), never on abort.
 * As Kafka: write on the transactional id, read on the group (each failing the whole request),
 * then read on each topic: a denied topic's partitions get TOPIC_AUTHORIZATION_FAILED and only
 * the others' offsets are committed.
 */
export const txnOffsetCommitHandler: Handler = {
  api: txnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { node, conn }) {
    const topics = req.topics as Message[];
    const requestDenied = !mayTransactionalId(node, conn, req.transactionalId as string)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !mayGroup(node, conn, req.groupId as string)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : null;
    const deniedTopics = new Set(requestDenied === null ? topics.filter((t) => !mayTopic(node, conn, t.name, 'read')).map((t) => t.name as string) : []);
    const offsets = topics
      .filter((t) => !deniedTopics.has(t.name))
      .flatMap((t) =>
        (t.partitions as Message[]).map((p) => ({ topic: t.name as string, partition: p.partitionIndex as number, offset: Number(p.committedOffset), metadata: (p.committedMetadata as string | null) ?? '' })),
      );
    const errorCode = requestDenied ?? (offsets.length === 0 ? ErrorCode.NONE : await node.transactions.commitOffsets(req.transactionalId, Number(req.producerId), req.producerEpoch, req.groupId, offsets));
    return {
      throttleTimeMs: 0,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: (t.partitions as Message[]).map((p) => ({ partitionIndex: p.partitionIndex, errorCode: deniedTopics.has(t.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : errorCode })),
      })),
    };
  },
};

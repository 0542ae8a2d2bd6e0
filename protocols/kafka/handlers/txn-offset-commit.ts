import { txnOffsetCommit } from '../schema/apis.js';
import type { Message } from '../codec/schema-codec.js';
import { mayGroup, mayTransactionalId } from '../mapping/authorize.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/**
 * TxnOffsetCommit: offsets a transactional producer commits for a consumer group; they become
 * the group's committed offsets only when the transaction commits (EndTxn), never on abort.
 */
export const txnOffsetCommitHandler: Handler = {
  api: txnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { node, conn }) {
    const topics = req.topics as Message[];
    const offsets = topics.flatMap((t) =>
      (t.partitions as Message[]).map((p) => ({ topic: t.name as string, partition: p.partitionIndex as number, offset: Number(p.committedOffset), metadata: (p.committedMetadata as string | null) ?? '' })),
    );
    const errorCode = !mayTransactionalId(node, conn, req.transactionalId as string)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !mayGroup(node, conn, req.groupId as string)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : await node.transactions.commitOffsets(req.transactionalId, Number(req.producerId), req.producerEpoch, req.groupId, offsets);
    return {
      throttleTimeMs: 0,
      topics: topics.map((t) => ({ name: t.name, partitions: (t.partitions as Message[]).map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    };
  },
};

import { addPartitionsToTxn } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Message } from '../codec/schema-codec.js';
import { mayTransactionalId } from '../mapping/authorize.js';
import type { Handler } from './handler.js';

/**
 * AddPartitionsToTxn (client versions 0-3; v4+ is the broker-to-broker batched form of KIP-890,
 * not served). An unknown partition fails it with UNKNOWN_TOPIC_OR_PARTITION and the other
 * partitions with OPERATION_NOT_ATTEMPTED, as Kafka answers.
 */
export const addPartitionsToTxnHandler: Handler = {
  api: addPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, { node, conn }) {
    const topics = req.v3AndBelowTopics as Message[];
    const vhost = node.vhost();
    const unknown = new Set<string>();
    const wanted: { topic: string; partition: number }[] = [];
    for (const t of topics) {
      const info = vhost.stream(t.name);
      for (const p of t.partitions as number[]) {
        if (!info || p < 0 || p >= info.partitions) unknown.add(`${t.name}\u0000${p}`);
        wanted.push({ topic: t.name, partition: p });
      }
    }
    const denied = !mayTransactionalId(node, conn, req.v3AndBelowTransactionalId as string);
    const code = denied
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : unknown.size > 0 ? null : await node.transactions.addPartitions(req.v3AndBelowTransactionalId, Number(req.v3AndBelowProducerId), req.v3AndBelowProducerEpoch, wanted);
    return {
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: topics.map((t) => ({
        name: t.name,
        resultsByPartition: (t.partitions as number[]).map((p) => ({
          partitionIndex: p,
          partitionErrorCode: code ?? (unknown.has(`${t.name}\u0000${p}`) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : OPERATION_NOT_ATTEMPTED),
        })),
      })),
    };
  },
};

const OPERATION_NOT_ATTEMPTED = 55;

import { addPartitionsToTxn } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Message } from '../codec/schema-codec.js';
import { mayTopic, mayTransactionalId } from '../mapping/authorize.js';
import { isHiddenTopic, isInternalTopic } from '../mapping/internal-topics.js';
import type { Handler } from './handler.js';

/**
 * AddPartitionsToTxn (client versions 0-3; v4+ is the broker-to-broker batched form of KIP-890,
 * not served). As Kafka (KafkaApis.handleAddPartitionsToTxnRequest): write on the transactional
 * id, else every partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED; then write on each topic
 * (internal topics never pass): a denied topic's partitions get TOPIC_AUTHORIZATION_FAILED, an
 * unknown partition UNKNOWN_TOPIC_OR_PARTITION, and when any did, the others get
 * OPERATION_NOT_ATTEMPTED and nothing is added to the transaction.
 */
export const addPartitionsToTxnHandler: Handler = {
  api: addPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, { node, conn }) {
    const topics = req.v3AndBelowTopics as Message[];
    const transactionalId = req.v3AndBelowTransactionalId as string;
    const vhost = node.vhost();
    const failed = new Map<string, number>();
    const wanted: { topic: string; partition: number }[] = [];
    const txnDenied = !mayTransactionalId(node, conn, transactionalId);
    for (const t of topics) {
      const name = t.name as string;
      const topicDenied = isInternalTopic(name) || !mayTopic(node, conn, name, 'write');
      const info = isHiddenTopic(name) ? null : vhost.stream(name);
      for (const p of t.partitions as number[]) {
        if (topicDenied) failed.set(key(name, p), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        else if (!info || p < 0 || p >= info.partitions) failed.set(key(name, p), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        wanted.push({ topic: name, partition: p });
      }
    }
    const code = txnDenied
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : failed.size > 0 ? null : await node.transactions.addPartitions(transactionalId, Number(req.v3AndBelowProducerId), req.v3AndBelowProducerEpoch, wanted);
    return {
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: topics.map((t) => ({
        name: t.name,
        resultsByPartition: (t.partitions as number[]).map((p) => ({
          partitionIndex: p,
          partitionErrorCode: code ?? failed.get(key(t.name, p)) ?? OPERATION_NOT_ATTEMPTED,
        })),
      })),
    };
  },
};

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

const OPERATION_NOT_ATTEMPTED = 55;

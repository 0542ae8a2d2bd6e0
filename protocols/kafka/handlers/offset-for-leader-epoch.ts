import { offsetForLeaderEpoch } from '../schema/apis.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import { mayDescribeTopic } from '../mapping/authorize.js';
import type { Handler } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/**
 * OffsetForLeaderEpoch (KIP-101/-320): clients validate their position after a leader change.
 * This node has been the only leader, at epoch 0, since each partition was created, so the end
 * offset of epoch 0 (or of any requested epoch below or at it) is the high watermark; a newer
 * epoch than ours is UNKNOWN_LEADER_EPOCH. A topic the user may not describe (none of read,
 * write, configure) is TOPIC_AUTHORIZATION_FAILED, as Kafka's DESCRIBE check.
 */
export const offsetForLeaderEpochHandler: Handler = {
  api: offsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { node, conn }) {
    const vhost = node.vhost();
    const topics = (req.topics as Message[]).map((t) => {
      const denied = !mayDescribeTopic(node, conn, t.topic);
      return {
        topic: t.topic,
        partitions: (t.partitions as Message[]).map((p) => {
          const base = { partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: 0, endOffset: -1 };
          if (denied) return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, leaderEpoch: -1 };
          try {
            const info = vhost.stream(t.topic);
            if (!info || p.partition < 0 || p.partition >= info.partitions) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, leaderEpoch: -1 };
            if (p.currentLeaderEpoch > 0 || p.leaderEpoch > 0) return { ...base, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, leaderEpoch: -1 };
            return { ...base, endOffset: vhost.partitionOffsets(t.topic, p.partition).highWatermark };
          } catch (e) {
            return { ...base, errorCode: errorCodeFor(e), leaderEpoch: -1 };
          }
        }),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
};

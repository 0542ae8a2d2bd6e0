import { deleteRecords } from '../schema/apis.js';
import { mayTopic } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import type { Handler } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/** DeleteRecords: moves the log start offset (offset -1 = the high watermark); beyond it is OFFSET_OUT_OF_RANGE. */
export const deleteRecordsHandler: Handler = {
  api: deleteRecords,
  minVersion: 0,
  maxVersion: 2,
  handle(req, { node, conn }) {
    const vhost = node.vhost();
    const topics = (req.topics as Message[]).map((t) => ({
      name: t.name,
      partitions: (t.partitions as Message[]).map((p) => {
        if (!mayTopic(node, conn, t.name, 'configure')) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        const info = vhost.stream(t.name);
        if (!info || p.partitionIndex < 0 || p.partitionIndex >= info.partitions) {
          return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        }
        try {
          const o = vhost.partitionOffsets(t.name, p.partitionIndex);
          const target = p.offset === -1 ? o.highWatermark : p.offset;
          if (target < 0 || target > o.highWatermark) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
          if (target > o.startOffset) vhost.deleteRecordsBefore(t.name, p.partitionIndex, target);
          return { partitionIndex: p.partitionIndex, lowWatermark: vhost.partitionOffsets(t.name, p.partitionIndex).startOffset, errorCode: ErrorCode.NONE };
        } catch (e) {
          return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: errorCodeFor(e) };
        }
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
};

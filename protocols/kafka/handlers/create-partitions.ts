import { createPartitions } from '../schema/apis.js';
import { mayTopic, topicDenied } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import type { Handler } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/** CreatePartitions: grows a topic to `count` partitions (never shrinks: INVALID_PARTITIONS). */
export const createPartitionsHandler: Handler = {
  api: createPartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, { node, conn }) {
    const vhost = node.vhost();
    const results: Message[] = [];
    for (const t of req.topics as Message[]) {
      if (!mayTopic(node, conn, t.name, 'configure')) {
        results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: topicDenied(t.name, conn.principal) });
        continue;
      }
      const info = vhost.stream(t.name);
      if (!info) {
        results.push({ name: t.name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic.' });
        continue;
      }
      if (t.count <= info.partitions) {
        results.push({
          name: t.name,
          errorCode: ErrorCode.INVALID_PARTITIONS,
          errorMessage: `Topic currently has ${info.partitions} partitions, which is higher than the requested ${t.count}.`,
        });
        continue;
      }
      try {
        if (!req.validateOnly) await vhost.addPartitions(t.name, t.count);
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (e) {
        results.push({ name: t.name, errorCode: errorCodeFor(e), errorMessage: (e as Error).message });
      }
    }
    return { throttleTimeMs: 0, results };
  },
};

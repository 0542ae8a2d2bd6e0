import { offsetDelete } from '../schema/apis.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import { mayGroup, mayTopic } from '../mapping/authorize.js';
import type { Handler } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/**
 * OffsetDelete (KIP-496): removes committed offsets of partitions the group does not subscribe
 * to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). The core has no per-partition delete, so the commit
 * is overwritten with offset -1, which every Kafka API here reports as "no committed offset".
 * Authorization as Kafka's: the group (read here, Kafka's DELETE) or GROUP_AUTHORIZATION_FAILED
 * for the request, then read on each topic or TOPIC_AUTHORIZATION_FAILED for its partitions.
 */
export const offsetDeleteHandler: Handler = {
  api: offsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, { node, conn }) {
    if (!mayGroup(node, conn, req.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const vhost = node.vhost();
    const group = node.coordinator.group(req.groupId);
    const known = group !== undefined || vhost.groups().includes(req.groupId);
    if (!known) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, throttleTimeMs: 0, topics: [] };
    const subscribed = group && group.members.size > 0 ? group.subscribedTopics() : new Set<string>();
    const topics: Message[] = [];
    for (const t of req.topics as Message[]) {
      const partitions: Message[] = [];
      topics.push({ name: t.name, partitions });
      const denied = !mayTopic(node, conn, t.name, 'read');
      for (const p of t.partitions as Message[]) {
        let errorCode: number = ErrorCode.NONE;
        const info = vhost.stream(t.name);
        if (denied) errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        else if (!info || p.partitionIndex < 0 || p.partitionIndex >= info.partitions) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (subscribed === null || subscribed.has(t.name)) errorCode = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        else if (vhost.committedOffset(req.groupId, t.name, p.partitionIndex)) {
          try {
            await vhost.commitOffset(req.groupId, t.name, p.partitionIndex, -1, '');
          } catch (e) {
            errorCode = errorCodeFor(e);
          }
        }
        partitions.push({ partitionIndex: p.partitionIndex, errorCode });
      }
    }
    return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics };
  },
};

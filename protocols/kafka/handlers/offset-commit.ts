import { offsetCommit } from '../schema/apis.js';
import { mayGroup, mayTopic } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import type { Handler } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/** Kafka's `offset.metadata.max.bytes` default. */
const MAX_METADATA_BYTES = 4096;

/**
 * OffsetCommit: the coordinator checks member and generation (a generation of -1 with no member
 * is a standalone commit, allowed on an empty group), then the core stores each offset with its
 * metadata durably; the response waits for that. Retention time (v2-4) is not per offset here:
 * `offsetsRetentionMs` applies to the whole group once it is empty.
 */
export const offsetCommitHandler: Handler = {
  api: offsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, { node, conn, apiVersion }) {
    const vhost = node.vhost();
    const generation = apiVersion === 0 ? -1 : req.generationIdOrMemberEpoch;
    const groupError = !mayGroup(node, conn, req.groupId) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : node.coordinator.validateCommit(req.groupId, req.memberId, generation, req.groupInstanceId);
    const topics: Message[] = [];
    const pending: Promise<void>[] = [];
    for (const t of req.topics as Message[]) {
      const partitions: Message[] = [];
      topics.push({ name: t.name, partitions });
      const info = vhost.stream(t.name);
      for (const p of t.partitions as Message[]) {
        const entry = { partitionIndex: p.partitionIndex, errorCode: groupError };
        partitions.push(entry);
        if (groupError !== ErrorCode.NONE) continue;
        if (!mayTopic(node, conn, t.name, 'read')) {
          entry.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        if (!info || p.partitionIndex < 0 || p.partitionIndex >= info.partitions) {
          entry.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        const metadata: string = p.committedMetadata ?? '';
        if (Buffer.byteLength(metadata) > MAX_METADATA_BYTES) {
          entry.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          continue;
        }
        pending.push(
          vhost.commitOffset(req.groupId, t.name, p.partitionIndex, p.committedOffset, metadata).catch((e: unknown) => {
            node.log.warn({ err: e, group: req.groupId, topic: t.name }, 'offset commit failed');
            entry.errorCode = errorCodeFor(e);
          }),
        );
      }
    }
    await Promise.all(pending);
    return { throttleTimeMs: 0, topics };
  },
};

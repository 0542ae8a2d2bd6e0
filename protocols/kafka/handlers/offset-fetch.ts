import { offsetFetch } from '../schema/apis.js';
import { mayDescribeTopic, mayGroup } from '../mapping/authorize.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler, RequestContext } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/**
 * OffsetFetch: committed offsets (-1 and "" when none) for the listed partitions, or for every
 * partition with a commit when topics is null (v2+). v8+ (KIP-709) asks for several groups.
 * kafkajs never sends v0 (ZooKeeper-stored offsets), so v0 is served like v1. As Kafka: read on
 * the group (its DESCRIBE), and offsets only of topics the user may describe: the others are
 * left out of "all topics" and TOPIC_AUTHORIZATION_FAILED when named.
 */
export const offsetFetchHandler: Handler = {
  api: offsetFetch,
  minVersion: 0,
  maxVersion: 9,
  handle(req, ctx) {
    if (ctx.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        groups: (req.groups as Message[]).map((g) =>
          mayGroup(ctx.node, ctx.conn, g.groupId)
            ? { groupId: g.groupId, topics: groupTopics(ctx, g.groupId, g.topics), errorCode: ErrorCode.NONE }
            : { groupId: g.groupId, topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED },
        ),
      };
    }
    if (!mayGroup(ctx.node, ctx.conn, req.groupId)) return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    return { throttleTimeMs: 0, topics: groupTopics(ctx, req.groupId, req.topics), errorCode: ErrorCode.NONE };
  },
};

function groupTopics({ node, conn }: RequestContext, groupId: string, topics: Message[] | null): Message[] {
  const vhost = node.vhost();
  const entry = (topic: string, partition: number): Message => {
    const found = vhost.committedOffset(groupId, topic, partition);
    const c = found && found.offset >= 0 ? found : null; // -1 marks an OffsetDelete
    return {
      partitionIndex: partition,
      committedOffset: c ? c.offset : -1,
      committedLeaderEpoch: -1,
      metadata: c ? c.metadata : '',
      errorCode: ErrorCode.NONE,
    };
  };
  if (topics === null) {
    return [...vhost.groupOffsets(groupId)]
      .map(([name, parts]) => ({
        name,
        partitions: [...parts]
          .filter(([, c]) => c.offset >= 0)
          .map(([p]) => p)
          .sort((a, b) => a - b)
          .map((p) => entry(name, p)),
      }))
      .filter((t) => t.partitions.length > 0 && mayDescribeTopic(node, conn, t.name));
  }
  return topics.map((t) => ({
    name: t.name,
    partitions: (t.partitionIndexes as number[]).map((p) => {
      if (!mayDescribeTopic(node, conn, t.name)) {
        return { partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
      }
      const info = vhost.stream(t.name);
      if (!info || p < 0 || p >= info.partitions) {
        return { partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      }
      return entry(t.name, p);
    }),
  }));
}

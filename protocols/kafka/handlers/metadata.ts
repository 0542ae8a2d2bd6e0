import { metadata } from '../schema/apis.js';
import { ErrorCode, KafkaError, errorCodeFor } from '../mapping/errors.js';
import { topicNameError } from '../mapping/topics.js';
import { mayDescribeTopic, mayTopic } from '../mapping/authorize.js';
import type { Handler, RequestContext } from './handler.js';
import type { StreamInfo } from '../../../src/core/index.js';
import { isHiddenTopic, isInternalTopic } from '../mapping/internal-topics.js';

/**
 * Metadata: one node (this broker), the cluster id, this node as controller and as leader of
 * every partition (leader epoch 0), and per-topic errors. Unknown topics are auto-created when
 * `autoCreateTopics` is on and the request allows it (v4+ allowAutoTopicCreation).
 * v0: an empty topic list means all topics; v1+: null means all, [] means none.
 */
export const metadataHandler: Handler = {
  api: metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(req, ctx) {
    const { node, conn, apiVersion } = ctx;
    const vhost = node.vhost();
    const all = req.topics === null || (apiVersion === 0 && req.topics.length === 0);
    const topics: unknown[] = [];
    if (all) {
      // As Kafka: topics the user may not describe are left out of the listing.
      for (const s of vhost.streams()) {
        if (topicNameError(s.name) === null && !isHiddenTopic(s.name) && mayDescribe(ctx, s.name)) topics.push(topicEntry(ctx, s.name, s, ErrorCode.NONE));
      }
    } else {
      for (const t of req.topics as { name: string | null; topicId: Buffer }[]) {
        let name = t.name;
        if (name === null) {
          name = node.topicById(t.topicId);
          if (name === null) {
            topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: t.topicId, isInternal: false, partitions: [] });
            continue;
          }
        }
        if (!mayDescribe(ctx, name)) {
          topics.push(topicEntry(ctx, name, null, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        try {
          const info = await node.topic(name, req.allowAutoTopicCreation !== false && mayTopic(node, conn, name, 'configure'));
          topics.push(topicEntry(ctx, name, info, ErrorCode.NONE));
        } catch (e) {
          if (!(e instanceof KafkaError)) node.log.warn({ err: e, topic: name }, 'metadata: topic lookup failed');
          topics.push(topicEntry(ctx, name, null, errorCodeFor(e)));
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: node.options.nodeId, host: node.advertisedHost(conn), port: node.advertisedPort(conn), rack: null }],
      clusterId: node.options.clusterId,
      controllerId: node.options.nodeId,
      topics,
      clusterAuthorizedOperations: -2147483648,
    };
  },
};

function mayDescribe({ node, conn }: RequestContext, topic: string): boolean {
  return mayDescribeTopic(node, conn, topic);
}

function topicEntry({ node }: RequestContext, name: string, info: StreamInfo | null, errorCode: number): unknown {
  const nodeId = node.options.nodeId;
  const partitions = [];
  for (let p = 0; info && p < info.partitions; p++) {
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    });
  }
  return {
    errorCode,
    name,
    topicId: info ? node.topicId(name) : undefined,
    // Kafka's clients leave internal topics out of pattern subscriptions and topic listings.
    isInternal: isInternalTopic(name),
    partitions,
    topicAuthorizedOperations: -2147483648,
  };
}

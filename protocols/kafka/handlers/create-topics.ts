import { createTopics } from '../schema/apis.js';
import { mayTopic, topicDenied } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import { topicNameError } from '../mapping/topics.js';
import { ConfigSource, TOPIC_CONFIGS, topicConfigError } from '../mapping/topic-configs.js';
import type { Handler } from './handler.js';
import { isHiddenTopic } from '../mapping/internal-topics.js';
import type { Message } from '../codec/schema-codec.js';
import type { StreamOptions } from '../../../src/core/index.js';

/**
 * CreateTopics: each topic becomes a core stream with its partition count and configs
 * (retention.ms/retention.bytes become the stream's retention). One node: replication factor
 * must be -1 or 1 and manual assignments may only name this node. validateOnly (v1+) checks
 * everything and creates nothing. v5+ answers with the resulting configs.
 */
export const createTopicsHandler: Handler = {
  api: createTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(req, { node, conn }) {
    const vhost = node.vhost();
    const topics: Message[] = [];
    for (const t of req.topics as Message[]) {
      const fail = (errorCode: number, errorMessage: string) => topics.push({ name: t.name, errorCode, errorMessage, topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null });
      if (!mayTopic(node, conn, t.name, 'configure')) {
        fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, topicDenied(t.name, conn.principal));
        continue;
      }
      const nameError = topicNameError(t.name);
      if (nameError) {
        fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
        continue;
      }
      if (isHiddenTopic(t.name)) {
        fail(ErrorCode.INVALID_REQUEST, `Creation of internal topic ${t.name} is prohibited.`);
        continue;
      }
      if (vhost.stream(t.name) || vhost.queue(t.name)) {
        fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
        continue;
      }
      const assignments = t.assignments as Message[];
      const partitions = assignments.length > 0 ? assignments.length : t.numPartitions === -1 ? node.options.defaultPartitions : t.numPartitions;
      if (partitions <= 0) {
        fail(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
        continue;
      }
      if (t.replicationFactor !== -1 && t.replicationFactor !== 1 && assignments.length === 0) {
        fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${t.replicationFactor} larger than available brokers: 1.`);
        continue;
      }
      if (assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== node.options.nodeId)) {
        fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignments may only name broker ${node.options.nodeId}.`);
        continue;
      }
      const config: Record<string, string> = {};
      let configError: string | null = null;
      for (const c of t.configs as Message[]) {
        configError ??= topicConfigError(c.name, c.value);
        if (c.value !== null) config[c.name] = c.value;
      }
      if (configError) {
        fail(ErrorCode.INVALID_CONFIG, configError);
        continue;
      }
      const options: StreamOptions = { partitions, config };
      if (config['retention.ms'] !== undefined) options.retentionMs = Number(config['retention.ms']);
      if (config['retention.bytes'] !== undefined) options.retentionBytes = Number(config['retention.bytes']);
      try {
        if (!req.validateOnly) {
          await vhost.declareStream(t.name, options);
          node.log.info({ topic: t.name, partitions }, 'topic created');
        }
      } catch (e) {
        fail(errorCodeFor(e), (e as Error).message);
        continue;
      }
      topics.push({
        name: t.name,
        topicId: req.validateOnly ? undefined : node.topicId(t.name),
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        numPartitions: partitions,
        replicationFactor: 1,
        configs: Object.entries(TOPIC_CONFIGS).map(([name, def]) => ({
          name,
          value: config[name] ?? def.default,
          readOnly: false,
          configSource: config[name] !== undefined ? ConfigSource.DYNAMIC_TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG,
          isSensitive: false,
        })),
      });
    }
    return { throttleTimeMs: 0, topics };
  },
};

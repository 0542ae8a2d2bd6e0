import { describeConfigs } from '../schema/apis.js';
import { mayCluster, mayTopic, topicDenied } from '../mapping/authorize.js';
import { ErrorCode } from '../mapping/errors.js';
import { CONFIG_TYPE_CODE, ConfigSource, TOPIC_CONFIGS } from '../mapping/topic-configs.js';
import type { Handler, RequestContext } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/** Resource types of the config APIs. */
export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

/**
 * DescribeConfigs: topic configs (the stream's config over Kafka's defaults, with their source)
 * and this broker's Kafka settings. configurationKeys null = all.
 */
export const describeConfigsHandler: Handler = {
  api: describeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    return {
      throttleTimeMs: 0,
      results: (req.resources as Message[]).map((r) => describeResource(ctx, r, req.includeSynonyms, req.includeDocumentation)),
    };
  },
};

interface Entry {
  name: string;
  value: string | null;
  source: number;
  type: number;
  doc: string;
}

function describeResource(ctx: RequestContext, r: Message, includeSynonyms: boolean, includeDocumentation: boolean): Message {
  const base = { resourceType: r.resourceType, resourceName: r.resourceName };
  let entries: Entry[];
  if (r.resourceType === RESOURCE_TOPIC) {
    if (!mayTopic(ctx.node, ctx.conn, r.resourceName, 'configure') && !mayTopic(ctx.node, ctx.conn, r.resourceName, 'read')) {
      return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: topicDenied(r.resourceName, ctx.conn.principal), configs: [] };
    }
    const vhost = ctx.node.vhost();
    if (!vhost.stream(r.resourceName)) {
      return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${r.resourceName} does not exist`, configs: [] };
    }
    const set = vhost.streamConfig(r.resourceName);
    entries = Object.entries(TOPIC_CONFIGS).map(([name, def]) => {
      const explicit = set[name] !== undefined && set[name] !== def.default;
      return { name, value: set[name] ?? def.default, source: explicit ? ConfigSource.DYNAMIC_TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG, type: CONFIG_TYPE_CODE[def.type], doc: def.doc };
    });
  } else if (r.resourceType === RESOURCE_BROKER) {
    if (!mayCluster(ctx.conn)) return { ...base, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed (tag administrator required).', configs: [] };
    if (r.resourceName !== '' && r.resourceName !== String(ctx.node.options.nodeId)) {
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${ctx.node.options.nodeId}`, configs: [] };
    }
    entries = brokerConfigs(ctx);
  } else {
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${r.resourceType}`, configs: [] };
  }
  const keys = r.configurationKeys as string[] | null;
  if (keys !== null && keys.length > 0) entries = entries.filter((e) => keys.includes(e.name));
  return {
    ...base,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    configs: entries.map((e) => ({
      name: e.name,
      value: e.value,
      readOnly: r.resourceType === RESOURCE_BROKER,
      isDefault: e.source === ConfigSource.DEFAULT_CONFIG,
      configSource: e.source,
      isSensitive: false,
      synonyms: includeSynonyms ? [{ name: e.name, value: e.value, source: e.source }] : [],
      configType: e.type,
      documentation: includeDocumentation ? e.doc : null,
    })),
  };
}

function brokerConfigs({ node }: RequestContext): Entry[] {
  const o = node.options;
  const s = ConfigSource.STATIC_BROKER_CONFIG;
  return [
    { name: 'node.id', value: String(o.nodeId), source: s, type: 3, doc: 'This node\'s id.' },
    { name: 'broker.id', value: String(o.nodeId), source: s, type: 3, doc: 'This node\'s id.' },
    { name: 'auto.create.topics.enable', value: String(o.autoCreateTopics), source: s, type: 1, doc: 'Create unknown topics on Metadata and Produce.' },
    { name: 'num.partitions', value: String(o.defaultPartitions), source: s, type: 3, doc: 'Partitions of auto-created topics.' },
    { name: 'message.max.bytes', value: String(o.maxMessageBytes), source: s, type: 3, doc: 'Largest record batch accepted.' },
    { name: 'fetch.max.bytes', value: String(o.fetchMaxBytes), source: s, type: 3, doc: 'Most record bytes in one Fetch response.' },
    { name: 'socket.request.max.bytes', value: String(o.maxRequestBytes), source: s, type: 3, doc: 'Largest request accepted.' },
    { name: 'group.min.session.timeout.ms', value: String(o.groupMinSessionTimeoutMs), source: s, type: 3, doc: 'Smallest session timeout a member may ask for.' },
    { name: 'group.max.session.timeout.ms', value: String(o.groupMaxSessionTimeoutMs), source: s, type: 3, doc: 'Largest session timeout a member may ask for.' },
    { name: 'group.initial.rebalance.delay.ms', value: String(o.groupInitialRebalanceDelayMs), source: s, type: 3, doc: 'Delay of the first rebalance of an empty group.' },
    { name: 'offsets.retention.minutes', value: String(Math.round(o.offsetsRetentionMs / 60000)), source: s, type: 3, doc: 'Retention of an empty group\'s offsets.' },
    { name: 'default.replication.factor', value: '1', source: s, type: 3, doc: 'One node.' },
    { name: 'min.insync.replicas', value: '1', source: s, type: 3, doc: 'One node.' },
  ];
}

import type { ConfigSection } from '../section.js';

/** The `kafka:` section (owned by the Kafka adapter, protocols/kafka; documented in docs/kafka.md). */
export interface KafkaUser {
  name: string;
  password: string;
}

export interface KafkaSaslOptions {
  /** Mechanisms offered in SaslHandshake: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512. */
  mechanisms: string[];
  /** Refuse every request but ApiVersions/SaslHandshake/SaslAuthenticate before authentication. */
  required: boolean;
  users: KafkaUser[];
}

export interface KafkaConfig {
  /** Vhost whose streams are this listener's topics. */
  vhost: string;
  /** This node's id in Metadata, FindCoordinator and DescribeCluster (Kafka `node.id`). */
  nodeId: number;
  /** Cluster id returned in Metadata v2+ and DescribeCluster. */
  clusterId: string;
  /** Host put in Metadata; null = the local address the client connected to. */
  advertisedHost: string | null;
  /** Port put in Metadata; null = the local port the client connected to. */
  advertisedPort: number | null;
  /** `auto.create.topics.enable`: Metadata and Produce create unknown topics. */
  autoCreateTopics: boolean;
  /** `num.partitions`: partitions of an auto-created topic or a CreateTopics with -1. */
  defaultPartitions: number;
  /** `socket.request.max.bytes`: larger requests close the connection. */
  maxRequestBytes: number;
  /** `message.max.bytes`: largest record batch accepted (topic `max.message.bytes` overrides). */
  maxMessageBytes: number;
  /**
   * `fetch.max.bytes` (broker): the most record bytes one Fetch response carries, whatever the
   * request's max_bytes asks; the first batch still goes out whole when larger (KIP-74).
   */
  fetchMaxBytes: number;
  /** `group.min.session.timeout.ms` / `group.max.session.timeout.ms`. */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /**
   * `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits
   * for more members. Kafka's default is 3000; ours is 0 so a lone consumer starts at once.
   */
  groupInitialRebalanceDelayMs: number;
  /** `offsets.retention.minutes` in ms: offsets of an empty group older than this are dropped. */
  offsetsRetentionMs: number;
  /** `producer.id.expiration.ms`: a producer's state on a partition is dropped after this long without a write (no open transaction). */
  producerIdExpirationMs: number;
  /** Period of producer-state snapshots (Kafka's .snapshot files): a restart replays only the log after the last one. */
  producerSnapshotIntervalMs: number;
  /** `transactional.id.expiration.ms`: a transactional id with no transaction for this long is forgotten. */
  transactionalIdExpirationMs: number;
  sasl: KafkaSaslOptions | null;
}

export const kafkaSection: ConfigSection = {
  key: 'kafka',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Kafka wire-protocol adapter (docs/kafka.md).',
    additionalProperties: false,
    properties: {
      vhost: { type: 'string', default: '/', description: 'Virtual host whose streams are the Kafka topics.' },
      nodeId: { type: 'integer', minimum: 0, default: 1, description: 'Node id in Metadata, FindCoordinator and DescribeCluster.' },
      clusterId: { type: 'string', minLength: 1, default: 'polybroker-cluster-0001', description: 'Cluster id returned to clients.' },
      advertisedHost: { type: ['string', 'null'], default: null, description: 'Host put in Metadata; null = the address the client connected to.' },
      advertisedPort: { type: ['integer', 'null'], minimum: 1, maximum: 65535, default: null, description: 'Port put in Metadata; null = the port the client connected to.' },
      autoCreateTopics: { type: 'boolean', default: true, description: 'auto.create.topics.enable: Metadata and Produce create unknown topics.' },
      defaultPartitions: { type: 'integer', minimum: 1, default: 1, description: 'num.partitions: partitions of auto-created topics.' },
      maxRequestBytes: { type: 'integer', minimum: 1024, default: 104857600, description: 'socket.request.max.bytes: a larger request closes the connection.' },
      maxMessageBytes: { type: 'integer', minimum: 64, default: 1048588, description: 'message.max.bytes: largest record batch (topic max.message.bytes overrides).' },
      fetchMaxBytes: { type: 'integer', minimum: 1024, maximum: 2147483647, default: 57671680, description: 'fetch.max.bytes (broker): most record bytes in one Fetch response, whatever the request asks; a first batch larger than that still goes out whole.' },
      groupMinSessionTimeoutMs: { type: 'integer', minimum: 1, default: 6000, description: 'group.min.session.timeout.ms.' },
      groupMaxSessionTimeoutMs: { type: 'integer', minimum: 1, default: 1800000, description: 'group.max.session.timeout.ms.' },
      groupInitialRebalanceDelayMs: { type: 'integer', minimum: 0, default: 0, description: 'group.initial.rebalance.delay.ms (Kafka: 3000).' },
      offsetsRetentionMs: { type: 'integer', minimum: 1, default: 604800000, description: 'offsets.retention.minutes in ms: offsets of an empty group older than this are dropped.' },
      producerIdExpirationMs: { type: 'integer', minimum: 1, default: 86400000, description: 'producer.id.expiration.ms: producer state of an idempotent producer idle this long is dropped.' },
      producerSnapshotIntervalMs: { type: 'integer', minimum: 0, default: 30000, description: 'How often producer state (sequences, epochs, open and aborted transactions) is snapshotted when it changed; a start then replays only the log after the snapshot. 0 disables snapshots.' },
      transactionalIdExpirationMs: { type: 'integer', minimum: 1, default: 604800000, description: 'transactional.id.expiration.ms: a transactional id with no transaction for this long is forgotten.' },
      sasl: {
        type: ['object', 'null'],
        default: null,
        description: 'SASL for Kafka clients; null = no authentication.',
        additionalProperties: false,
        properties: {
          mechanisms: {
            type: 'array',
            items: { enum: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] },
            default: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
            description: 'Mechanisms offered in SaslHandshake.',
          },
          required: { type: 'boolean', default: true, description: 'Refuse requests other than ApiVersions/SASL before authentication.' },
          users: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'password'],
              properties: { name: { type: 'string', minLength: 1 }, password: { type: 'string' } },
            },
            description: 'Kafka users (deprecated: use the broker-wide users: section; still migrated at start).',
          },
        },
      },
    },
  },
};

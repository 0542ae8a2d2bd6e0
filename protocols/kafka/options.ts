/**
 * Settings of the Kafka adapter (the `kafka:` section of polybroker.yaml once the config schema
 * carries it; until then passed to `createKafkaAdapter`). Defaults follow Kafka's broker
 * defaults where Kafka has one.
 */
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

export interface KafkaOptions {
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
  /** `transactional.id.expiration.ms`: a transactional id with no transaction for this long is forgotten. */
  transactionalIdExpirationMs: number;
  sasl: KafkaSaslOptions | null;
}

export const defaultKafkaOptions: KafkaOptions = {
  vhost: '/',
  nodeId: 1,
  clusterId: 'polybroker-cluster-0001',
  advertisedHost: null,
  advertisedPort: null,
  autoCreateTopics: true,
  defaultPartitions: 1,
  maxRequestBytes: 104_857_600,
  maxMessageBytes: 1_048_588,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 0,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
  producerIdExpirationMs: 24 * 3600 * 1000,
  transactionalIdExpirationMs: 7 * 24 * 3600 * 1000,
  sasl: null,
};

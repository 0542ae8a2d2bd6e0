/** Settings of the Kafka adapter. Defaults follow Kafka's broker defaults where Kafka has one. */
import type { KafkaConfig, KafkaSaslOptions, KafkaUser } from '../../src/config/sections/kafka.js';

/** The adapter's settings are the `kafka:` section of polybroker.yaml, defaults applied. */
export type KafkaOptions = KafkaConfig;
export type { KafkaSaslOptions, KafkaUser };

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
  fetchMaxBytes: 57_671_680,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 0,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
  producerIdExpirationMs: 24 * 3600 * 1000,
  producerSnapshotIntervalMs: 30_000,
  transactionalIdExpirationMs: 7 * 24 * 3600 * 1000,
  sasl: null,
};

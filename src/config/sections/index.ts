import type { ConfigSection } from '../section.js';
import { amqpSection, type AmqpConfig } from './amqp.js';
import { authSection, type AuthConfig } from './auth.js';
import { kafkaSection, type KafkaConfig } from './kafka.js';
import { limitsSection, type LimitsConfig } from './limits.js';
import { listenersSection, type ListenersConfig } from './listeners.js';
import { logSection, type LogConfig } from './log.js';
import { managementSection, type ManagementConfig } from './management.js';
import { mqttSection, type MqttConfig } from './mqtt.js';
import { nodeSection, type NodeConfig } from './node.js';
import { storageSection, type StorageConfig } from './storage.js';
import { stompSection, type StompConfig } from './stomp.js';
import { tlsSection, type TlsConfig } from './tls.js';
import { usersSection, type UsersConfig } from './users.js';
import { transactionsSection, type TransactionsConfig } from './transactions.js';
import { vhostsSection, type VhostsSection } from './vhosts.js';

/**
 * Every section of polybroker.yaml. An area that adds a section (vhosts, users, tls, kafka,
 * mqtt ...) adds one line here and one field to `BrokerConfig`.
 */
export const SECTIONS: readonly ConfigSection[] = [nodeSection, listenersSection, storageSection, limitsSection, logSection, vhostsSection, usersSection, authSection, tlsSection, mqttSection, kafkaSection, stompSection, amqpSection, transactionsSection, managementSection];

/** polybroker.yaml after validation, with every default applied. */
export interface BrokerConfig {
  node: NodeConfig;
  listeners: ListenersConfig;
  storage: StorageConfig;
  limits: LimitsConfig;
  log: LogConfig;
  /** Absent when the file defines no vhosts (the core's default vhost `/` always exists). */
  vhosts?: VhostsSection;
  /** Absent when the file defines no users (the default user is created on first start). */
  users?: UsersConfig;
  auth: AuthConfig;
  tls: TlsConfig;
  mqtt: MqttConfig;
  kafka: KafkaConfig;
  stomp: StompConfig;
  amqp: AmqpConfig;
  transactions: TransactionsConfig;
  management: ManagementConfig;
}

/**
 * The broker-wide permission model (src/core/auth) in Kafka terms, one function per resource
 * type of Kafka's ACLs (docs/security.md has the table):
 * - topic T: Produce = write on T (and the topic permission on `amq.topic`, routing key T,
 *   where Kafka produces are routed); Fetch, ListOffsets, OffsetCommit, TxnOffsetCommit,
 *   OffsetDelete = read on T; Metadata, OffsetFetch, OffsetForLeaderEpoch = any of the three
 *   (Kafka's DESCRIBE);
 *   CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs, DeleteRecords, auto-creation
 *   = configure on T -> TOPIC_AUTHORIZATION_FAILED (29);
 * - group G: read on G (also FindCoordinator, and ListGroups lists only those) -> GROUP_AUTHORIZATION_FAILED (30);
 * - transactional id X: write on X (InitProducerId with X, AddPartitionsToTxn, AddOffsetsToTxn,
 *   TxnOffsetCommit, EndTxn), Kafka's WRITE on TransactionalId -> TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53);
 * - cluster (broker configs): tag `administrator` -> CLUSTER_AUTHORIZATION_FAILED (31).
 * An unauthenticated connection (no SASL configured, no client certificate) is not checked,
 * as a Kafka broker without an authorizer.
 */
import type { ConnectionState } from '../handlers/handler.js';
import type { KafkaNode } from '../node.js';

export function mayTopic(node: KafkaNode, conn: ConnectionState, topic: string, perm: 'configure' | 'write' | 'read'): boolean {
  const user = conn.user;
  if (user === null) return true;
  const vhost = node.options.vhost;
  if (!user.allows(vhost, 'stream', topic, perm)) return false;
  if (perm === 'configure') return true;
  return user.allowsTopic(vhost, 'amq.topic', topic, perm, conn.clientId ?? undefined);
}

/** Kafka's DESCRIBE on a topic: implied by any of read, write, configure (as Kafka's READ/WRITE/ALTER imply DESCRIBE). */
export function mayDescribeTopic(node: KafkaNode, conn: ConnectionState, topic: string): boolean {
  return mayTopic(node, conn, topic, 'read') || mayTopic(node, conn, topic, 'write') || mayTopic(node, conn, topic, 'configure');
}

export function mayGroup(node: KafkaNode, conn: ConnectionState, group: string): boolean {
  return conn.user === null || conn.user.allows(node.options.vhost, 'group', group, 'read');
}

export function mayTransactionalId(node: KafkaNode, conn: ConnectionState, transactionalId: string): boolean {
  return conn.user === null || conn.user.allows(node.options.vhost, 'transactionalId', transactionalId, 'write');
}

export function mayCluster(conn: ConnectionState): boolean {
  return conn.user === null || conn.user.hasTag('administrator');
}

/** Kafka's own wording for the error message field. */
export function topicDenied(topic: string, user: string | null): string {
  return `Not authorized to access topics: [${topic}] (user '${user ?? ''}')`;
}

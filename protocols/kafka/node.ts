/**
 * The Kafka face of this broker node: what every connection's handlers share — the core and
 * its vhost, the adapter's options, the group coordinator, the SASL authenticator and the
 * handler table. Topics are the vhost's streams.
 */
import type { Logger } from 'pino';
import type { Core, StreamInfo, Vhost } from '../../src/core/index.js';
import { ErrorCode, KafkaError, errorCodeFor } from './mapping/errors.js';
import { topicIdFor, topicNameError } from './mapping/topics.js';
import type { KafkaOptions } from './options.js';
import type { ConnectionState, Handler } from './handlers/handler.js';
import { GroupCoordinator } from './group/coordinator.js';
import { SaslAuthenticator } from './sasl/authenticator.js';
import type { ProduceGuard } from './mapping/produce-guard.js';
import { ProducerGuard } from './producers/producer-guard.js';
import { isHiddenTopic } from './mapping/internal-topics.js';
import { ProducerIds } from './producers/producer-ids.js';
import { TransactionCoordinator } from './transactions/transaction-coordinator.js';

export class KafkaNode {
  readonly coordinator: GroupCoordinator;
  readonly authenticator: SaslAuthenticator | null;
  /** Sequence, epoch and transaction state of idempotent and transactional producers. */
  readonly producers = new ProducerGuard();
  readonly producerIds = new ProducerIds(() => this.producers.maxProducerId);
  readonly transactions: TransactionCoordinator;
  /** The checks the Produce path runs on batches with a producer id (null: stored as they come). */
  produceGuard: ProduceGuard | null = this.producers;
  private readonly topicIds = new Map<string, Buffer>();
  private readonly topicNames = new Map<string, string>();
  /** Auto-creations in flight, so concurrent requests for a new topic create it once. */
  private readonly creating = new Map<string, Promise<StreamInfo>>();

  constructor(
    readonly core: Core,
    readonly options: KafkaOptions,
    readonly log: Logger,
    readonly handlers: ReadonlyMap<number, Handler>,
  ) {
    this.coordinator = new GroupCoordinator(this);
    this.transactions = new TransactionCoordinator(() => this.vhost(), this.producers, () => this.producerIds.next(), log.child({ component: 'transactions' }));
    this.authenticator = options.sasl ? new SaslAuthenticator(core.users, options.sasl.mechanisms) : null;
    this.stopAlarms = core.onAlarm((e) => {
      if (e.blocked) return;
      const waiters = this.unblockWaiters;
      this.unblockWaiters = [];
      waiters.forEach((w) => w());
    });
  }

  private unblockWaiters: (() => void)[] = [];
  readonly stopAlarms: () => void;

  /**
   * While a memory or disk alarm is active the core blocks publishers on every protocol; Kafka
   * has no "blocked" signal, so produce requests are held (unanswered, unread) until it clears,
   * as RabbitMQ holds AMQP publishers. Resolves at once when nothing blocks.
   */
  whenUnblocked(): Promise<void> {
    if (!this.core.blocked) return Promise.resolve();
    return new Promise((resolve) => this.unblockWaiters.push(resolve));
  }

  vhost(): Vhost {
    return this.core.vhost(this.options.vhost);
  }

  advertisedHost(conn: ConnectionState): string {
    return this.options.advertisedHost ?? conn.localAddress;
  }

  advertisedPort(conn: ConnectionState): number {
    return this.options.advertisedPort ?? conn.localPort;
  }

  topicId(name: string): Buffer {
    let id = this.topicIds.get(name);
    if (!id) {
      id = topicIdFor(this.options.vhost, name);
      this.topicIds.set(name, id);
    }
    return id;
  }

  /** The topic with this id (Metadata v10+, Fetch v13+, DeleteTopics v6+), or null. */
  topicById(id: Buffer): string | null {
    const key = id.toString('hex');
    const cached = this.topicNames.get(key);
    if (cached !== undefined && this.vhost().stream(cached)) return cached;
    for (const s of this.vhost().streams()) {
      if (this.topicId(s.name).equals(id)) {
        this.topicNames.set(key, s.name);
        return s.name;
      }
    }
    return null;
  }

  /**
   * The stream for `name`, auto-created (with the default partition count) when allowed.
   * Throws KafkaError UNKNOWN_TOPIC_OR_PARTITION or INVALID_TOPIC_EXCEPTION.
   */
  async topic(name: string, allowCreate: boolean): Promise<StreamInfo> {
    // The broker's own producer-snapshot log is no Kafka topic (mapping/internal-topics.ts).
    if (isHiddenTopic(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic: ${name}`);
    const existing = this.vhost().stream(name);
    if (existing) return existing;
    const invalid = topicNameError(name);
    if (invalid) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
    if (!allowCreate || !this.options.autoCreateTopics) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic: ${name}`);
    }
    let pending = this.creating.get(name);
    if (!pending) {
      pending = this.vhost()
        .declareStream(name, { partitions: this.options.defaultPartitions })
        .finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
      this.log.info({ topic: name, partitions: this.options.defaultPartitions }, 'topic auto-created');
    }
    try {
      return await pending;
    } catch (e) {
      // e.g. an AMQP queue of that name already exists: the name cannot be a topic.
      if (errorCodeFor(e) === ErrorCode.POLICY_VIOLATION) throw new KafkaError(ErrorCode.POLICY_VIOLATION, (e as Error).message);
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, (e as Error).message);
    }
  }
}

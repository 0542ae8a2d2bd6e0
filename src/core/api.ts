/**
 * The core's public API: what protocol adapters code against (ARCHITECTURE.md "The core model").
 *
 * Shape: `Core` -> `Vhost` (definitions, streams, groups) and `Core.connect()` -> `Connection`
 * -> `Channel` (publishing, consuming, acks). A protocol connection opens one core `Connection`
 * (AMQP: one per connection; MQTT/STOMP/Kafka: one per connection) and one or more `Channel`s
 * (AMQP: one per channel; the others: one). Delivery tags and credit groups are per channel.
 *
 * Errors are the typed core errors of `errors.ts`; synchronous methods throw them, async ones
 * reject with them.
 */
import type { DurabilityMode } from '../../storage/types.js';
import type { TimerClock } from '../../storage/timer/clock.js';
import type { Header, Message, MessageOrigin, ProtocolName } from './message.js';
import type { HalfMessageSettings, PendingHalfMessage } from './half/half-messages.js';

export type { HalfMessageSettings, PendingHalfMessage };
import type { AuthOptions, UserStore } from './auth/types.js';

export type { DurabilityMode };

// ---------------------------------------------------------------------------------------------
// Core

export interface VhostLimits {
  /** Max open connections in this vhost; -1 = unlimited. */
  maxConnections?: number;
  /** Max queues in this vhost; -1 = unlimited. */
  maxQueues?: number;
}

export interface VhostOptions {
  /** Durability mode of durable queues/streams in this vhost unless they set their own. Default: core's. */
  durability?: DurabilityMode;
  limits?: VhostLimits;
}

export interface CoreOptions {
  /** Name of the vhost that always exists. Default `/`. */
  defaultVhost?: string;
  /** Default durability mode for durable queues and streams. Default `sync`. */
  durability?: DurabilityMode;
  /** Largest message body accepted, bytes. Default 128 MiB (RabbitMQ's limit). */
  maxMessageBytes?: number;
  /** Retention by age of streams created without one, ms; -1 keeps forever. Default 7 days (Kafka's). */
  streamRetentionMs?: number;
  /** Retention by size per partition of streams created without one, bytes; -1 is unlimited (default). */
  streamRetentionBytes?: number;
  /** Memory alarm: raised when RSS exceeds this many bytes (0 = off). Default 0. */
  memoryHighWatermarkBytes?: number;
  /** Disk alarm: raised when free bytes on the data dir's disk drop below this (0 = off). Default 0. */
  diskFreeLimitBytes?: number;
  /** Directory checked for free disk space (the store's dir). */
  dataDir?: string;
  /** How often resource alarms are checked, ms. Default 1000. 0 = never (call `checkResources`). */
  alarmCheckIntervalMs?: number;
  /**
   * How often the core sweeps: expires messages behind others, removes expired queues it missed,
   * applies stream retention; ms, default 1000. Between sweeps each queue acts at its own
   * deadlines (TTL at the head, x-expires) by a timer. 0 = no sweep and no deadline timers
   * (tests that drive `now` call `sweep()`).
   */
  sweepIntervalMs?: number;
  /** Clock, ms since the epoch. Tests inject one to drive TTL and expiry deterministically. */
  now?: () => number;
  /**
   * Clock of the durable timer (delayed delivery, retry backoff): tests inject a ManualClock
   * (storage/timer) to move hours ahead without waiting. Default: the wall clock.
   */
  timerClock?: TimerClock;
  /** Snapshot the definitions/cursor log after this many records. Default 10000. */
  snapshotEvery?: number;
  /** Open connections one user may have across all vhosts; -1 = unlimited (default). ResourceError beyond. */
  maxConnectionsPerUser?: number;
  /**
   * Publisher flow control: a connection that only publishes is throttled (`Connection.throttled`)
   * when its publish leaves a queue with this many ready messages while a consumer of it waits on
   * its socket, until the queue is down to half (docs/core.md "Publisher flow control"). 0 = off.
   * Default 2000.
   */
  flowControlBacklog?: number;
  /** How long a queue holding up publishers may deliver nothing before it lets them go, ms. Default 100. */
  flowControlStallMs?: number;
  /** Users: loopback-only users, failed-login delay, the user created on first start (src/core/auth). */
  auth?: AuthOptions;
  /**
   * Transactional half messages (docs/business.md "Half messages"): `timeoutMs` before the
   * first check request (default 6000), `checkIntervalMs` between checks (60000), `maxChecks`
   * (15), then `onExhausted` 'rollback' (default) or 'dead-letter' to `deadLetterExchange`.
   */
  halfMessages?: Partial<HalfMessageSettings>;
  /** Structured warnings (recovery, dead-letter cycles dropped, ...). */
  warn?: (fields: Record<string, unknown>, msg: string) => void;
  /** Called after each background compaction pass of a compacted stream (for the log and benches). */
  onCompacted?: (report: { partition: number; cleanEnd: number; bytesRead: number; bytesWritten: number; recordsKept: number; recordsRemoved: number; durationMs: number }) => void;
}

export type AlarmKind = 'memory' | 'disk';

export interface AlarmEvent {
  kind: AlarmKind;
  /** true when raised, false when cleared. */
  active: boolean;
  /** true while any alarm is active: publishers on every protocol must be blocked. */
  blocked: boolean;
}

export interface ConnectOptions {
  /** Vhost to use; NotAllowed when it does not exist. ResourceError when its maxConnections is reached. */
  vhost: string;
  protocol: ProtocolName;
  /** MQTT client id, Kafka client.id, AMQP connection_name, STOMP client-id, or ''. */
  clientId?: string;
  /** Authenticated user name (stamped into each published message's origin). */
  user?: string;
  /** Remote address for display. */
  remote?: string;
  /** What the client said about itself (AMQP client-properties, MQTT/Kafka/STOMP fields), for management. */
  clientProperties?: Record<string, unknown>;
  /**
   * Called when an operator closes this connection (management API, `polybroker ctl`): the
   * adapter ends the protocol connection (AMQP connection.close 320, MQTT 5 DISCONNECT 0x98,
   * STOMP ERROR, Kafka socket close). Without it only the core connection is closed.
   */
  onCloseRequest?(reason: string): void;
  /** The broker's own connection (an adapter's system connection, a management request): not listed by `connections()`. */
  internal?: boolean;
}

/** A connection as management lists it (`Core.connections()`). */
export interface ConnectionInfo {
  id: string;
  vhost: string;
  protocol: MessageOrigin['protocol'];
  user: string;
  clientId: string;
  remote: string;
  clientProperties: Record<string, unknown>;
  /** ms since the epoch. */
  connectedAt: number;
  channels: number;
  channelDetails: ChannelInfo[];
  /** Messages this connection published and was delivered so far. */
  published: number;
  delivered: number;
  /** Held by publisher flow control (management shows state `flow`, as RabbitMQ). */
  throttled: boolean;
}

export interface ChannelInfo {
  number: number;
  consumers: number;
  unacked: number;
  /** Per-consumer prefetch for new consumers (0 = unlimited). */
  prefetch: number;
  /** Shared credit of all the channel's consumers (0 = none). */
  globalPrefetch: number;
  /** The channel's consumers (management's `/api/consumers`). */
  consumerDetails: ConsumerInfo[];
}

export interface ConsumerInfo {
  tag: string;
  /** Queue or stream consumed. */
  queue: string;
  /** False for noAck (at-most-once) consumers. */
  ackRequired: boolean;
  exclusive: boolean;
  /** Per-consumer credit; 0 = unlimited. */
  prefetch: number;
  priority: number;
  /** Single-active-consumer queues: whether it is the one receiving; true elsewhere. */
  active: boolean;
  /** Consumer arguments as the client gave them. */
  arguments: Arguments;
}

/** A consumer group's live membership, as the protocol that coordinates it (Kafka) knows it. */
export interface GroupMembership {
  group: string;
  /** Kafka's group state: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  state: string;
  /** Assignor (range, roundrobin, cooperative-sticky, ...) or ''. */
  protocol: string;
  members: { memberId: string; clientId: string; host: string; assignments: { stream: string; partitions: number[] }[] }[];
}

/** Messages in and out of the broker per protocol since start (cumulative). */
export interface MessageTotals {
  /** By the origin's protocol (`core`: messages the core itself made, e.g. management publishes). */
  published: Record<MessageOrigin['protocol'], number>;
  delivered: Record<MessageOrigin['protocol'], number>;
}

export interface Core {
  /** Recovers definitions, messages, unacked deliveries (as redelivered) and committed offsets; creates the default vhost. */
  open(): Promise<void>;
  /** Stops timers, cancels every consumer (no callbacks), writes a snapshot and closes the store. */
  close(): Promise<void>;
  /**
   * Writes the pending cursor records of this tick (acks, delivered marks; normally written
   * without fsync) and resolves once the store has fsynced everything so far.
   */
  flush(): Promise<void>;

  /** The vhost named `name`. Throws NotFound when it does not exist. */
  vhost(name: string): Vhost;
  /** True when a vhost named `name` exists. */
  hasVhost(name: string): boolean;
  vhostNames(): string[];
  /** Creates a vhost (durable), or updates its options when it exists. Returns it. */
  declareVhost(name: string, options?: VhostOptions): Promise<Vhost>;
  /** Deletes a vhost with everything in it; closes its connections. NotFound when absent. */
  deleteVhost(name: string): Promise<void>;

  /** Opens a connection in a vhost. Every channel, consumer and exclusive queue hangs off it. */
  connect(options: ConnectOptions): Connection;
  /** Open connections of every vhost and protocol (management). */
  connections(): ConnectionInfo[];
  /**
   * Closes a connection on an operator's request: its adapter's `onCloseRequest` ends the
   * protocol connection, and the core connection is closed. False when no such connection.
   */
  closeConnection(id: string, reason: string): Promise<boolean>;
  /** Messages published and delivered per protocol since start. */
  messageTotals(): MessageTotals;
  /**
   * Where live group membership comes from (the Kafka adapter's group coordinator registers
   * itself); the core itself only stores committed offsets.
   */
  setGroupMembershipSource(source: ((vhost: string) => GroupMembership[]) | null): void;
  /** Live groups of a vhost with their members and assignments ([] without a source). */
  groupMemberships(vhost: string): GroupMembership[];

  /** Subscribes to alarm changes; returns an unsubscribe function. */
  onAlarm(listener: (event: AlarmEvent) => void): () => void;
  /** Currently active alarms. */
  readonly alarms: ReadonlySet<AlarmKind>;
  /** True while any alarm is active (publishers should be blocked: AMQP connection.blocked, stop reading). */
  readonly blocked: boolean;
  /** Samples memory and disk now and raises/clears alarms. Called periodically by the core. */
  checkResources(): Promise<void>;
  /** Raises or clears an alarm by hand (operators, tests). */
  setAlarm(kind: AlarmKind, active: boolean): void;

  /**
   * False while the store has too many appended bytes not yet written (write backpressure).
   * Adapters stop reading from publishing connections until `whenWritable()` resolves.
   */
  readonly writable: boolean;
  whenWritable(): Promise<void>;

  /** Largest accepted body, bytes. */
  readonly maxMessageBytes: number;
  /** The broker-wide users, credentials and permissions (durable; every protocol authenticates and authorizes here). */
  readonly users: UserStore;
  /**
   * Expires messages (TTL) and idle queues (x-expires) and applies stream retention now. The
   * core runs it every `sweepIntervalMs`; tests that drive `CoreOptions.now` call it directly.
   */
  sweep(): Promise<void>;
  /**
   * Hook for transactions (Kafka read_committed): returns the last stable offset of a stream
   * partition given its high watermark. Default: the high watermark.
   */
  setLastStableOffsetHook(hook: ((vhost: string, stream: string, partition: number, highWatermark: number) => number) | null): void;
}

// ---------------------------------------------------------------------------------------------
// Definitions

/** `x-delayed-message`: RabbitMQ's delayed-message plugin; routes as its `x-delayed-type` argument says. */
export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers' | 'x-delayed-message';

/** Arguments as AMQP carries them (field table decoded to plain values). */
export type Arguments = Record<string, unknown>;

export interface ExchangeOptions {
  type: ExchangeType;
  /** Only check that it exists (NotFound otherwise); other options ignored. */
  passive?: boolean;
  /** Survives restart. Default true. */
  durable?: boolean;
  /** Deleted when its last binding (as source) is removed. Default false. */
  autoDelete?: boolean;
  /** Cannot be published to directly, only via exchange-to-exchange bindings. Default false. */
  internal?: boolean;
  /** `alternate-exchange`: where unroutable messages go. Other arguments are stored and compared. */
  arguments?: Arguments;
}

export interface ExchangeInfo {
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Arguments;
}

export type QueueType = 'classic' | 'quorum' | 'stream';
export type OverflowMode = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

export interface QueueOptions {
  /** Only check that it exists (NotFound otherwise) and return its counts. */
  passive?: boolean;
  /** Survives restart (definition and persistent messages). Default false (AMQP's default). */
  durable?: boolean;
  /** Owned by the declaring connection (`Connection.id`); deleted when it closes. */
  exclusive?: boolean;
  /** Deleted when its last consumer is cancelled (after it had one). */
  autoDelete?: boolean;
  /** Durability mode of this queue's appends; default: the vhost's. */
  durability?: DurabilityMode;
  /**
   * x-message-ttl (ms), x-expires (ms), x-max-length, x-max-length-bytes,
   * x-overflow ('drop-head' | 'reject-publish' | 'reject-publish-dlx'), x-dead-letter-exchange,
   * x-dead-letter-routing-key, x-max-priority (1..255), x-single-active-consumer (bool),
   * x-delivery-limit, x-queue-type ('classic' | 'quorum' | 'stream'; 'stream' makes a
   * one-partition stream readable by AMQP consumers with `streamOffset`),
   * x-max-age / x-stream-max-segment-size-bytes for stream queues. Unknown x- arguments are
   * stored and compared on redeclare.
   */
  arguments?: Arguments;
}

export interface QueueDeclareResult {
  /** The queue name (server-generated `amq.gen-...` when declared with name ''). */
  name: string;
  messageCount: number;
  consumerCount: number;
}

export interface QueueInfo extends QueueDeclareResult {
  durable: boolean;
  exclusive: boolean;
  /** Owning connection id of an exclusive queue. */
  owner: string | null;
  autoDelete: boolean;
  arguments: Arguments;
  /** Arguments in effect after applying policies (arguments win over policies). */
  effectiveArguments: Arguments;
  type: QueueType;
  /** Messages delivered and not yet acked. */
  unackedCount: number;
  /** Bytes of ready message bodies. */
  messageBytes: number;
  /** Cumulative counts since start (management derives rates from them). */
  stats: QueueStats;
}

export interface QueueStats {
  /** Messages enqueued (published, dead-lettered in, recovered). */
  published: number;
  /** Deliveries (push and get, redeliveries included). */
  delivered: number;
  /** Deliveries acked (or settled by noAck). */
  acked: number;
  /** Messages this queue dead-lettered to its dead-letter exchange (rejected, expired, over length, delivery limit). */
  deadLettered: number;
}

export interface DeleteQueueOptions {
  ifUnused?: boolean;
  ifEmpty?: boolean;
}

export type DestinationKind = 'queue' | 'exchange' | 'stream';

export interface BindingInfo {
  source: string;
  destination: string;
  destinationKind: DestinationKind;
  routingKey: string;
  arguments: Arguments;
}

export interface StreamOptions {
  /** Only check that it exists. */
  passive?: boolean;
  /** Number of partitions, >= 1. Default 1. */
  partitions?: number;
  /** Retention by age, ms; -1 = unlimited. Default 7 days (Kafka's default). */
  retentionMs?: number;
  /** Retention by size per partition, bytes; -1 = unlimited. Default -1. */
  retentionBytes?: number;
  /** Durability mode of appends. Default: the vhost's. */
  durability?: DurabilityMode;
  /**
   * Bind it to `amq.topic` with `<name>` and `<name>.#` (ARCHITECTURE.md "Addressing across
   * protocols"), so MQTT/STOMP/AMQP topic publishes reach it. Default true.
   */
  bindToTopicExchange?: boolean;
  /** Other config entries (Kafka topic configs), stored and returned by `streamConfig`. */
  config?: Record<string, string>;
}

export interface StreamInfo {
  name: string;
  partitions: number;
  retentionMs: number;
  retentionBytes: number;
  durability: DurabilityMode;
  config: Record<string, string>;
}

export type PolicyTarget = 'queues' | 'streams' | 'exchanges' | 'all';

export interface Policy {
  name: string;
  /** Regular expression matched against queue/stream/exchange names (RabbitMQ semantics). */
  pattern: string;
  applyTo: PolicyTarget;
  /** Highest priority wins when several match. Default 0. */
  priority?: number;
  /**
   * Arguments applied to matching resources, with RabbitMQ policy keys or x- argument names:
   * `message-ttl`, `expires`, `max-length`, `max-length-bytes`, `overflow`,
   * `dead-letter-exchange`, `dead-letter-routing-key`, `delivery-limit`, `max-age`,
   * `alternate-exchange`, ... Explicit queue arguments win over policies.
   */
  definition: Arguments;
}

// ---------------------------------------------------------------------------------------------
// Publishing

export interface PublishOptions {
  /** Report `unroutable` when the message reaches no queue or stream (AMQP mandatory). */
  mandatory?: boolean;
  /**
   * Delayed delivery (docs/business.md): hold the message durably for this many ms (1 ms to
   * one year), then route it as if published then. The result is `routed` with
   * `destinations` 0 (where it goes is decided at due time); `durable` resolves once the
   * message and its timer are stored. InvalidArgument outside the range.
   */
  delayMs?: number;
  /**
   * The broker's own connections only (`ConnectOptions.internal`): publish on behalf of this
   * validated identity instead of the connection's (MQTT will messages carry the device that
   * left, docs/mapping.md "Publisher identity"). NotAllowed on any other connection.
   */
  onBehalfOf?: MessageOrigin;
}

export interface PublishResult {
  /**
   * - `routed`: stored in every destination;
   * - `unroutable`: reached no destination (mandatory: return it to the publisher);
   * - `rejected`: a destination refused it (x-overflow reject-publish, full queue): nack it.
   */
  status: 'routed' | 'unroutable' | 'rejected';
  /** Number of queues and stream partitions that took the message. */
  destinations: number;
  /**
   * Resolves once every destination's durability promise holds (`sync`: fsynced). Shared by
   * every publish of one tick (group commit): awaiting it costs no allocation per message.
   * Already resolved for transient/non-persistent destinations.
   */
  durable: Promise<void>;
}

/** A record for `produce` when the caller does not have a RecordBatch (non-Kafka producers). */
export interface ProduceRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: { key: string; value: Buffer | null }[];
  timestamp?: number;
}

export interface ProduceOptions {
  /** Kafka acks=0/1/all map to not awaiting or awaiting `durable`; the core always stores the same. */
  durability?: DurabilityMode;
  /**
   * false: store only, do not route the records through `amq.topic` now (a Kafka transaction's
   * batches: they are routed by `routeStored` when the transaction commits, never if it aborts).
   */
  route?: boolean;
}

/** Stored records of one producer in [from, to) of a stream partition, to route (a committed transaction). */
export interface RouteStoredOptions {
  /**
   * Skip records whose routed copy is already in the log (looked up by the copy's `routedFrom`
   * key): for routing repeated after a restart, where a kill may have kept some copies of the
   * first routing but not the caller's record that it was done.
   */
  skipRouted?: boolean;
  /**
   * Who produced the records (a Kafka transaction's producer, from the connection that commits
   * it): the routed copies carry it as their origin (docs/mapping.md "Publisher identity").
   * Without it they have none.
   */
  origin?: MessageOrigin;
}

export interface StoredRange {
  stream: string;
  partition: number;
  from: number;
  to: number;
  /** Only data batches of this Kafka producer id are routed. */
  producerId: number;
}

export interface ProduceResult {
  partition: number;
  /** Offset of the first record of the batch in the partition. */
  baseOffset: number;
  /** Log-append time (ms) as stored. */
  logAppendTime: number;
  durable: Promise<void>;
  /**
   * false: the core kept no reference to the produced Buffer (it stored copies and did not
   * decode it for routing), so the caller may reuse it. Absent or true: it must not.
   */
  batchRetained?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Consuming

export interface Delivery {
  /** Per channel, starting at 1, increasing. Pass it to ack/nack/reject. 0 for noAck stream pushes. */
  deliveryTag: number;
  /** null for `get`. */
  consumerTag: string | null;
  queue: string;
  message: Message;
  /** The message was delivered before (requeued or recovered after restart). */
  redelivered: boolean;
  /** How many times it has been delivered before this delivery (0 on first delivery). */
  deliveryCount: number;
  /** Absolute expiry deadline (ms), or null: MQTT 5 forwards the remaining expiry interval. */
  expiresAt: number | null;
  /** Stream queues: the message's offset in the stream. Queues: the queue offset. */
  offset: number;
}

export interface GetResult extends Delivery {
  /** Ready messages left in the queue after this one. */
  messageCount: number;
}

/** Where a stream read starts. */
export type OffsetSpec =
  | 'first'
  | 'last'
  | 'next'
  | { offset: number }
  | { timestamp: number };

export interface ConsumeOptions {
  /** Unique per channel; generated (`ctag-<n>`) when absent. PreconditionFailed when taken. */
  consumerTag?: string;
  /** Deliveries count as acked when sent (at-most-once). */
  noAck?: boolean;
  /** Sole consumer of the queue: AccessRefused if others consume, and others are refused while it does. */
  exclusive?: boolean;
  /** Consumer priority (x-priority): higher-priority consumers get messages while they have credit. */
  priority?: number;
  /** Per-consumer credit (unacked deliveries); 0 = unlimited. Default: channel's `qos(n, false)` value. */
  prefetch?: number;
  /** For stream queues (`x-queue-type: stream`): where to start (x-stream-offset). Default 'next'. */
  streamOffset?: OffsetSpec;
  /** Other consumer arguments, kept for display. */
  arguments?: Arguments;
  /**
   * Called for each delivery, synchronously from the core's dispatch loop. Deliveries come in
   * bursts (bounded by credit), so an adapter can cork its socket on the first and uncork in
   * `process.nextTick`.
   */
  onDelivery(delivery: Delivery): void;
  /**
   * Called when the core cancels the consumer (queue deleted, connection of an exclusive queue
   * gone): not called for `cancel()`. Unacked deliveries stay ackable until the channel closes.
   */
  onCancel?(reason: string): void;
  /** Single-active-consumer: called with true when this consumer becomes (or stops being) the active one. */
  onActiveChange?(active: boolean): void;
}

export interface ConsumeResult {
  consumerTag: string;
  /** Single-active-consumer queues: whether this consumer is the active one now. */
  active: boolean;
}

// ---------------------------------------------------------------------------------------------
// Connections and channels

export interface Connection {
  /** Unique id (`conn-<n>`); exclusive queues are owned by it. */
  readonly id: string;
  readonly vhost: Vhost;
  readonly origin: MessageOrigin;
  /** Opens a channel (delivery tags, credit, consumers). */
  openChannel(): Channel;
  /**
   * Closes every channel (unacked deliveries are requeued as redelivered), cancels consumers
   * (auto-delete queues may go), deletes this connection's exclusive queues, frees the vhost's
   * connection slot. Idempotent.
   */
  close(): Promise<void>;
  readonly closed: boolean;
  /**
   * Publisher flow control: true after a publish of this connection reached a queue whose
   * backlog waits on a consumer's socket. Adapters stop reading the connection until
   * `whenUnthrottled()` resolves (at most ~100 ms while that queue delivers nothing).
   */
  readonly throttled: boolean;
  whenUnthrottled(): Promise<void>;
}

export interface Channel {
  /** Per channel, from 1. */
  readonly id: number;
  readonly connection: Connection;

  /**
   * Routes `message` through `exchange` ('' = default exchange: queue named `routingKey`) and
   * stores it once for every destination (one commit-log append with N targets). Sets the
   * message's exchange, routingKey and origin. Honors CC/BCC headers (BCC removed before
   * storing), alternate exchanges, exchange-to-exchange bindings (each destination at most once),
   * x-overflow reject-publish. Throws NotFound (exchange), AccessRefused (internal exchange),
   * MessageTooLarge.
   */
  publish(exchange: string, routingKey: string, message: Message, options?: PublishOptions): PublishResult;

  /**
   * Starts a push consumer on a queue (or stream queue). Throws NotFound, ResourceLocked
   * (another connection's exclusive queue), AccessRefused (exclusivity conflict),
   * PreconditionFailed (duplicate tag).
   */
  consume(queue: string, options: ConsumeOptions): ConsumeResult;
  /**
   * Cancels a consumer. Its unacked deliveries stay on the channel (ack them or close; AMQP's
   * rule) unless `requeueUnacked` is set, which requeues them now (STOMP UNSUBSCRIBE, MQTT
   * unsubscribe). NotFound when unknown.
   */
  cancel(consumerTag: string, options?: { requeueUnacked?: boolean }): void;

  /**
   * Pull one message (AMQP basic.get). null when the queue is empty. With noAck false the
   * delivery must be acked like a pushed one.
   */
  get(queue: string, options?: { noAck?: boolean }): GetResult | null;

  /** Acks `deliveryTag` (and, with `multiple`, every earlier unacked one). PreconditionFailed on an unknown tag. */
  ack(deliveryTag: number, multiple?: boolean): void;
  /**
   * Negative ack. requeue=true puts the message back at the head of its queue, marked
   * redelivered with its delivery count raised; false dead-letters it (reason `rejected`) or
   * drops it. deliveryTag 0 with multiple = all unacked.
   */
  nack(deliveryTag: number, multiple?: boolean, requeue?: boolean): void;
  /** nack of one delivery. */
  reject(deliveryTag: number, requeue?: boolean): void;
  /** Requeues every unacked delivery of this channel (AMQP basic.recover; `requeue` false is treated as true, as RabbitMQ does). */
  recover(requeue?: boolean): void;

  /**
   * Credit. global=false: the per-consumer prefetch for consumers started after this call;
   * global=true: one credit pool shared by all consumers of this channel (RabbitMQ's meaning).
   * 0 = unlimited.
   */
  qos(prefetchCount: number, global?: boolean): void;
  /**
   * Pauses (false) or resumes (true) deliveries to this channel: AMQP channel.flow, or the
   * adapter's socket backpressure (`write()` returned false; resume on 'drain').
   */
  setFlow(active: boolean): void;

  /** Unacked deliveries on this channel. */
  readonly unackedCount: number;
  /** Cancels consumers and requeues unacked deliveries. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

// ---------------------------------------------------------------------------------------------
// Vhost

export interface CommittedOffset {
  offset: number;
  metadata: string;
  /** When committed, ms. */
  commitTimestamp: number;
}

export interface PartitionOffsets {
  /** Log start offset. */
  startOffset: number;
  /** High watermark (next offset to be written). */
  highWatermark: number;
  /** Last stable offset (transactions hook; = high watermark without one). */
  lastStableOffset: number;
}

/** A stored batch served to Kafka fetches. */
export interface StreamBatch {
  /** The partition's offset of the first record; patch it into bytes 0..7 of `batch` when sending. */
  baseOffset: number;
  recordCount: number;
  timestamp: number;
  /** RecordBatch v2 bytes as stored (baseOffset field not patched). */
  batch: Buffer;
}

export interface StreamMessage {
  offset: number;
  message: Message;
}

/** Where a looked-up message is stored and what became of it there. */
export interface MessageRoute {
  kind: 'queue' | 'stream';
  name: string;
  /** Stream partition index (0 for queues). */
  partition: number;
  offset: number;
  /**
   * Queues: `ready` (waiting), `delivered` (delivered at least once, not yet acked), `settled`
   * (acked, expired or dead-lettered). Streams: `retained` or `removed` (past retention).
   */
  state: 'ready' | 'delivered' | 'settled' | 'retained' | 'removed';
  /** Streams: consumer groups whose committed offset is past the message. */
  consumedBy?: string[];
}

export interface MessageLookup {
  message: Message;
  /** When the broker stored it, ms. */
  storedAt: number;
  /** Every queue and stream partition of the vhost that took it. */
  routes: MessageRoute[];
}

export interface Vhost {
  readonly name: string;
  readonly options: Readonly<VhostOptions>;

  // Exchanges -----------------------------------------------------------------------------
  /**
   * Declares an exchange, or checks the existing one is equivalent (PreconditionFailed naming
   * the differing property: type, durable, auto_delete, internal, arguments). `amq.` names are
   * AccessRefused unless passive. Passive: NotFound when absent.
   */
  declareExchange(name: string, options: ExchangeOptions): Promise<ExchangeInfo>;
  /**
   * Deletes an exchange and its bindings (a no-op when absent, as RabbitMQ answers delete-ok).
   * ifUnused: PreconditionFailed when it has bindings as source. Default exchanges: AccessRefused.
   */
  deleteExchange(name: string, options?: { ifUnused?: boolean }): Promise<void>;
  exchange(name: string): ExchangeInfo | null;
  exchanges(): ExchangeInfo[];
  /** Binds exchange `destination` to `source` (e2e). Idempotent. */
  bindExchange(destination: string, source: string, routingKey: string, args?: Arguments): Promise<void>;
  unbindExchange(destination: string, source: string, routingKey: string, args?: Arguments): Promise<void>;

  // Queues --------------------------------------------------------------------------------
  /**
   * Declares a queue (name '' = server-named `amq.gen-…`), or checks equivalence with the
   * existing one (PreconditionFailed naming the property: durable, exclusive, auto_delete or
   * the argument). `connectionId` is the declaring connection: exclusive queues are owned by it
   * and other connections get ResourceLocked. ResourceError when the vhost's maxQueues is reached.
   * `x-queue-type: stream` creates a one-partition stream of that name instead.
   */
  declareQueue(name: string, options?: QueueOptions, connectionId?: string): Promise<QueueDeclareResult>;
  /**
   * Deletes a queue (or stream queue); returns the number of ready messages it held, 0 when it
   * does not exist (RabbitMQ answers delete-ok). Its consumers get onCancel; its unacked
   * deliveries can still be acked (no-ops). ifUnused/ifEmpty: PreconditionFailed.
   */
  deleteQueue(name: string, options?: DeleteQueueOptions, connectionId?: string): Promise<number>;
  /** Removes every ready message (not unacked ones); returns how many. */
  purgeQueue(name: string, connectionId?: string): Promise<number>;
  queue(name: string): QueueInfo | null;
  queues(): QueueInfo[];
  /**
   * Binds a queue or stream (a name declared either way) to an exchange. Idempotent. NotFound
   * for either; AccessRefused for the default exchange; InvalidArgument for a bad x-match.
   */
  bindQueue(queue: string, exchange: string, routingKey: string, args?: Arguments, connectionId?: string): Promise<void>;
  unbindQueue(queue: string, exchange: string, routingKey: string, args?: Arguments, connectionId?: string): Promise<void>;
  bindings(): BindingInfo[];

  // Streams -------------------------------------------------------------------------------
  /** Creates a stream (or checks it exists when passive/identical). PreconditionFailed on a differing partition count. */
  declareStream(name: string, options?: StreamOptions): Promise<StreamInfo>;
  /** Deletes a stream, its partitions' data and its group offsets. */
  deleteStream(name: string): Promise<void>;
  /** Grows a stream to `total` partitions (never shrinks: InvalidArgument). */
  addPartitions(name: string, total: number): Promise<void>;
  stream(name: string): StreamInfo | null;
  streams(): StreamInfo[];
  /** Returns retention and other config of a stream. */
  streamConfig(name: string): Record<string, string>;
  /** Sets config entries (`retention.ms`, `retention.bytes` update retention; others are stored). */
  setStreamConfig(name: string, entries: Record<string, string | null>): Promise<void>;
  /** Kafka's default partitioner: murmur2(key) & 0x7fffffff % partitions. */
  partitionFor(stream: string, key: Buffer): number;

  /**
   * Appends a RecordBatch v2 (as a Kafka producer sent it; stored as given) to one partition
   * (partition null: by the first record's key with murmur2, else round robin). The records are
   * also routed through `amq.topic` with routing key = stream name to other bound queues.
   */
  produce(stream: string, partition: number | null, batch: Buffer, options?: ProduceOptions, origin?: MessageOrigin): ProduceResult;
  /**
   * Routes stored records through `amq.topic` as `produce` does on append: for a committed Kafka
   * transaction, whose batches were produced with `route: false`. All ranges are read first and
   * then routed in one synchronous step, in the order given, so what the caller appends right
   * after the returned promise resolves lands in the same group commit as the routed copies.
   * Resolves to the number of records routed.
   */
  routeStored(ranges: readonly StoredRange[], options?: RouteStoredOptions): Promise<number>;
  /** Encodes records into one RecordBatch v2 and appends it as `produce` does. */
  produceRecords(stream: string, partition: number | null, records: ProduceRecord[], options?: ProduceOptions, origin?: MessageOrigin): ProduceResult;

  /** Start offset, high watermark and last stable offset. NotFound for an unknown stream/partition. */
  partitionOffsets(stream: string, partition: number): PartitionOffsets;
  /** Resolves an offset spec to a concrete offset ('next' = high watermark, 'last' = hw-1 or start). */
  resolveOffset(stream: string, partition: number, spec: OffsetSpec): number;
  /**
   * Stored batches from `offset` (Kafka fetch): whole batches (the first may start before
   * `offset`), at least one when any exists, up to `maxBytes`. An offset below the log start
   * reads from the log start: check `partitionOffsets` first for OFFSET_OUT_OF_RANGE.
   */
  fetch(stream: string, partition: number, offset: number, maxBytes: number): Promise<StreamBatch[]>;
  /** Decoded messages from `offset` (non-Kafka consumers), at most `maxMessages`. */
  readMessages(stream: string, partition: number, offset: number, maxMessages: number): Promise<StreamMessage[]>;
  /**
   * Resolves true as soon as the partition's high watermark passes `offset`, false after
   * `timeoutMs` (Kafka fetch long poll). An AbortSignal ends the wait early (false).
   */
  waitForData(stream: string, partition: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Moves the log start offset (Kafka DeleteRecords). */
  deleteRecordsBefore(stream: string, partition: number, offset: number): void;

  // Consumer groups -----------------------------------------------------------------------
  /** Durably stores a group's committed offset (with metadata); resolves when durable. */
  commitOffset(group: string, stream: string, partition: number, offset: number, metadata?: string): Promise<void>;
  committedOffset(group: string, stream: string, partition: number): CommittedOffset | null;
  /** Every committed offset of a group: stream -> partition -> offset. */
  groupOffsets(group: string): Map<string, Map<number, CommittedOffset>>;
  /** Groups with committed offsets. */
  groups(): string[];
  deleteGroup(group: string): Promise<void>;
  /** Removes one committed offset of a group (Kafka OffsetDelete); durable when resolved. */
  deleteOffset(group: string, stream: string, partition: number): Promise<void>;
  /** High watermark - committed offset (or - start offset when nothing is committed). */
  lag(group: string, stream: string, partition: number): number;

  // Message lookup ------------------------------------------------------------------------
  /**
   * Stored messages whose message id, correlation id or key equals `key` (newest first, at
   * most `limit`, default 32), found through the store's on-disk key index, with where each
   * was routed and its delivery state. Only messages still in the log are found.
   */
  lookupMessages(key: string, limit?: number): Promise<MessageLookup[]>;

  // Half messages ------------------------------------------------------------------------
  /** Pending transactional half messages (docs/business.md "Half messages"), oldest first. */
  halfMessages(): PendingHalfMessage[];
  /**
   * Commits or rolls back a pending half message by transaction id, as the producer would
   * (an operator's decision); `unroutable` when the id is unknown or already resolved.
   */
  resolveHalfMessage(transactionId: string, action: 'commit' | 'rollback'): PublishResult;

  // Policies ------------------------------------------------------------------------------
  /** Creates or replaces a policy; re-evaluated for every matching queue/stream/exchange. */
  setPolicy(policy: Policy): Promise<void>;
  deletePolicy(name: string): Promise<void>;
  policies(): Policy[];

  /** Open connections in this vhost. */
  readonly connectionCount: number;

  // Delayed delivery, retry and redrive (docs/business.md) ---------------------------------
  /** Delayed messages (delayed publishes and retries) waiting in this vhost. */
  delayedCount(): number;
  /** Pending delayed messages, nearest first, at most `limit` (default 100). */
  listDelayed(limit?: number): Promise<DelayedMessageInfo[]>;
  /**
   * Cancels a pending delayed message by id (from `listDelayed`): it is never routed.
   * Resolves false when no such message is pending (unknown, already due, already cancelled).
   */
  cancelDelayed(id: string): Promise<boolean>;
  /**
   * Moves dead-lettered messages from `queue` back to the queue they died in (their
   * `x-first-death-queue`), all or those `filter` accepts; each move is one store append
   * journalled with the source's offset, so a crash mid-way neither loses nor duplicates.
   */
  redrive(queue: string, options?: RedriveOptions): Promise<RedriveResult>;
}

export interface DelayedMessageInfo {
  /** Handle for `cancelDelayed`. */
  id: string;
  /** When it will be routed, ms since the epoch. */
  dueAt: number;
  /** Exchange and routing key it will be routed with (retries: '' and the queue). */
  exchange: string;
  routingKey: string;
  /** Retries: the queue the message returns to; null for delayed publishes. */
  queue: string | null;
  /** Retry number (the `x-retry-count` it will carry), 0 for delayed publishes. */
  retry: number;
  bodySize: number;
}

export interface RedriveOptions {
  /** Only messages it returns true for are moved (others stay). Default: all. */
  filter?: (message: Message) => boolean;
  /** Move to this queue instead of each message's origin queue. */
  to?: string;
  /** At most this many messages. Default: all. */
  limit?: number;
}

export interface RedriveResult {
  moved: number;
  /** Messages left where they are: no origin queue known or the origin queue is gone. */
  skipped: number;
}

export type { Header, Message, MessageOrigin, ProtocolName };

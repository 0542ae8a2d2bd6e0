/**
 * polybroker core: the public API protocol adapters code against.
 *
 * ```ts
 * const core = createCore(store, { durability: 'sync' });
 * await core.open();
 * const conn = core.connect({ vhost: '/', protocol: 'amqp', user: 'guest' });
 * const ch = conn.openChannel();
 * await conn.vhost.declareQueue('q', { durable: true }, conn.id);
 * const r = ch.publish('', 'q', createMessage(Buffer.from('hi'), { properties: { persistent: true } }));
 * await r.durable;                      // publisher confirm
 * ch.consume('q', { onDelivery: (d) => ch.ack(d.deliveryTag) });
 * ```
 * See docs/core.md for the model and each rule.
 *
 * Delayed delivery, retry and redrive (docs/business.md), on the store's durable timer:
 * ```ts
 * ch.publish('', 'q', m, { delayMs: 30_000 });     // routed in 30 s (1 ms .. 1 year)
 * // or an exchange of type 'x-delayed-message' (argument x-delayed-type) and header x-delay
 * vhost.delayedCount(); await vhost.listDelayed(50); await vhost.cancelDelayed(id);
 * // queue arguments x-retry-delays ('1s 5s 1m'), x-max-retries (16), x-retry-on-disconnect:
 * ch.nack(tag, false, false);                       // redelivered after the next delay
 * await vhost.redrive('dlq', { filter: (m) => ... }); // back to x-first-death-queue
 * ```
 * Tests move time with `CoreOptions.timerClock` (a `ManualClock` of storage/timer).
 */
export type * from './api.js';
export type * from './definitions-config.js';
export {
  type Message,
  type MessageProperties,
  type MessageOrigin,
  type NativeProperties,
  type Header,
  type HeaderValue,
  type HeaderTable,
  type Decimal,
  type ProtocolName,
  createMessage,
  headerValue,
} from './message.js';
export {
  CoreError,
  type CoreErrorCode,
  NotFound,
  AccessRefused,
  ResourceLocked,
  PreconditionFailed,
  ResourceError,
  NotAllowed,
  InvalidArgument,
  MessageTooLarge,
  isCoreError,
} from './errors.js';
export { createCore } from './core.js';
export type * from './auth/types.js';
export {
  type Permission,
  type ResourceKind,
  type VhostPermissions,
  type TopicPermission,
  matchesPermission,
  permissionSyntaxError,
  topicAllowed,
} from './auth/permissions.js';
export {
  type ScramAlgorithm,
  type ScramCredential,
  ScramExchange,
  scramAlgorithm,
  scramMechanism,
  makeScramCredential,
  formatScramCredential,
  parseScramCredential,
} from './auth/scram.js';
export { credentialsFromPassword, rabbitCredential, credentialSyntaxError } from './auth/credentials.js';
export { isLoopbackAddress } from './auth/user-store.js';
export { applyUserDefinitions, type UserDefinitionsConfig, type UserConfig } from './auth/apply-users.js';
export { applyVhostDefinitions } from './apply-definitions.js';
export { definitionProblems } from './check-definitions.js';
export { vhostsSchema } from './config-schema.js';
export { murmur2, kafkaPartition } from './murmur2.js';
/** Longest accepted delay (one year) and the retry-count header of retried messages. */
export { MAX_DELAY_MS, retryCount } from './delayed-delivery.js';
export { parseDurationMs, DEFAULT_MAX_RETRIES } from './queue-args.js';
export { REDRIVEN_FROM } from './redrive.js';
/** Name of the record header that carries a message's core metadata (last header of the record). */
export { META_HEADER } from './record-codec.js';
/** Compacted topics refuse records without a key (Kafka's LogValidator). */
export { firstKeylessRecord } from './keyless-records.js';

/**
 * Typed core errors. They never mention a protocol: each adapter maps them to its own codes
 * in one table (`protocols/<name>/mapping/errors.ts`), e.g. AMQP 404/403/405/406/530,
 * STOMP ERROR frames, MQTT reason codes, Kafka error codes.
 *
 * Every message names the resource it is about: `queue 'orders' in vhost '/'`.
 */
export type CoreErrorCode =
  | 'NOT_FOUND'
  | 'ACCESS_REFUSED'
  | 'RESOURCE_LOCKED'
  | 'PRECONDITION_FAILED'
  | 'RESOURCE_ERROR'
  | 'NOT_ALLOWED'
  | 'INVALID_ARGUMENT'
  | 'MESSAGE_TOO_LARGE';

export abstract class CoreError extends Error {
  abstract readonly code: CoreErrorCode;
}

/** The named exchange, queue, stream, vhost, partition or consumer tag does not exist. (AMQP 404) */
export class NotFound extends CoreError {
  readonly code = 'NOT_FOUND' as const;
  override readonly name = 'NotFound';
}

/**
 * The operation is refused: an exclusive consumer holds the queue, a consumer wants exclusive
 * access while others consume, a default-exchange binding or an `amq.` name is touched. (AMQP 403)
 */
export class AccessRefused extends CoreError {
  readonly code = 'ACCESS_REFUSED' as const;
  override readonly name = 'AccessRefused';
}

/** An exclusive queue is used by a connection that does not own it. (AMQP 405) */
export class ResourceLocked extends CoreError {
  readonly code = 'RESOURCE_LOCKED' as const;
  override readonly name = 'ResourceLocked';
}

/**
 * A redeclaration differs from the existing definition (the message names the property and both
 * values), an if-unused/if-empty delete finds the queue in use or non-empty, an unknown delivery
 * tag is acked, or a queue argument is invalid. (AMQP 406)
 */
export class PreconditionFailed extends CoreError {
  readonly code = 'PRECONDITION_FAILED' as const;
  override readonly name = 'PreconditionFailed';
}

/** A limit is reached: max connections or queues of a vhost, max partitions. (AMQP 506) */
export class ResourceError extends CoreError {
  readonly code = 'RESOURCE_ERROR' as const;
  override readonly name = 'ResourceError';
}

/** The operation is not allowed in this state: vhost missing for a connection, closed channel. (AMQP 530) */
export class NotAllowed extends CoreError {
  readonly code = 'NOT_ALLOWED' as const;
  override readonly name = 'NotAllowed';
}

/** A malformed argument: bad exchange type, bad `x-match`, priority > 255, non-numeric TTL. (AMQP 406 or 503) */
export class InvalidArgument extends CoreError {
  readonly code = 'INVALID_ARGUMENT' as const;
  override readonly name = 'InvalidArgument';
}

/** A message body is larger than the configured max message size. (AMQP 406, MQTT 0x95, Kafka MESSAGE_TOO_LARGE) */
export class MessageTooLarge extends CoreError {
  readonly code = 'MESSAGE_TOO_LARGE' as const;
  override readonly name = 'MessageTooLarge';
}

/** True when `e` is a core error (any subclass). */
export function isCoreError(e: unknown): e is CoreError {
  return e instanceof CoreError;
}

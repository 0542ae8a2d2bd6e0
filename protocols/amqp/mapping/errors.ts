import type { CoreError, CoreErrorCode } from '../../../src/core/index.js';
import { AmqpChannelError, AmqpConnectionError } from '../codec/errors.js';
import { ReplyCode } from '../spec/reply-codes.js';

/**
 * Core errors → AMQP reply codes. Soft ones close the channel, hard ones the connection
 * (RabbitMQ: a vhost limit or a missing vhost is NOT_ALLOWED/RESOURCE_ERROR on the connection).
 */
const TABLE: Record<CoreErrorCode, { code: number; hard: boolean }> = {
  NOT_FOUND: { code: ReplyCode.NOT_FOUND, hard: false },
  ACCESS_REFUSED: { code: ReplyCode.ACCESS_REFUSED, hard: false },
  RESOURCE_LOCKED: { code: ReplyCode.RESOURCE_LOCKED, hard: false },
  PRECONDITION_FAILED: { code: ReplyCode.PRECONDITION_FAILED, hard: false },
  INVALID_ARGUMENT: { code: ReplyCode.PRECONDITION_FAILED, hard: false },
  MESSAGE_TOO_LARGE: { code: ReplyCode.PRECONDITION_FAILED, hard: false },
  RESOURCE_ERROR: { code: ReplyCode.RESOURCE_ERROR, hard: true },
  NOT_ALLOWED: { code: ReplyCode.NOT_ALLOWED, hard: true },
};

export function amqpErrorFromCore(e: CoreError, classId: number, methodId: number): AmqpChannelError | AmqpConnectionError {
  const m = TABLE[e.code];
  return m.hard ? new AmqpConnectionError(m.code, e.message, classId, methodId) : new AmqpChannelError(m.code, e.message, classId, methodId);
}

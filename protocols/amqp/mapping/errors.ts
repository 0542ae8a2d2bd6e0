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

/** Core texts rewritten to the exact words RabbitMQ clients have seen for years. */
function rabbitText(e: CoreError): string {
  let text = e.message;
  if (e.code === 'RESOURCE_LOCKED' && text.startsWith('cannot obtain exclusive access') && !text.includes('It could be')) {
    text += '. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.';
  }
  if (e.code === 'ACCESS_REFUSED') {
    text = text.replace(/^cannot consume from (queue '.*' in vhost '.*'): it has an exclusive consumer$/, '$1 in exclusive use');
    text = text.replace(/^cannot consume exclusively from (queue '.*' in vhost '.*'): .*$/, '$1 in exclusive use');
  }
  if (e.code === 'PRECONDITION_FAILED') text = text.replace(/^(unknown delivery tag \d+) on channel \d+$/, '$1');
  return text;
}

export function amqpErrorFromCore(e: CoreError, classId: number, methodId: number): AmqpChannelError | AmqpConnectionError {
  const m = TABLE[e.code];
  const text = rabbitText(e);
  return m.hard ? new AmqpConnectionError(m.code, text, classId, methodId) : new AmqpChannelError(m.code, text, classId, methodId);
}

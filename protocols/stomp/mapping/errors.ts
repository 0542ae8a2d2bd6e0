import { isCoreError, type CoreErrorCode } from '../../../src/core/index.js';
import { StompFrameError } from '../codec/frame-error.js';
import { StompError } from '../errors.js';

/**
 * Core errors as ERROR frames, as RabbitMQ's STOMP plugin writes an AMQP channel error:
 * `message` is the error's name (`not_found`), the body `NOT_FOUND - <text>` (the AMQP
 * reply-text), so clients matching on either keep working.
 */
const TITLE: Record<CoreErrorCode, string> = {
  NOT_FOUND: 'not_found',
  ACCESS_REFUSED: 'access_refused',
  RESOURCE_LOCKED: 'resource_locked',
  PRECONDITION_FAILED: 'precondition_failed',
  RESOURCE_ERROR: 'resource_error',
  NOT_ALLOWED: 'not_allowed',
  INVALID_ARGUMENT: 'invalid_argument',
  MESSAGE_TOO_LARGE: 'message_too_large',
};

const FRAME_TITLE: Record<StompFrameError['kind'], string> = {
  'unknown-command': 'Bad command',
  'malformed-header': 'Malformed frame',
  'bad-escape': 'Malformed frame',
  'headers-too-large': 'Frame too large',
  'too-many-headers': 'Frame too large',
  'bad-content-length': 'Malformed frame',
  'body-too-large': 'Frame too large',
  'missing-nul': 'Malformed frame',
};

/** An error of the core's kinds raised by the adapter itself (a missing queue, a refused permission). */
export function coreStyleError(code: CoreErrorCode, text: string): StompError {
  return new StompError(TITLE[code], `${code} - ${text}`);
}

/** Any error raised while handling a frame, as the StompError to send. */
export function toStompError(e: unknown): StompError {
  if (e instanceof StompError) return e;
  if (e instanceof StompFrameError) return new StompError(FRAME_TITLE[e.kind], e.message);
  if (isCoreError(e)) return coreStyleError(e.code, e.message);
  return new StompError('internal_error', e instanceof Error ? e.message : String(e));
}

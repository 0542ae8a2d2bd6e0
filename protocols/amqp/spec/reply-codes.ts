/**
 * AMQP 0-9-1 reply codes (spec §1.2 "Constants"). Soft errors close the channel, hard errors
 * close the connection. RabbitMQ writes the name before the text ("NOT_FOUND - no queue 'q'
 * in vhost '/'"), with underscores; `replyText` does the same.
 */
export const ReplyCode = {
  REPLY_SUCCESS: 200,
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  NO_CONSUMERS: 313,
  CONNECTION_FORCED: 320,
  INVALID_PATH: 402,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const;

export type ReplyCodeValue = (typeof ReplyCode)[keyof typeof ReplyCode];

const NAMES = new Map<number, string>(Object.entries(ReplyCode).map(([k, v]) => [v, k]));

/** Hard errors (connection exceptions) per the spec's constant classes. */
const HARD = new Set<number>([320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541]);

export function replyCodeName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_${code}`;
}

export function isHardError(code: number): boolean {
  return HARD.has(code);
}

/** "NAME - detail", cut to the 255 bytes a shortstr can hold. */
export function replyText(code: number, detail: string): string {
  const text = `${replyCodeName(code)} - ${detail}`;
  return Buffer.byteLength(text) <= 255 ? text : Buffer.from(text).subarray(0, 255).toString('utf8').replace(/\uFFFD+$/, '');
}

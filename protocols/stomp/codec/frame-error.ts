/** What was wrong with the bytes; the session turns it into an ERROR frame and a close. */
export type StompFrameErrorKind =
  | 'unknown-command'
  | 'malformed-header'
  | 'bad-escape'
  | 'headers-too-large'
  | 'too-many-headers'
  | 'bad-content-length'
  | 'body-too-large'
  | 'missing-nul';

/** A malformed frame. Carries the text for the ERROR frame's `message` header. */
export class StompFrameError extends Error {
  override readonly name = 'StompFrameError';
  constructor(
    readonly kind: StompFrameErrorKind,
    message: string,
  ) {
    super(message);
  }
}

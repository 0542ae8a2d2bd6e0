import { ReplyCode, replyText } from '../spec/reply-codes.js';

/**
 * A connection exception (hard error): the connection is closed with connection.close
 * carrying `replyCode` and the class/method that caused it.
 */
export class AmqpConnectionError extends Error {
  constructor(
    readonly replyCode: number,
    readonly detail: string,
    readonly classId = 0,
    readonly methodId = 0,
  ) {
    super(replyText(replyCode, detail));
    this.name = 'AmqpConnectionError';
  }
}

/** A channel exception (soft error): only the channel is closed with channel.close. */
export class AmqpChannelError extends Error {
  constructor(
    readonly replyCode: number,
    readonly detail: string,
    readonly classId = 0,
    readonly methodId = 0,
  ) {
    super(replyText(replyCode, detail));
    this.name = 'AmqpChannelError';
  }
}

/** Bytes that do not decode as what the frame type says: FRAME_ERROR, as RabbitMQ answers. */
export class AmqpDecodeError extends AmqpConnectionError {
  constructor(detail: string) {
    super(ReplyCode.FRAME_ERROR, detail);
    this.name = 'AmqpDecodeError';
  }
}

/**
 * A protocol error as the client will see it: an ERROR frame with `message` (short) and a
 * text body (what was wrong and what to do), after which the connection is closed
 * (STOMP 1.2 "ERROR"). `receiptId` echoes the `receipt` of the offending frame.
 */
export class StompError extends Error {
  override readonly name = 'StompError';
  constructor(
    message: string,
    readonly details: string = message,
    readonly receiptId?: string,
    /** Extra ERROR headers, flat (after message, content-type and version). */
    readonly headers: readonly string[] = [],
  ) {
    super(message);
  }

  withReceipt(receiptId: string | undefined): StompError {
    if (receiptId === undefined || this.receiptId !== undefined) return this;
    return new StompError(this.message, this.details, receiptId, this.headers);
  }
}

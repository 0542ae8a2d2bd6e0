/**
 * RECEIPTs of one connection, in frame order: each waits for every earlier one and for its own
 * frame's durability promise (publish confirmed per the durability mode). A receipt with
 * nothing to wait for, behind nothing, is written at once without a promise.
 */
export class ReceiptQueue {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly write: (receiptId: string) => void,
    private readonly fail: (e: unknown, receiptId: string) => void,
  ) {}

  add(receiptId: string | undefined, durable?: Promise<unknown>): void {
    if (receiptId === undefined) return;
    if (durable === undefined && this.pending === 0) {
      this.write(receiptId);
      return;
    }
    this.pending++;
    this.chain = this.chain
      .then(() => durable)
      .then(
        () => {
          this.pending--;
          this.write(receiptId);
        },
        (e: unknown) => {
          this.pending--;
          this.fail(e, receiptId);
        },
      );
  }

  /** True when no receipt waits for a durability promise. */
  get idle(): boolean {
    return this.pending === 0;
  }

  /** Resolves once every receipt added so far is written. */
  written(): Promise<void> {
    return this.chain;
  }
}

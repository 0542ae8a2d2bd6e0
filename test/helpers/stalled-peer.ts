import { Duplex } from 'node:stream';

/**
 * A client that can stop reading, handed to an adapter like an accepted socket: while it is
 * stalled the broker's writes stay queued in the stream (as in a socket whose peer does not
 * read), and `release()` completes them all. Subclasses decode what the broker wrote in
 * `received` and write to the broker with `push`.
 */
export abstract class StalledPeer extends Duplex {
  private held: Array<() => void> = [];
  private waiters: Array<() => void> = [];

  constructor(private flowing = true) {
    super();
  }

  /** Bytes the broker wrote, in order, as they are written (also while stalled). */
  protected abstract received(chunk: Buffer): void;

  override _read(): void {}

  // Waiters are woken on every write(), not only in _write(): while a write is held the
  // stream queues later ones without calling _write().
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    const ok = (super.write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    this.wake();
    return ok;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received(chunk);
    this.wake();
    if (this.flowing) callback();
    else this.held.push(callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), 'buffer', callback);
  }

  /** The peer stops reading: later writes stay queued. */
  stall(): void {
    this.flowing = false;
  }

  /** The peer reads again: every held write completes, later ones at once. */
  release(): void {
    this.flowing = true;
    for (const cb of this.held.splice(0)) cb();
  }

  /** Resolves once `done()` holds, checked whenever the broker writes. */
  async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * A queue's ready messages in offset order: appends at the tail, takes from the head, and puts
 * requeued messages back where they were (usually the head: AMQP requeue keeps the message's
 * place). An array with a moving head index, compacted when half of it is dead; no per-message
 * allocation beyond the entry itself.
 */
export interface Ordered {
  offset: number;
}

export class ReadyList<T extends Ordered> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(e: T): void {
    this.items.push(e);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const e = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  /** Inserts `e` at its offset's place. */
  insert(e: T): void {
    const first = this.items[this.head];
    if (first === undefined || e.offset < first.offset) {
      if (this.head > 0) this.items[--this.head] = e;
      else this.items.unshift(e);
      return;
    }
    // Binary search for the first item with a larger offset.
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.offset < e.offset) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, e);
  }

  /** Removes and returns every entry for which `pred` holds, keeping order. */
  removeWhere(pred: (e: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: (T | undefined)[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const e = this.items[i]!;
      if (pred(e)) removed.push(e);
      else kept.push(e);
    }
    if (removed.length > 0) {
      this.items = kept;
      this.head = 0;
    }
    return removed;
  }

  /** Removes everything; returns the removed entries in order. */
  clear(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }
}

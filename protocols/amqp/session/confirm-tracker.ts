/**
 * Publisher confirms for one channel (RabbitMQ's extension, confirm.select). Publishes are
 * numbered from 1; a publish is acked once its destinations' durability promise holds, nacked
 * when a destination refused it. Consecutive publishes sharing one promise (the core's group
 * commit: one per tick) form one group, so a tick of publishes costs one `then` and one
 * `basic.ack multiple`. Confirms go out in publish order, so `multiple` never covers a
 * publish that is still pending or was nacked.
 */
interface Group {
  firstSeq: number;
  lastSeq: number;
  promise: Promise<void> | null;
  done: boolean;
  nack: boolean;
}

export type SendConfirm = (deliveryTag: number, multiple: boolean, nack: boolean) => void;

export class ConfirmTracker {
  private nextSeq = 1;
  private confirmedUpTo = 0;
  private readonly groups: Group[] = [];
  private head = 0;

  constructor(private readonly send: SendConfirm) {}

  /** Sequence number the next publish gets. */
  next(): number {
    return this.nextSeq++;
  }

  /** Records publish `seq`: acked when `durable` resolves, nacked when it rejects or `nack`. */
  track(seq: number, durable: Promise<void>, nack: boolean): void {
    const last = this.groups.length > this.head ? this.groups[this.groups.length - 1]! : null;
    if (!nack && last && !last.nack && !last.done && last.promise === durable && last.lastSeq === seq - 1) {
      last.lastSeq = seq;
      return;
    }
    const g: Group = { firstSeq: seq, lastSeq: seq, promise: nack ? null : durable, done: nack, nack };
    this.groups.push(g);
    if (nack) {
      queueMicrotask(() => this.drain());
      return;
    }
    durable.then(
      () => {
        g.done = true;
        this.drain();
      },
      () => {
        g.done = true;
        g.nack = true;
        this.drain();
      },
    );
  }

  private drain(): void {
    let ackUpTo = 0;
    while (this.head < this.groups.length) {
      const g = this.groups[this.head]!;
      if (!g.done) break;
      if (g.nack) {
        if (ackUpTo) this.emit(ackUpTo, false);
        ackUpTo = 0;
        this.emit(g.lastSeq, true);
      } else {
        ackUpTo = g.lastSeq;
      }
      this.head++;
    }
    if (ackUpTo) this.emit(ackUpTo, false);
    if (this.head > 1024 && this.head * 2 > this.groups.length) {
      this.groups.splice(0, this.head);
      this.head = 0;
    }
  }

  private emit(upTo: number, nack: boolean): void {
    this.send(upTo, upTo > this.confirmedUpTo + 1, nack);
    this.confirmedUpTo = upTo;
  }
}

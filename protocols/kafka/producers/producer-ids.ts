/**
 * Hands out producer ids. Kafka reserves blocks of ids in ZooKeeper/KRaft; this node has no
 * store of its own for a counter, so an id is the wall clock in milliseconds, strictly
 * increasing in this process and above every id in the log (ProducerGuard.maxProducerId). A
 * restarted broker therefore never hands out an id a producer before the restart holds, as long
 * as the clock does not go back and fewer than one id per millisecond was taken on average.
 */
export class ProducerIds {
  private last = -1;

  constructor(
    private readonly floor: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  next(): number {
    this.last = Math.max(this.last + 1, this.floor() + 1, this.now());
    return this.last;
  }
}

/**
 * Publisher flow control, RabbitMQ's "flow" connection state for a broker on one thread.
 *
 * A consumer that waits on its socket (it has credit, but the adapter paused deliveries until
 * the output drains) leaves its queue's messages in memory. If publishers keep being read, a
 * CPU-bound broker spends its time taking in messages that only wait, and a backlog that
 * outlives young-generation collections costs far more than it did to take in (issue 12: AMQP
 * over TLS lost a third of its rate this way). So a publish that finds such a queue holding at
 * least `backlog` ready messages throttles its connection: the adapter stops reading it until
 * the queue is down to half, and the waiting messages stay in the client and the kernel.
 *
 * Only a consumer that is limited by its socket throttles publishers: a consumer out of credit
 * (unacked messages at its prefetch) is slow by its own choice and its queue grows, as in
 * RabbitMQ. A connection that also consumes is never throttled, so its acks are always read. A
 * queue that delivers nothing for `stallMs` (a client that stopped reading, or one thread that
 * publishes and consumes and is blocked writing) releases its publishers and stops throttling
 * until it delivers again: flow control slows publishers down, it never stops them for good.
 */
import type { ConnectionImpl } from './connection.js';
import type { Queue } from './queue.js';

interface Waiting {
  connections: Set<ConnectionImpl>;
  /** The queue's delivered count at the last check (stall detection). */
  delivered: number;
}

export class PublisherFlow {
  /** Ready messages at which a publish throttles (Infinity: off). */
  readonly backlog: number;
  /** The backlogged queue the publish in progress reached; the publishing channel takes it. */
  hit: Queue | null = null;
  private readonly waiting = new Map<Queue, Waiting>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    backlog: number,
    private readonly stallMs = 100,
  ) {
    this.backlog = backlog > 0 ? backlog : Infinity;
  }

  /** Called by a queue's enqueue when its backlog is at or over the mark and it has consumers. */
  backlogged(q: Queue): void {
    if (q.flowStalled) return;
    for (const c of q.consumers) {
      if (c.waitsOnSocket()) {
        this.hit = q;
        return;
      }
    }
  }

  /** Throttles `conn`, which just published to `q`, unless it also consumes. */
  throttle(conn: ConnectionImpl, q: Queue): void {
    if (conn.throttledBy !== null || conn.closed || conn.consumes()) return;
    let w = this.waiting.get(q);
    if (w === undefined) {
      w = { connections: new Set(), delivered: q.stats.delivered };
      this.waiting.set(q, w);
      q.flowWaiting = true;
    }
    w.connections.add(conn);
    conn.throttle(q);
    this.timer ??= setInterval(() => this.check(), this.stallMs).unref();
  }

  /** The queue's dispatch brought its backlog down to half the mark. */
  drained(q: Queue): void {
    this.release(q);
  }

  /** A throttled connection closed. */
  forget(conn: ConnectionImpl): void {
    const q = conn.throttledBy;
    if (q === null) return;
    const w = this.waiting.get(q);
    w?.connections.delete(conn);
    if (w?.connections.size === 0) this.release(q);
    conn.unthrottle();
  }

  private release(q: Queue): void {
    const w = this.waiting.get(q);
    q.flowWaiting = false;
    if (w === undefined) return;
    this.waiting.delete(q);
    for (const conn of w.connections) conn.unthrottle();
    if (this.waiting.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Releases the publishers of queues that went away, lost their consumers, drained or stalled. */
  private check(): void {
    for (const [q, w] of [...this.waiting]) {
      if (q.deleted || q.consumers.length === 0 || q.messageCount <= this.backlog / 2) this.release(q);
      else if (q.stats.delivered === w.delivered) {
        q.flowStalled = true;
        this.release(q);
      } else w.delivered = q.stats.delivered;
    }
  }
}

/**
 * Heartbeats for one connection (spec §4.2.7): a heartbeat frame goes out when nothing else
 * did for half an interval, and a peer silent for two intervals is given up on (RabbitMQ's
 * rule). The connection marks traffic with `sent()` / `received()`.
 */
export class Heartbeat {
  private sentSinceTick = false;
  private receivedSinceTick = false;
  private missedTicks = 0;
  private held = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sendHeartbeat: () => void,
    private readonly onTimeout: () => void,
  ) {}

  start(intervalSec: number): void {
    if (intervalSec <= 0) return;
    this.timer = setInterval(() => this.tick(), (intervalSec * 1000) / 2);
    this.timer.unref();
  }

  sent(): void {
    this.sentSinceTick = true;
  }

  received(): void {
    this.receivedSinceTick = true;
  }

  /**
   * While the broker does not read the connection (alarm, store backpressure, flow control),
   * the client's heartbeats wait unread: its silence is not counted (RabbitMQ pauses its
   * heartbeat monitor while a connection is blocked the same way).
   */
  hold(held: boolean): void {
    this.held = held;
    this.missedTicks = 0;
  }

  private tick(): void {
    if (!this.sentSinceTick) this.sendHeartbeat();
    this.sentSinceTick = false;
    if (this.receivedSinceTick || this.held) this.missedTicks = 0;
    else if (++this.missedTicks >= 4) {
      this.stop();
      this.onTimeout();
    }
    this.receivedSinceTick = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

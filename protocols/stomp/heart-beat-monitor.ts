import type { NegotiatedHeartBeat } from './heart-beat.js';

/**
 * Runs the negotiated heart-beats of one connection (STOMP 1.2 "Heart-beating"): sends a beat
 * when nothing was written for the send interval, and reports a client silent for its
 * interval × grace (measured by this process's clock, so a stall of ours is not taken for the
 * client's silence). One timer per connection at half the shorter interval.
 */
export class HeartBeatMonitor {
  private timer: NodeJS.Timeout | null = null;
  private lastReadAt = Date.now();
  private wroteSinceBeat = false;
  private held = false;

  constructor(
    private readonly negotiated: NegotiatedHeartBeat,
    private readonly graceFactor: number,
    private readonly sendBeat: () => void,
    private readonly onSilent: (silentMs: number) => void,
  ) {}

  start(): void {
    const { sendMs, receiveMs } = this.negotiated;
    if (sendMs === 0 && receiveMs === 0) return;
    const deadMs = receiveMs * this.graceFactor;
    const tickMs = Math.max(10, Math.floor(Math.min(sendMs > 0 ? sendMs / 2 : Infinity, receiveMs > 0 ? receiveMs / 2 : Infinity)));
    let sinceBeatMs = 0;
    this.lastReadAt = Date.now();
    let lastTickAt = this.lastReadAt;
    this.timer = setInterval(() => {
      const now = Date.now();
      // A tick that comes late means this process was stalled (GC, a busy host): the client's
      // beats may be waiting unread in the socket, and timers run before I/O is read. Judge
      // silence only on a tick that ran on time; the next one comes after the reads.
      const late = now - lastTickAt > 2 * tickMs;
      lastTickAt = now;
      if (receiveMs > 0 && !late && !this.held && now - this.lastReadAt > deadMs) {
        this.stop();
        this.onSilent(deadMs);
        return;
      }
      if (sendMs === 0) return;
      sinceBeatMs += tickMs;
      if (this.wroteSinceBeat) {
        this.wroteSinceBeat = false;
        sinceBeatMs = 0;
      } else if (sinceBeatMs + tickMs > sendMs) {
        this.sendBeat();
        this.wroteSinceBeat = false;
        sinceBeatMs = 0;
      }
    }, tickMs);
    this.timer.unref();
  }

  /**
   * While the session does not read the socket (alarm, backpressure, flow control) the client's
   * beats wait unread: silence is not judged, and the clock restarts when reading does.
   */
  hold(held: boolean): void {
    this.held = held;
    this.lastReadAt = Date.now();
  }

  /** Any bytes from the client count as a beat. */
  noteRead(): void {
    this.lastReadAt = Date.now();
  }

  /** Any frame to the client makes a beat unnecessary. */
  noteWrite(): void {
    this.wroteSinceBeat = true;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

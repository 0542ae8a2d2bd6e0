import type { Core } from '../core/index.js';

/** Cumulative counters at one instant. */
export interface Sample {
  at: number;
  published: number;
  delivered: number;
  /** Per queue `vhost\0name`: published, delivered, acked (cumulative); ready and unacked (depths). */
  queues: Map<string, { published: number; delivered: number; acked: number; ready: number; unacked: number }>;
  /** Per stream `vhost\0name`: sum of high watermarks. */
  streams: Map<string, number>;
}

/** One point of the overview charts. */
export interface RatePoint {
  at: number;
  publishRate: number;
  deliverRate: number;
  messages: number;
}

const HISTORY = 120;

/**
 * Samples the core's cumulative counters every `intervalMs` and derives rates (per second)
 * from the last two samples, as RabbitMQ's management agent does with its 5 s samples. Keeps
 * the last 120 overview points for the UI's charts. Sampling reads counters only: no work on
 * the message path.
 */
export class RateSampler {
  private prev: Sample | null = null;
  private last: Sample | null = null;
  readonly history: RatePoint[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly core: Core,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    const totals = this.core.messageTotals();
    const s: Sample = {
      at: Date.now(),
      published: Object.values(totals.published).reduce((a, b) => a + b, 0),
      delivered: Object.values(totals.delivered).reduce((a, b) => a + b, 0),
      queues: new Map(),
      streams: new Map(),
    };
    let messages = 0;
    for (const vname of this.core.vhostNames()) {
      const vh = this.core.vhost(vname);
      for (const q of vh.queues()) {
        s.queues.set(`${vname}\0${q.name}`, { ...q.stats, ready: q.messageCount, unacked: q.unackedCount });
        messages += q.messageCount + q.unackedCount;
      }
      for (const st of vh.streams()) {
        let hw = 0;
        for (let p = 0; p < st.partitions; p++) {
          try {
            hw += vh.partitionOffsets(st.name, p).highWatermark;
          } catch {
            // deleted meanwhile
          }
        }
        s.streams.set(`${vname}\0${st.name}`, hw);
      }
    }
    this.prev = this.last;
    this.last = s;
    if (this.prev) {
      const dt = (s.at - this.prev.at) / 1000;
      if (dt > 0) {
        this.history.push({ at: s.at, publishRate: (s.published - this.prev.published) / dt, deliverRate: (s.delivered - this.prev.delivered) / dt, messages });
        if (this.history.length > HISTORY) this.history.shift();
      }
    }
  }

  /** Change per second between the last two samples; a counter's rate is never negative, a depth's is while it drains (as RabbitMQ's). */
  private rate(pick: (s: Sample) => number | undefined, depth = false): number {
    if (!this.prev || !this.last) return 0;
    const a = pick(this.prev);
    const b = pick(this.last);
    const dt = (this.last.at - this.prev.at) / 1000;
    if (a === undefined || b === undefined || dt <= 0) return 0;
    return depth ? (b - a) / dt : Math.max(0, (b - a) / dt);
  }

  overviewRates(): { publish: number; deliver: number } {
    return { publish: this.rate((s) => s.published), deliver: this.rate((s) => s.delivered) };
  }

  queueRates(vhost: string, name: string): { publish: number; deliver: number; ack: number; messages: number; ready: number; unacked: number } {
    const k = `${vhost}\0${name}`;
    const at = (s: Sample) => s.queues.get(k);
    return {
      publish: this.rate((s) => at(s)?.published),
      deliver: this.rate((s) => at(s)?.delivered),
      ack: this.rate((s) => at(s)?.acked),
      messages: this.rate((s) => {
        const q = at(s);
        return q && q.ready + q.unacked;
      }, true),
      ready: this.rate((s) => at(s)?.ready, true),
      unacked: this.rate((s) => at(s)?.unacked, true),
    };
  }

  streamRate(vhost: string, name: string): number {
    const k = `${vhost}\0${name}`;
    return this.rate((s) => s.streams.get(k));
  }
}

/**
 * `/metrics` in the Prometheus text format (prom-client, its own registry). Counters the core
 * keeps cumulatively are read at scrape time (`collect`), so metrics cost nothing on the
 * message path; only the storage timings are observed as they happen (one histogram
 * observation per group commit, not per message).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ManagementContext, ProtocolKey } from './context.js';

const PROTOCOLS: ProtocolKey[] = ['amqp', 'mqtt', 'stomp', 'kafka'];

export class BrokerMetrics {
  readonly registry = new Registry();
  private readonly write: Histogram<string>;
  private readonly fsync: Histogram<string>;

  constructor(private readonly ctx: () => ManagementContext | null) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 20 });
    const buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
    this.write = new Histogram({ name: 'polybroker_storage_append_write_seconds', help: 'Duration of one commit-log group write (writev; includes the sync with O_DSYNC in sync mode)', buckets, registers: [r] });
    this.fsync = new Histogram({ name: 'polybroker_storage_fsync_seconds', help: 'Duration of one fdatasync of the dirty commit-log segments', buckets, registers: [r] });
    const self = this;
    new Gauge({
      name: 'polybroker_connections',
      help: 'Open network connections per protocol (as the adapters count them)',
      labelNames: ['protocol'],
      registers: [r],
      collect() {
        const c = self.ctx();
        if (!c) return;
        const counts = c.adapterConnections();
        for (const p of PROTOCOLS) this.set({ protocol: p }, counts[p] ?? 0);
      },
    });
    new Gauge({
      name: 'polybroker_core_connections',
      help: 'Authenticated connections per protocol and vhost',
      labelNames: ['protocol', 'vhost'],
      registers: [r],
      collect() {
        const c = self.ctx();
        if (!c) return;
        this.reset();
        for (const conn of c.core.connections()) this.inc({ protocol: conn.protocol, vhost: conn.vhost });
      },
    });
    // Cumulative figures kept elsewhere (core, sockets): reset and set the absolute value at each scrape.
    const perProtocolTotal = (name: string, help: string, totals: (c: ManagementContext) => Record<string, number>) =>
      new Counter({
        name,
        help,
        labelNames: ['protocol'],
        registers: [r],
        collect() {
          const c = self.ctx();
          if (!c) return;
          const t = totals(c);
          this.reset();
          for (const [p, v] of Object.entries(t)) this.inc({ protocol: p }, v);
        },
      });
    const socketBytes = (c: ManagementContext, key: 'received' | 'sent') => {
      const b = c.bytes();
      return Object.fromEntries(PROTOCOLS.map((p) => [p, b[p][key]]));
    };
    perProtocolTotal('polybroker_messages_published_total', 'Messages published per protocol of origin (Kafka: records produced)', (c) => c.core.messageTotals().published);
    perProtocolTotal('polybroker_messages_delivered_total', 'Messages delivered per protocol of the consumer (Kafka: records fetched)', (c) => c.core.messageTotals().delivered);
    perProtocolTotal('polybroker_network_received_bytes_total', 'Bytes read from client sockets per protocol', (c) => socketBytes(c, 'received'));
    perProtocolTotal('polybroker_network_sent_bytes_total', 'Bytes written to client sockets per protocol', (c) => socketBytes(c, 'sent'));
    // Per-queue figures read at each scrape; a counter's total is kept by the queue, so it is set the same way.
    const perQueue = (Metric: typeof Gauge | typeof Counter, name: string, help: string, pick: (q: { messageCount: number; unackedCount: number; consumerCount: number; messageBytes: number; stats: { deadLettered: number } }) => number) =>
      new Metric({
        name,
        help,
        labelNames: ['vhost', 'queue'],
        registers: [r],
        collect(this: Gauge | Counter) {
          const c = self.ctx();
          if (!c) return;
          this.reset();
          for (const v of c.core.vhostNames()) for (const q of c.core.vhost(v).queues()) this.inc({ vhost: v, queue: q.name }, pick(q));
        },
      });
    perQueue(Gauge, 'polybroker_queue_messages_ready', 'Ready messages per queue', (q) => q.messageCount);
    perQueue(Gauge, 'polybroker_queue_messages_unacked', 'Delivered, unacknowledged messages per queue', (q) => q.unackedCount);
    perQueue(Gauge, 'polybroker_queue_consumers', 'Consumers per queue', (q) => q.consumerCount);
    perQueue(Counter, 'polybroker_queue_dead_lettered_total', 'Messages a queue dead-lettered to its dead-letter exchange (rejected, expired, over length, delivery limit)', (q) => q.stats.deadLettered);
    new Gauge({
      name: 'polybroker_delayed_messages',
      help: 'Delayed messages (delayed publishes and retries) waiting per vhost',
      labelNames: ['vhost'],
      registers: [r],
      collect() {
        const c = self.ctx();
        if (!c) return;
        this.reset();
        for (const v of c.core.vhostNames()) this.set({ vhost: v }, c.core.vhost(v).delayedCount());
      },
    });
    perQueue(Gauge, 'polybroker_queue_message_bytes', 'Bytes of ready message bodies per queue', (q) => q.messageBytes);
    new Gauge({
      name: 'polybroker_stream_messages',
      help: 'Messages retained per stream partition (high watermark - log start offset)',
      labelNames: ['vhost', 'stream', 'partition'],
      registers: [r],
      collect() {
        const c = self.ctx();
        if (!c) return;
        this.reset();
        for (const v of c.core.vhostNames()) {
          const vh = c.core.vhost(v);
          for (const s of vh.streams()) {
            for (let p = 0; p < s.partitions; p++) {
              try {
                const o = vh.partitionOffsets(s.name, p);
                this.set({ vhost: v, stream: s.name, partition: String(p) }, o.highWatermark - o.startOffset);
              } catch {
                // deleted meanwhile
              }
            }
          }
        }
      },
    });
    new Gauge({
      name: 'polybroker_consumer_group_lag',
      help: 'Consumer lag per group and stream partition (high watermark - committed offset)',
      labelNames: ['vhost', 'group', 'stream', 'partition'],
      registers: [r],
      collect() {
        const c = self.ctx();
        if (!c) return;
        this.reset();
        for (const v of c.core.vhostNames()) {
          const vh = c.core.vhost(v);
          for (const g of vh.groups()) {
            for (const [s, parts] of vh.groupOffsets(g)) {
              for (const p of parts.keys()) {
                try {
                  this.set({ vhost: v, group: g, stream: s, partition: String(p) }, vh.lag(g, s, p));
                } catch {
                  // stream deleted meanwhile
                }
              }
            }
          }
        }
      },
    });
    new Gauge({
      name: 'polybroker_alarm',
      help: 'Resource alarms (1 = raised: publishers are blocked)',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        const c = self.ctx();
        if (!c) return;
        for (const k of ['memory', 'disk'] as const) this.set({ kind: k }, c.core.alarms.has(k) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'polybroker_build_info',
      help: 'Version of the running broker',
      labelNames: ['version'],
      registers: [r],
      collect() {
        const c = self.ctx();
        if (c) this.set({ version: c.version }, 1);
      },
    });
  }

  /** StoreOptions.onTiming: commit-log write and fsync durations. */
  readonly onStorageTiming = (kind: 'write' | 'fsync', durationMs: number): void => {
    (kind === 'write' ? this.write : this.fsync).observe(durationMs / 1000);
  };

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

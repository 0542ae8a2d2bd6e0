/**
 * Core objects as RabbitMQ's management API shows them (field names and shapes of
 * rabbitmq-management 3.x), plus polybroker's own fields where RabbitMQ has none.
 */
import type { ConnectionInfo, ExchangeInfo, QueueInfo, BindingInfo, Policy, Vhost } from '../core/index.js';
import type { ManagementContext } from './context.js';

const rate = (r: number) => ({ rate: Math.round(r * 10) / 10 });

/** RabbitMQ's protocol labels ("AMQP 0-9-1", "MQTT 3.1.1", "STOMP 1.2"), and "Kafka". */
function protocolLabel(c: ConnectionInfo): string {
  switch (c.protocol) {
    case 'amqp':
      return 'AMQP 0-9-1';
    case 'mqtt': {
      const level = c.clientProperties['protocolLevel'];
      return level === 5 ? 'MQTT 5.0' : level === 3 ? 'MQTT 3.1' : 'MQTT 3.1.1';
    }
    case 'stomp':
      return `STOMP ${String(c.clientProperties['version'] ?? '1.2')}`;
    case 'kafka':
      return 'Kafka';
    default:
      return c.protocol;
  }
}

export function splitRemote(remote: string): { host: string; port: number | null } {
  const m = /^(.*):(\d+)$/.exec(remote);
  if (m && (m[1]!.includes('.') || m[1]!.includes(':') || m[1] === 'localhost')) return { host: m[1]!, port: Number(m[2]) };
  return { host: remote, port: null };
}

export function connectionView(ctx: ManagementContext, c: ConnectionInfo): Record<string, unknown> {
  const peer = splitRemote(c.remote);
  return {
    name: c.id,
    node: ctx.nodeName,
    vhost: c.vhost,
    user: c.user,
    protocol: protocolLabel(c),
    polybroker_protocol: c.protocol,
    client_id: c.clientId,
    peer_host: peer.host,
    peer_port: peer.port,
    // RabbitMQ's name for a connection held by flow control
    state: c.throttled ? 'flow' : 'running',
    type: 'network',
    channels: c.channels,
    connected_at: c.connectedAt,
    client_properties: c.clientProperties,
    user_provided_name: c.protocol === 'amqp' && c.clientId ? c.clientId : undefined,
    message_stats: { publish: c.published, deliver_get: c.delivered },
  };
}

export function exchangeView(vhost: string, x: ExchangeInfo, policy: string | null): Record<string, unknown> {
  return {
    name: x.name,
    vhost,
    type: x.type,
    durable: x.durable,
    auto_delete: x.autoDelete,
    internal: x.internal,
    arguments: x.arguments,
    policy,
    user_who_performed_action: 'rmq-internal',
  };
}

/** Per queue (`vhost\0name`): the tag of its exclusive consumer and of its single active consumer, from the live consumers. */
export type SpecialConsumers = Map<string, { exclusive?: string; singleActive?: string }>;

export function specialConsumers(ctx: ManagementContext): SpecialConsumers {
  const out: SpecialConsumers = new Map();
  for (const c of ctx.core.connections()) {
    for (const ch of c.channelDetails) {
      for (const k of ch.consumerDetails) {
        if (!k.exclusive && !k.active) continue;
        const key = `${c.vhost}\0${k.queue}`;
        const e = out.get(key) ?? {};
        if (k.exclusive) e.exclusive = k.tag;
        if (k.active) e.singleActive = k.tag;
        out.set(key, e);
      }
    }
  }
  return out;
}

export function queueView(ctx: ManagementContext, vhost: string, q: QueueInfo, policy: string | null, special: SpecialConsumers = specialConsumers(ctx)): Record<string, unknown> {
  const r = ctx.sampler.queueRates(vhost, q.name);
  const tags = special.get(`${vhost}\0${q.name}`);
  const sac = q.effectiveArguments['x-single-active-consumer'] === true;
  const messages = q.messageCount + q.unackedCount;
  return {
    name: q.name,
    vhost,
    node: ctx.nodeName,
    type: q.type,
    state: 'running',
    durable: q.durable,
    auto_delete: q.autoDelete,
    exclusive: q.exclusive,
    owner_pid_details: q.owner ? { name: q.owner } : undefined,
    arguments: q.arguments,
    effective_policy_definition: policy ? q.effectiveArguments : {},
    policy,
    consumers: q.consumerCount,
    exclusive_consumer_tag: tags?.exclusive ?? null,
    single_active_consumer_tag: sac ? (tags?.singleActive ?? null) : null,
    messages,
    messages_ready: q.messageCount,
    messages_unacknowledged: q.unackedCount,
    message_bytes: q.messageBytes,
    message_bytes_ready: q.messageBytes,
    messages_details: rate(r.messages),
    messages_ready_details: rate(r.ready),
    messages_unacknowledged_details: rate(r.unacked),
    message_stats: {
      publish: q.stats.published,
      publish_details: rate(r.publish),
      deliver_get: q.stats.delivered,
      deliver_get_details: rate(r.deliver),
      ack: q.stats.acked,
      ack_details: rate(r.ack),
      polybroker_dead_lettered: q.stats.deadLettered,
    },
  };
}

export function bindingView(vhost: string, b: BindingInfo): Record<string, unknown> {
  const args = Object.keys(b.arguments).length;
  return {
    source: b.source,
    vhost,
    destination: b.destination,
    destination_type: b.destinationKind === 'exchange' ? 'exchange' : 'queue',
    polybroker_destination_kind: b.destinationKind,
    routing_key: b.routingKey,
    arguments: b.arguments,
    properties_key: propertiesKey(b.routingKey, b.arguments, args),
  };
}

/**
 * RabbitMQ's key for DELETE /api/bindings/...: the routing key quoted as in rabbit_mgmt_format
 * (quote_plus, with `.` left as is), `~` for an empty key, and `~` plus a hash of the
 * arguments when there are any.
 */
export function propertiesKey(routingKey: string, args: Record<string, unknown>, argCount: number): string {
  const quoted = Array.from(Buffer.from(routingKey, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      if (c === ' ') return '+';
      return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  if (argCount === 0) return quoted === '' ? '~' : quoted;
  return `${quoted}~${hashArgs(args)}`;
}

function hashArgs(args: Record<string, unknown>): string {
  let h = 0;
  for (const ch of JSON.stringify(args)) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return (h >>> 0).toString(36);
}

export function policyView(vhost: string, p: Policy): Record<string, unknown> {
  return { vhost, name: p.name, pattern: p.pattern, 'apply-to': p.applyTo, definition: p.definition, priority: p.priority ?? 0 };
}

/** The name of the highest-priority policy matching a resource, or null. */
export function matchingPolicy(vh: Vhost, name: string, kind: 'queues' | 'exchanges' | 'streams'): string | null {
  let best: Policy | null = null;
  for (const p of vh.policies()) {
    if (p.applyTo !== 'all' && p.applyTo !== kind) continue;
    try {
      if (!new RegExp(p.pattern).test(name)) continue;
    } catch {
      continue;
    }
    if (!best || (p.priority ?? 0) > (best.priority ?? 0)) best = p;
  }
  return best ? best.name : null;
}

export function streamView(ctx: ManagementContext, vh: Vhost, name: string): Record<string, unknown> | null {
  const s = vh.stream(name);
  if (!s) return null;
  const partitions: Record<string, unknown>[] = [];
  let messages = 0;
  for (let p = 0; p < s.partitions; p++) {
    try {
      const o = vh.partitionOffsets(name, p);
      partitions.push({ partition: p, start_offset: o.startOffset, high_watermark: o.highWatermark, last_stable_offset: o.lastStableOffset, messages: o.highWatermark - o.startOffset });
      messages += o.highWatermark - o.startOffset;
    } catch {
      // a partition deleted meanwhile
    }
  }
  return {
    name,
    vhost: vh.name,
    partitions: s.partitions,
    retention_ms: s.retentionMs,
    retention_bytes: s.retentionBytes,
    durability: s.durability,
    config: s.config,
    messages,
    messages_details: { rate: Math.round(ctx.sampler.streamRate(vh.name, name) * 10) / 10 },
    partition_details: partitions,
  };
}

export function consumerGroupView(vh: Vhost, group: string): Record<string, unknown> {
  const offsets: Record<string, unknown>[] = [];
  let totalLag = 0;
  for (const [stream, parts] of vh.groupOffsets(group)) {
    for (const [partition, committed] of parts) {
      let hw = 0;
      let lag = 0;
      try {
        hw = vh.partitionOffsets(stream, partition).highWatermark;
        lag = vh.lag(group, stream, partition);
      } catch {
        // stream deleted meanwhile
      }
      totalLag += lag;
      offsets.push({ stream, partition, committed_offset: committed.offset, metadata: committed.metadata, commit_timestamp: committed.commitTimestamp, high_watermark: hw, lag });
    }
  }
  offsets.sort((a, b) => String(a.stream).localeCompare(String(b.stream)) || Number(a.partition) - Number(b.partition));
  return { vhost: vh.name, group, lag: totalLag, offsets };
}

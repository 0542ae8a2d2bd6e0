import { statfs } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createMessage } from '../core/index.js';
import { isTlsListener, listenerProtocol, type ListenerName } from '../config/index.js';
import type { ManagementContext } from './context.js';
import { expiringCertificates, windowMs } from './certificate-expiry.js';
import { HttpError } from './http-io.js';
import { isAdministrator, mayReadVhost } from './principal.js';
import { StatusResult, type Route, type RouteRequest } from './router.js';

const rate = (r: number) => ({ rate: Math.round(r * 10) / 10 });

function queueTotals(r: RouteRequest): { messages: number; ready: number; unacked: number; queues: number; consumers: number; exchanges: number } {
  const t = { messages: 0, ready: 0, unacked: 0, queues: 0, consumers: 0, exchanges: 0 };
  for (const v of r.ctx.core.vhostNames()) {
    if (!mayReadVhost(r.principal, v)) continue;
    const vh = r.ctx.core.vhost(v);
    for (const q of vh.queues()) {
      t.queues++;
      t.ready += q.messageCount;
      t.unacked += q.unackedCount;
      t.consumers += q.consumerCount;
    }
    t.exchanges += vh.exchanges().length;
  }
  t.messages = t.ready + t.unacked;
  return t;
}

function overview(r: RouteRequest): Record<string, unknown> {
  const { ctx } = r;
  const totals = queueTotals(r);
  const rates = ctx.sampler.overviewRates();
  const msg = ctx.core.messageTotals();
  const sum = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
  const connections = ctx.core.connections().filter((c) => mayReadVhost(r.principal, c.vhost));
  const byProtocol: Record<string, number> = { amqp: 0, mqtt: 0, stomp: 0, kafka: 0 };
  for (const c of connections) byProtocol[c.protocol] = (byProtocol[c.protocol] ?? 0) + 1;
  return {
    management_version: ctx.version,
    rabbitmq_version: '3.13.0',
    product_name: 'polybroker',
    product_version: ctx.version,
    cluster_name: ctx.nodeName,
    node: ctx.nodeName,
    rates_mode: 'basic',
    message_stats: {
      publish: sum(msg.published),
      publish_details: rate(rates.publish),
      deliver_get: sum(msg.delivered),
      deliver_get_details: rate(rates.deliver),
    },
    queue_totals: {
      messages: totals.messages,
      messages_ready: totals.ready,
      messages_unacknowledged: totals.unacked,
    },
    object_totals: {
      connections: connections.length,
      channels: connections.reduce((a, c) => a + c.channels, 0),
      exchanges: totals.exchanges,
      queues: totals.queues,
      consumers: totals.consumers,
    },
    listeners: [...ctx.listeners()].map(([name, a]) => ({ node: ctx.nodeName, protocol: name, ip_address: a.host, port: a.port })),
    contexts: [],
    polybroker: {
      connections_by_protocol: byProtocol,
      network_connections: ctx.adapterConnections(),
      published_by_protocol: msg.published,
      delivered_by_protocol: msg.delivered,
      rate_history: ctx.sampler.history,
      alarms: [...ctx.core.alarms],
      delayed: ctx.core.vhostNames().filter((v) => mayReadVhost(r.principal, v)).reduce((n, v) => n + ctx.core.vhost(v).delayedCount(), 0),
    },
  };
}

async function node(ctx: ManagementContext): Promise<Record<string, unknown>> {
  const cfg = ctx.config();
  const mem = process.memoryUsage();
  let diskFree: number | null = null;
  try {
    const st = await statfs(ctx.dataDir);
    diskFree = st.bavail * st.bsize;
  } catch {
    // unreadable: report null
  }
  return {
    name: ctx.nodeName,
    type: 'disc',
    running: true,
    uptime: Date.now() - ctx.startedAt,
    processors: availableParallelism(),
    mem_used: mem.rss,
    mem_limit: cfg.limits.memoryHighWatermarkBytes,
    mem_alarm: ctx.core.alarms.has('memory'),
    disk_free: diskFree,
    disk_free_limit: cfg.limits.diskFreeLimitBytes,
    disk_free_alarm: ctx.core.alarms.has('disk'),
    sockets_used: Object.values(ctx.adapterConnections()).reduce((a, b) => a + (b ?? 0), 0),
    os_pid: String(process.pid),
    applications: [{ name: 'polybroker', description: 'polybroker', version: ctx.version }],
  };
}

/** RabbitMQ's protocol name of a listener (`amqp`, `amqp/ssl`, `https`...). */
function rabbitProtocolName(listener: ListenerName): string {
  if (listener === 'https') return 'https';
  return isTlsListener(listener) ? `${listenerProtocol(listener)}/ssl` : listener;
}

/** A protocol name as RabbitMQ's protocol-listener check accepts it (amqp091, amqp0-9-1, amqps...). */
function normalizeProtocol(p: string): string {
  const name = p.toLowerCase();
  if (['amqp091', 'amqp0-9-1', 'amqp0.9.1', 'amqp'].includes(name)) return 'amqp';
  if (['management', 'http/prometheus', 'http/management'].includes(name)) return 'http';
  const tls = /^(amqp|mqtt|stomp|kafka)(s|\/ssl)$/.exec(name);
  return tls ? `${tls[1]}/ssl` : name;
}

function healthy(): Record<string, unknown> {
  return { status: 'ok' };
}

/** 503 with RabbitMQ's `{status: 'failed', reason}` body. */
function unhealthy(reason: string): StatusResult {
  return new StatusResult(503, { status: 'failed', reason });
}

export const nodeRoutes: Route[] = [
  { method: 'GET', path: '/api/overview', access: 'management', summary: 'Node-wide totals, message rates, listeners', handler: overview },
  { method: 'GET', path: '/api/nodes', access: 'monitoring', summary: 'This node (one entry: polybroker does not cluster yet)', handler: async (r) => [await node(r.ctx)] },
  {
    method: 'GET',
    path: '/api/nodes/:name',
    access: 'monitoring',
    summary: 'One node',
    handler: async (r) => {
      if (r.params.name !== r.ctx.nodeName) throw new HttpError(404, 'Object Not Found', 'Not Found');
      return node(r.ctx);
    },
  },
  { method: 'GET', path: '/api/cluster-name', access: 'management', summary: 'The cluster name (the node name: polybroker runs one node)', handler: (r) => ({ name: r.ctx.nodeName }) },
  { method: 'GET', path: '/api/extensions', access: 'management', summary: 'Management UI extensions (none)', handler: () => [] },
  {
    method: 'GET',
    path: '/api/healthchecks/node',
    access: 'management',
    summary: 'RabbitMQ’s older node check: `{status: failed, reason}` (still 200, as RabbitMQ) while a memory or disk alarm is active',
    handler: (r) => (r.ctx.core.alarms.size ? { status: 'failed', reason: `resource alarm(s) in effect: ${[...r.ctx.core.alarms].join(', ')}` } : healthy()),
  },
  { method: 'GET', path: '/api/whoami', access: 'management', summary: 'The authenticated user', handler: (r) => ({ name: r.principal.name, tags: r.principal.tags }) },
  {
    method: 'GET',
    path: '/api/health/checks/alarms',
    access: 'management',
    summary: 'Fails (503) while a memory or disk alarm is active',
    handler: (r) => (r.ctx.core.alarms.size ? unhealthy(`resource alarm(s) in effect: ${[...r.ctx.core.alarms].join(', ')}`) : healthy()),
  },
  {
    method: 'GET',
    path: '/api/health/checks/local-alarms',
    access: 'management',
    summary: 'Same as alarms (one node)',
    handler: (r) => (r.ctx.core.alarms.size ? unhealthy(`resource alarm(s) in effect: ${[...r.ctx.core.alarms].join(', ')}`) : healthy()),
  },
  {
    method: 'GET',
    path: '/api/health/checks/virtual-hosts',
    access: 'management',
    summary: 'Every vhost is running',
    handler: () => healthy(),
  },
  {
    method: 'GET',
    path: '/api/health/checks/certificate-expiration/:within/:unit',
    access: 'management',
    summary: 'Fails (503) when a certificate of the `tls:` section (chain or CA bundle) expires within the window (unit days, weeks, months, years) while a TLS listener is enabled',
    handler: async (r) => {
      const ms = windowMs(r.params.within!, r.params.unit!);
      if (ms === null) throw new HttpError(400, 'bad_request', 'within must be a non-negative integer and unit one of days, weeks, months, years');
      const expiring = await expiringCertificates(r.ctx.config(), Date.now() + ms);
      return expiring.length ? new StatusResult(503, { status: 'failed', reason: 'Certificates expiring', expired: expiring }) : healthy();
    },
  },
  {
    method: 'GET',
    path: '/api/health/checks/port-listener/:port',
    access: 'management',
    summary: 'A listener is bound to the port (503 `{missing, ports}` otherwise)',
    handler: (r) => {
      const port = Number(r.params.port);
      const ports = [...r.ctx.listeners().values()].map((a) => a.port);
      return ports.includes(port) ? { status: 'ok', port } : new StatusResult(503, { status: 'failed', reason: 'No active listener', missing: port, ports });
    },
  },
  {
    method: 'GET',
    path: '/api/health/checks/protocol-listener/:protocol',
    access: 'management',
    summary: 'A listener for the protocol is bound: RabbitMQ’s names (amqp, amqp091, amqp/ssl, mqtt, mqtt/ssl, stomp, stomp/ssl, http, https) and kafka, kafka/ssl (503 `{missing, protocols}` otherwise)',
    handler: (r) => {
      const want = normalizeProtocol(r.params.protocol!);
      const protocols = [...r.ctx.listeners().keys()].map(rabbitProtocolName);
      return protocols.includes(want) ? { status: 'ok', protocol: want } : new StatusResult(503, { status: 'failed', reason: 'No active listener', missing: r.params.protocol, protocols });
    },
  },
  { method: 'GET', path: '/api/health/checks/node-is-quorum-critical', access: 'management', summary: 'Ok: a single node is never quorum-critical (RabbitMQ’s answer for a single-node cluster)', handler: () => ({ status: 'ok', reason: 'single node cluster' }) },
  { method: 'GET', path: '/api/health/checks/node-is-mirror-sync-critical', access: 'management', summary: 'Ok: a single node has no mirrors (RabbitMQ’s answer for a single-node cluster)', handler: () => ({ status: 'ok', reason: 'single node cluster' }) },
  {
    method: 'GET',
    path: '/api/aliveness-test/:vhost',
    access: 'management',
    summary: 'Declares aliveness-test in the vhost, publishes to it and gets the message back',
    handler: async (r) => {
      const vhost = r.params.vhost!;
      if (!mayReadVhost(r.principal, vhost) || !r.ctx.core.hasVhost(vhost)) throw new HttpError(404, 'Object Not Found', 'Not Found');
      const conn = r.ctx.core.connect({ vhost, protocol: 'amqp', user: r.principal.name, clientId: 'management aliveness-test', internal: true });
      try {
        await conn.vhost.declareQueue('aliveness-test', { durable: false });
        const ch = conn.openChannel();
        ch.publish('', 'aliveness-test', createMessage(Buffer.from('test_message')));
        await new Promise((res) => setImmediate(res));
        const got = ch.get('aliveness-test', { noAck: true });
        return got ? { status: 'ok' } : unhealthy('message published to aliveness-test was not received');
      } finally {
        await conn.close();
      }
    },
  },
  {
    method: 'POST',
    path: '/api/reload',
    access: 'administrator',
    summary: 'Re-reads the config file and applies definition and user changes (as SIGHUP and `polybroker ctl reload`)',
    handler: async (r) => {
      if (!isAdministrator(r.principal)) throw new HttpError(403, 'not_authorised', 'Not administrator user');
      const report = await r.ctx.reload();
      return report.ok ? report : new StatusResult(400, report);
    },
  },
];

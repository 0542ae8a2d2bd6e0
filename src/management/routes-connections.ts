import type { ChannelInfo, ConnectionInfo } from '../core/index.js';
import { HttpError } from './http-io.js';
import { isAdministrator, mayMonitor, mayReadVhost } from './principal.js';
import { StatusResult, type Route, type RouteRequest } from './router.js';
import { readableVhost } from './routes-objects.js';
import { connectionView, splitRemote } from './views.js';

/** Management users see their own connections; monitoring and administrators see all (RabbitMQ's rule). */
function visible(r: RouteRequest, c: ConnectionInfo): boolean {
  return mayMonitor(r.principal) || (c.user === r.principal.name && mayReadVhost(r.principal, c.vhost));
}

function connections(r: RouteRequest, vhost?: string): ConnectionInfo[] {
  const protocol = r.query.get('protocol');
  return r.ctx.core.connections().filter((c) => visible(r, c) && (vhost === undefined || c.vhost === vhost) && (!protocol || c.protocol === protocol));
}

/** RabbitMQ's `channel_details` of a channel (in channel and consumer views). */
function channelDetails(r: RouteRequest, c: ConnectionInfo, number: number): Record<string, unknown> {
  const peer = splitRemote(c.remote);
  return { connection_name: c.id, name: `${c.id} (${number})`, node: r.ctx.nodeName, number, peer_host: peer.host, peer_port: peer.port, user: c.user };
}

function channelView(r: RouteRequest, c: ConnectionInfo, ch: ChannelInfo): Record<string, unknown> {
  return {
    name: `${c.id} (${ch.number})`,
    number: ch.number,
    node: r.ctx.nodeName,
    vhost: c.vhost,
    user: c.user,
    state: 'running',
    consumer_count: ch.consumers,
    messages_unacknowledged: ch.unacked,
    prefetch_count: ch.prefetch,
    global_prefetch_count: ch.globalPrefetch,
    connection_details: { name: c.id, peer_host: c.remote, protocol: c.protocol },
  };
}

function channels(r: RouteRequest, list: ConnectionInfo[]): Record<string, unknown>[] {
  return list.flatMap((c) => c.channelDetails.map((ch) => channelView(r, c, ch)));
}

/** RabbitMQ's consumer object; `activity_status` is `single_active`/`waiting` on single-active-consumer queues. */
function consumers(r: RouteRequest, vhost?: string): Record<string, unknown>[] {
  return connections(r, vhost).flatMap((c) =>
    c.channelDetails.flatMap((ch) =>
      ch.consumerDetails.map((k) => {
        const q = r.ctx.core.vhost(c.vhost).queue(k.queue);
        const sac = q?.effectiveArguments['x-single-active-consumer'] === true;
        return {
          arguments: k.arguments,
          ack_required: k.ackRequired,
          active: k.active,
          activity_status: sac ? (k.active ? 'single_active' : 'waiting') : 'up',
          channel_details: channelDetails(r, c, ch.number),
          consumer_tag: k.tag,
          exclusive: k.exclusive,
          prefetch_count: k.prefetch,
          priority: k.priority,
          queue: { name: k.queue, vhost: c.vhost },
          polybroker_protocol: c.protocol,
        };
      }),
    ),
  );
}

function connection(r: RouteRequest): ConnectionInfo {
  const c = r.ctx.core.connections().find((x) => x.id === r.params.name);
  if (!c || !visible(r, c)) throw new HttpError(404, 'Object Not Found', 'Not Found');
  return c;
}

export const connectionRoutes: Route[] = [
  { method: 'GET', path: '/api/connections', access: 'management', summary: 'Open connections of every protocol (`?protocol=amqp|mqtt|stomp|kafka`)', handler: (r) => connections(r).map((c) => connectionView(r.ctx, c)) },
  { method: 'GET', path: '/api/vhosts/:vhost/connections', access: 'management', summary: 'Connections of a vhost', handler: (r) => connections(r, readableVhost(r).name).map((c) => connectionView(r.ctx, c)) },
  { method: 'GET', path: '/api/connections/:name', access: 'management', summary: 'One connection', handler: (r) => connectionView(r.ctx, connection(r)) },
  {
    method: 'DELETE',
    path: '/api/connections/:name',
    access: 'management',
    summary: 'Closes a connection in its protocol’s terms (header `X-Reason`)',
    handler: async (r) => {
      const c = connection(r);
      if (!isAdministrator(r.principal) && c.user !== r.principal.name) throw new HttpError(403, 'not_authorised', 'Not administrator user');
      const fromBody = r.req ? undefined : (await r.body()).reason;
      const reason = String(r.req?.headers['x-reason'] ?? fromBody ?? 'Closed via management plugin');
      await r.ctx.core.closeConnection(c.id, reason);
      return new StatusResult(204);
    },
  },
  { method: 'GET', path: '/api/connections/:name/channels', access: 'management', summary: 'Channels of a connection', handler: (r) => channels(r, [connection(r)]) },
  { method: 'GET', path: '/api/channels', access: 'management', summary: 'Every channel', handler: (r) => channels(r, connections(r)) },
  {
    method: 'GET',
    path: '/api/channels/:channel',
    access: 'management',
    summary: 'One channel (name `<connection> (<number>)`), with its consumers in `consumer_details`',
    handler: (r) => {
      const m = /^(.*) \((\d+)\)$/.exec(r.params.channel!);
      const c = m ? r.ctx.core.connections().find((x) => x.id === m[1] && visible(r, x)) : undefined;
      const ch = c?.channelDetails.find((x) => x.number === Number(m![2]));
      if (!c || !ch) throw new HttpError(404, 'Object Not Found', 'Not Found');
      return { ...channelView(r, c, ch), consumer_details: consumers(r).filter((k) => (k.channel_details as { name: string }).name === r.params.channel) };
    },
  },
  { method: 'GET', path: '/api/consumers', access: 'management', summary: 'Every consumer (queue, tag, ack mode, prefetch, arguments, channel), of every protocol', handler: (r) => consumers(r) },
  { method: 'GET', path: '/api/consumers/:vhost', access: 'management', summary: 'Consumers of a vhost', handler: (r) => consumers(r, readableVhost(r).name) },
  { method: 'GET', path: '/api/vhosts/:vhost/channels', access: 'management', summary: 'Channels of a vhost', handler: (r) => channels(r, connections(r, readableVhost(r).name)) },
];

import type { ConnectionInfo } from '../core/index.js';
import { HttpError } from './http-io.js';
import { isAdministrator, mayMonitor, mayReadVhost } from './principal.js';
import { StatusResult, type Route, type RouteRequest } from './router.js';
import { readableVhost } from './routes-objects.js';
import { connectionView } from './views.js';

/** Management users see their own connections; monitoring and administrators see all (RabbitMQ's rule). */
function visible(r: RouteRequest, c: ConnectionInfo): boolean {
  return mayMonitor(r.principal) || (c.user === r.principal.name && mayReadVhost(r.principal, c.vhost));
}

function connections(r: RouteRequest, vhost?: string): ConnectionInfo[] {
  const protocol = r.query.get('protocol');
  return r.ctx.core.connections().filter((c) => visible(r, c) && (vhost === undefined || c.vhost === vhost) && (!protocol || c.protocol === protocol));
}

function channels(r: RouteRequest, list: ConnectionInfo[]): Record<string, unknown>[] {
  return list.flatMap((c) =>
    c.channelDetails.map((ch) => ({
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
    })),
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
  { method: 'GET', path: '/api/vhosts/:vhost/channels', access: 'management', summary: 'Channels of a vhost', handler: (r) => channels(r, connections(r, readableVhost(r).name)) },
];

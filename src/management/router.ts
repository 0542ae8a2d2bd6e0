import type { IncomingMessage } from 'node:http';
import type { ManagementContext } from './context.js';
import { HttpError, readJsonBody } from './http-io.js';
import type { Principal } from './principal.js';

/** Who may call a route: any management user (results filtered by vhost), monitoring and up, administrators. */
export type Access = 'management' | 'monitoring' | 'administrator';

export interface RouteRequest {
  ctx: ManagementContext;
  principal: Principal;
  params: Record<string, string>;
  query: URLSearchParams;
  /** null when called from the control socket. */
  req: IncomingMessage | null;
  body(): Promise<Record<string, unknown>>;
  /** Reports progress of a long operation (the control socket shows a progress bar); absent over HTTP. */
  progress?: (done: number, total: number) => void;
}

/** A handler's answer: a body for 200, or an explicit status (201/204 for creations and deletions). */
export type RouteResult = unknown | { status: number; body?: unknown };

export interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** `/api/queues/:vhost/:name`: each `:x` matches one path segment (percent-decoded, so `%2F` is `/`). */
  path: string;
  access: Access;
  summary: string;
  handler(r: RouteRequest): RouteResult | Promise<RouteResult>;
}

export class StatusResult {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}

export function matchRoute(routes: readonly Route[], method: string, pathname: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
  const segs = pathname.replace(/\/+$/, '').split('/');
  const allowed: string[] = [];
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      const p = pattern[i]!;
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(segs[i]!);
        } catch {
          ok = false;
        }
      } else if (p !== segs[i]) ok = false;
      if (!ok) break;
    }
    if (!ok) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : null;
}

export function makeRequest(
  ctx: ManagementContext,
  principal: Principal,
  params: Record<string, string>,
  query: URLSearchParams,
  req: IncomingMessage | null,
  readBody: () => Promise<unknown> = () => (req ? readJsonBody(req) : Promise.resolve({})),
  progress?: (done: number, total: number) => void,
): RouteRequest {
  let body: Promise<Record<string, unknown>> | null = null;
  return {
    ctx,
    principal,
    params,
    query,
    req,
    progress,
    body: () =>
      (body ??= readBody().then((b) => {
        if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new HttpError(400, 'bad_request', 'body must be a JSON object');
        return b as Record<string, unknown>;
      })),
  };
}

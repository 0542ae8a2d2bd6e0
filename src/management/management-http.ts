import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ManagementContext } from './context.js';
import { HttpError, sendJson, sendText } from './http-io.js';
import type { BrokerMetrics } from './metrics.js';
import { applyListQuery } from './list-query.js';
import { openApiDocument } from './openapi.js';
import { authenticateRequest, basicAuthUser, isAdministrator, mayMonitor, type Principal } from './principal.js';
import { makeRequest, matchRoute, StatusResult, type Route } from './router.js';
import { ROUTES } from './routes.js';
import { StaticFiles, uiDirectory } from './static-files.js';

const CHALLENGE = { 'www-authenticate': 'Basic realm="polybroker management"' };

function allowed(route: Route, p: Principal): boolean {
  if (route.access === 'administrator') return isAdministrator(p);
  if (route.access === 'monitoring') return mayMonitor(p);
  return true;
}

/** Runs one route for a principal; the control socket calls this with a local administrator. */
export async function runRoute(
  ctx: ManagementContext,
  principal: Principal,
  method: string,
  url: string,
  req: IncomingMessage | null,
  body?: unknown,
  progress?: (done: number, total: number) => void,
): Promise<{ status: number; body: unknown }> {
  const u = new URL(url, 'http://localhost');
  const match = matchRoute(ROUTES, method, u.pathname);
  if (!match) throw new HttpError(404, 'Object Not Found', 'Not Found');
  if ('allowed' in match) throw new HttpError(405, 'method_not_allowed', `use ${match.allowed.join(', ')}`);
  if (!allowed(match.route, principal)) throw new HttpError(403, 'not_authorised', `user '${principal.name}' needs the ${match.route.access} tag`);
  const r = makeRequest(ctx, principal, match.params, u.searchParams, req, body === undefined ? undefined : () => Promise.resolve(body), progress);
  const out = await match.route.handler(r);
  if (out instanceof StatusResult) return { status: out.status, body: out.body };
  return { status: 200, body: method === 'GET' || method === 'HEAD' ? applyListQuery(out, u.searchParams) : out };
}

/**
 * The HTTP listener's management side: `/api/...` (basic auth), `/api/openapi.json`,
 * `/metrics` (no auth by default, as RabbitMQ's prometheus endpoint; a monitoring user with
 * `management.metricsAuthentication`) and the web UI's static files.
 */
export class ManagementHttp {
  private readonly ui = new StaticFiles(uiDirectory());
  private openapi: string | null = null;

  constructor(
    private readonly ctx: ManagementContext,
    private readonly metrics: BrokerMetrics,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = req.url ?? '/';
    const path = new URL(url, 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    if (path === '/metrics' && (method === 'GET' || method === 'HEAD')) {
      try {
        if (this.ctx.config().management.metricsAuthentication) await this.requireMonitoring(req);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        sendJson(req, res, err.status, { error: err.error, reason: err.message }, err.status === 401 ? CHALLENGE : undefined);
        return true;
      }
      sendText(req, res, 200, this.metrics.contentType, await this.metrics.text());
      return true;
    }
    if (path === '/api/openapi.json' && (method === 'GET' || method === 'HEAD')) {
      this.openapi ??= JSON.stringify(openApiDocument(ROUTES, this.ctx.version));
      sendText(req, res, 200, 'application/json', this.openapi);
      return true;
    }
    if (path.startsWith('/api/')) {
      try {
        const principal = await authenticateRequest(req, this.ctx.authenticate, req.socket.remoteAddress ?? '');
        const out = await runRoute(this.ctx, principal, method, url, req);
        sendJson(req, res, out.status, out.body);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        // No WWW-Authenticate challenge for the UI's own calls, so browsers show the UI's login form, not theirs.
        const challenge = err.status === 401 && req.headers['x-requested-with'] !== 'polybroker-ui' ? CHALLENGE : undefined;
        sendJson(req, res, err.status, { error: err.error, reason: err.message }, challenge);
      }
      return true;
    }
    if (method === 'GET' || method === 'HEAD') {
      const file = this.ui.get(path);
      if (file) {
        sendText(req, res, 200, file.type, file.body);
        return true;
      }
    }
    return false;
  }

  /** `management.metricsAuthentication`: a user tagged monitoring or administrator (401 without valid credentials, 403 without the tag). */
  private async requireMonitoring(req: IncomingMessage): Promise<void> {
    const p = await basicAuthUser(req, this.ctx.authenticate, req.socket.remoteAddress ?? '');
    if (!mayMonitor(p)) throw new HttpError(403, 'not_authorised', `user '${p.name}' needs the monitoring or administrator tag to read /metrics`);
  }
}

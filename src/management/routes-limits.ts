/**
 * Vhost limits (max-connections, max-queues) as RabbitMQ's `/api/vhost-limits`, and the one
 * runtime-parameter component polybroker has, `vhost-limits`, as RabbitMQ lists it under
 * `/api/parameters` and in definitions. Both read and change the core's vhost options, which
 * the core enforces (connection and queue declarations refused past the limit).
 */
import type { Vhost, VhostLimits } from '../core/index.js';
import { HttpError, notFound } from './http-io.js';
import { isAdministrator } from './principal.js';
import { StatusResult, type Route, type RouteRequest } from './router.js';
import { core, readableVhost, visibleVhosts } from './routes-objects.js';

/** RabbitMQ's limit names and the core's. */
const LIMIT_NAMES = { 'max-connections': 'maxConnections', 'max-queues': 'maxQueues' } as const satisfies Record<string, keyof VhostLimits>;
type LimitName = keyof typeof LIMIT_NAMES;

/** A vhost's limits as RabbitMQ shows them (`{"max-connections": 10}`); null when it has none. */
export function limitsValue(limits: VhostLimits | undefined): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const [rabbit, ours] of Object.entries(LIMIT_NAMES)) {
    const v = limits?.[ours];
    if (v !== undefined) out[rabbit] = v;
  }
  return Object.keys(out).length ? out : null;
}

/** RabbitMQ's `{"max-connections": 10, "max-queues": 5}` as the core's limits, or why it is not one. */
export function readLimitsValue(value: unknown): { limits: VhostLimits } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'value must be an object of limits' };
  const limits: VhostLimits = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!(k in LIMIT_NAMES)) return { problem: `unrecognised limit '${k}' (max-connections, max-queues)` };
    if (typeof v !== 'number' || !Number.isInteger(v)) return { problem: `${k} should be an integer, actually was ${JSON.stringify(v)}` };
    limits[LIMIT_NAMES[k as LimitName]] = v;
  }
  return { limits };
}

function parseLimitsValue(value: unknown, where: string): VhostLimits {
  const r = readLimitsValue(value);
  if ('problem' in r) throw new HttpError(400, 'bad_request', `${where}: ${r.problem}`);
  return r.limits;
}

function limitsViews(vhosts: Vhost[]): Record<string, unknown>[] {
  return vhosts.flatMap((vh) => {
    const value = limitsValue(vh.options.limits);
    return value ? [{ vhost: vh.name, value }] : [];
  });
}

function parameterView(vh: Vhost): Record<string, unknown> | null {
  const value = limitsValue(vh.options.limits);
  return value ? { value, vhost: vh.name, component: 'vhost-limits', name: 'limits' } : null;
}

function requireAdmin(r: RouteRequest): void {
  if (!isAdministrator(r.principal)) throw new HttpError(403, 'not_authorised', 'Not administrator user');
}

/** Sets the vhost's limits, keeping its other options (the core journals them). */
async function setLimits(r: RouteRequest, vh: Vhost, limits: VhostLimits): Promise<void> {
  const options = { ...vh.options };
  if (Object.keys(limits).length) options.limits = limits;
  else delete options.limits;
  await core(() => r.ctx.core.declareVhost(vh.name, options));
}

/** Runtime parameters need the policymaker or administrator tag (RabbitMQ's is_authorized_policies). */
function requirePolicymaker(r: RouteRequest): void {
  if (!isAdministrator(r.principal) && !r.principal.tags.includes('policymaker')) throw new HttpError(403, 'not_authorised', 'runtime parameters need the policymaker or administrator tag');
}

function parameters(r: RouteRequest, component?: string, vhost?: string): Record<string, unknown>[] {
  requirePolicymaker(r);
  if (component !== undefined && component !== 'vhost-limits') return [];
  return visibleVhosts(r.ctx.core, r.principal, vhost).flatMap((vh) => {
    const p = parameterView(vh);
    return p ? [p] : [];
  });
}

/** 400 as RabbitMQ answers a component it has no plugin for (federation, shovel...). */
function requireLimitsComponent(r: RouteRequest): void {
  if (r.params.component !== 'vhost-limits') throw new HttpError(400, 'bad_request', `component ${r.params.component} not found (polybroker has only vhost-limits)`);
}

export const limitRoutes: Route[] = [
  { method: 'GET', path: '/api/vhost-limits', access: 'management', summary: 'Limits of every vhost that has some `[{vhost, value: {max-connections, max-queues}}]`', handler: (r) => limitsViews(visibleVhosts(r.ctx.core, r.principal)) },
  { method: 'GET', path: '/api/vhost-limits/:vhost', access: 'management', summary: 'Limits of a vhost', handler: (r) => limitsViews([readableVhost(r)]) },
  {
    method: 'PUT',
    path: '/api/vhost-limits/:vhost/:name',
    access: 'administrator',
    summary: 'Sets a vhost limit `{value}` (max-connections, max-queues; negative = no limit), enforced at once',
    handler: async (r) => {
      requireAdmin(r);
      const vh = readableVhost(r);
      const b = await r.body();
      const limits = { ...vh.options.limits, ...parseLimitsValue({ [r.params.name!]: b.value }, `limit of vhost '${vh.name}'`) };
      await setLimits(r, vh, limits);
      return new StatusResult(204);
    },
  },
  {
    method: 'DELETE',
    path: '/api/vhost-limits/:vhost/:name',
    access: 'administrator',
    summary: 'Removes a vhost limit (204 also when it was not set, as RabbitMQ)',
    handler: async (r) => {
      requireAdmin(r);
      const vh = readableVhost(r);
      const ours = LIMIT_NAMES[r.params.name as LimitName];
      if (ours && vh.options.limits?.[ours] !== undefined) {
        const { [ours]: _, ...rest } = vh.options.limits;
        await setLimits(r, vh, rest);
      }
      return new StatusResult(204);
    },
  },
  { method: 'GET', path: '/api/operator-policies', access: 'administrator', summary: 'Operator policies: always empty (polybroker has none; PUT answers 400)', handler: () => [] },
  { method: 'GET', path: '/api/operator-policies/:vhost', access: 'administrator', summary: 'Operator policies of a vhost: always empty', handler: (r) => (readableVhost(r), []) },
  {
    method: 'PUT',
    path: '/api/operator-policies/:vhost/:name',
    access: 'administrator',
    summary: 'Refused (400): polybroker has no operator policies',
    handler: () => {
      throw new HttpError(400, 'bad_request', 'polybroker has no operator policies; use a policy (PUT /api/policies/{vhost}/{name})');
    },
  },
  { method: 'GET', path: '/api/parameters', access: 'management', summary: 'Runtime parameters (policymaker or administrator): the vhost-limits component (federation and shovel are not supported)', handler: (r) => parameters(r) },
  { method: 'GET', path: '/api/parameters/:component', access: 'management', summary: 'Runtime parameters of a component', handler: (r) => parameters(r, r.params.component) },
  { method: 'GET', path: '/api/parameters/:component/:vhost', access: 'management', summary: 'Runtime parameters of a component in a vhost', handler: (r) => parameters(r, r.params.component, readableVhost(r).name) },
  {
    method: 'GET',
    path: '/api/parameters/:component/:vhost/:name',
    access: 'management',
    summary: 'One runtime parameter (`vhost-limits/{vhost}/limits`)',
    handler: (r) => {
      requirePolicymaker(r);
      const vh = readableVhost(r);
      const p = r.params.component === 'vhost-limits' && r.params.name === 'limits' ? parameterView(vh) : null;
      if (!p) throw notFound();
      return p;
    },
  },
  {
    method: 'PUT',
    path: '/api/parameters/:component/:vhost/:name',
    access: 'administrator',
    summary: 'Sets a runtime parameter `{value}`: only `vhost-limits/{vhost}/limits` (replaces every limit of the vhost)',
    handler: async (r) => {
      requireAdmin(r);
      requireLimitsComponent(r);
      const vh = readableVhost(r);
      if (r.params.name !== 'limits') throw new HttpError(400, 'bad_request', "the vhost-limits parameter is named 'limits'");
      const b = await r.body();
      const existed = parameterView(vh) !== null;
      await setLimits(r, vh, parseLimitsValue(b.value, `limits of vhost '${vh.name}'`));
      return new StatusResult(existed ? 204 : 201);
    },
  },
  {
    method: 'DELETE',
    path: '/api/parameters/:component/:vhost/:name',
    access: 'administrator',
    summary: 'Clears a runtime parameter: `vhost-limits/{vhost}/limits` removes every limit of the vhost',
    handler: async (r) => {
      requireAdmin(r);
      const vh = readableVhost(r);
      if (r.params.component !== 'vhost-limits' || r.params.name !== 'limits' || !parameterView(vh)) throw notFound();
      await setLimits(r, vh, {});
      return new StatusResult(204);
    },
  },
];

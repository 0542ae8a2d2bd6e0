import type { Route } from './router.js';

/**
 * OpenAPI 3.1 document of the management API, generated from the route table so it cannot
 * drift from what the server answers.
 */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([a-z]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([a-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: m[1] === 'vhost' ? 'Vhost name, percent-encoded (`%2F` for `/`)' : undefined,
    }));
    const op: Record<string, unknown> = {
      summary: r.summary,
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      tags: [path.split('/')[2] ?? 'api'],
      'x-required-tag': r.access,
      parameters: params,
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: {} } } },
        ...(r.method !== 'GET' ? { '201': { description: 'Created' }, '204': { description: 'Done' } } : {}),
        '400': { description: 'Bad request', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '401': { description: 'Not authenticated, or no management tag' },
        '403': { description: 'Not allowed for this user' },
        '404': { description: 'No such object', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (r.method === 'PUT' || r.method === 'POST') op.requestBody = { required: false, content: { 'application/json': { schema: { type: 'object' } } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  paths['/metrics'] = {
    get: {
      summary: 'Prometheus text exposition (no authentication, as RabbitMQ’s prometheus plugin)',
      operationId: 'getMetrics',
      tags: ['metrics'],
      security: [],
      responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'polybroker management API',
      version,
      description: 'Compatible with the RabbitMQ management HTTP API for what scripts and monitoring use, plus streams, consumer groups and MQTT sessions. See docs/management.md.',
    },
    servers: [{ url: '/' }],
    security: [{ basicAuth: [] }],
    components: {
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } },
      schemas: { Error: { type: 'object', properties: { error: { type: 'string' }, reason: { type: 'string' } }, required: ['error', 'reason'] } },
    },
    paths,
  };
}

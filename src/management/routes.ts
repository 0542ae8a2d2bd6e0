import type { Route } from './router.js';
import { accessRoutes } from './routes-access.js';
import { businessRoutes } from './routes-business.js';
import { connectionRoutes } from './routes-connections.js';
import { limitRoutes } from './routes-limits.js';
import { nodeRoutes } from './routes-node.js';
import { objectRoutes } from './routes-objects.js';
import { streamRoutes } from './routes-streams.js';

/** Every management API route (the OpenAPI document is generated from this table). */
export const ROUTES: readonly Route[] = [...nodeRoutes, ...connectionRoutes, ...objectRoutes, ...accessRoutes, ...limitRoutes, ...streamRoutes, ...businessRoutes];

import type { SchemaObject } from 'ajv';
import { vhostsSchema } from '../../core/config-schema.js';
import type { VhostsSection } from '../../core/definitions-config.js';
import type { ConfigSection } from '../section.js';

export type { VhostsSection };

/**
 * `vhosts:` — declarative definitions per virtual host, applied idempotently at start
 * (`applyVhostDefinitions`). The schema and its shape are the core's (src/core/config-schema.ts).
 */
export const vhostsSection: ConfigSection = {
  key: 'vhosts',
  defaultToEmpty: false,
  schema: vhostsSchema as unknown as SchemaObject,
};

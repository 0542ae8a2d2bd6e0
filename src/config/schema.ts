import type { SchemaObject } from 'ajv';
import type { ConfigSection } from './section.js';
import { SECTIONS } from './sections/index.js';

/** The whole polybroker.yaml schema: every registered section, nothing else at the top. */
export function configSchema(sections: readonly ConfigSection[] = SECTIONS): SchemaObject {
  const properties: Record<string, SchemaObject> = {};
  for (const section of sections) {
    if (properties[section.key]) throw new Error(`config section ${section.key} registered twice`);
    properties[section.key] = section.defaultToEmpty ? { ...section.schema, default: {} } : section.schema;
  }
  return { type: 'object', additionalProperties: false, properties };
}

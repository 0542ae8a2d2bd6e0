import type { SchemaObject } from 'ajv';

/**
 * One top-level section of polybroker.yaml (`node:`, `listeners:`, `kafka:` ...), owned by the
 * area that reads it. A section is a JSON schema (draft-07, validated with ajv) whose
 * `default`s are applied when keys are absent and whose `description`s document the keys.
 * To add one: write `sections/<name>.ts` exporting a `ConfigSection` and its TypeScript
 * type, then list both in `sections/index.ts`.
 */
export interface ConfigSection {
  /** The top-level key. */
  key: string;
  /** Schema of the section's value. Use `additionalProperties: false` so typos are errors. */
  schema: SchemaObject;
  /**
   * Whether an absent section is filled from its defaults (`{}` validated with defaults
   * applied). False for sections that mean nothing when absent (e.g. a list of users).
   */
  defaultToEmpty?: boolean;
}

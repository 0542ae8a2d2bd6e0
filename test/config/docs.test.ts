import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { SECTIONS, parseConfig } from '../../src/config/index.js';
import { repoRoot, runCli } from '../helpers/broker.js';

/**
 * Dotted paths of every leaf key a schema declares under `properties`; a map of named entries
 * (`additionalProperties` with a schema, e.g. vhosts by name) counts as `<name>`.
 */
function leafKeys(schema: SchemaObject, prefix: string): string[] {
  const properties = schema.properties as Record<string, SchemaObject> | undefined;
  if (properties) return Object.entries(properties).flatMap(([key, sub]) => leafKeys(sub, `${prefix}.${key}`));
  const named = schema.additionalProperties as SchemaObject | boolean | undefined;
  if (named && typeof named === 'object' && (named.properties || named.additionalProperties)) return leafKeys(named, `${prefix}.<name>`);
  return [prefix];
}

describe('polybroker.example.yaml', () => {
  const example = join(repoRoot, 'polybroker.example.yaml');

  it('is accepted by `polybroker check-config`', async () => {
    const result = await runCli(['check-config', example]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid');
  });

  it('states the defaults: it parses to the same configuration as an empty file', () => {
    const fromExample = parseConfig(readFileSync(example, 'utf8'), example);
    const fromNothing = parseConfig('', 'empty');
    expect(fromExample).toEqual(fromNothing);
  });
});

describe('docs/configuration.md', () => {
  const page = readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8');

  for (const section of SECTIONS) {
    it(`documents every key of the ${section.key} section (here or in docs/${section.key}.md)`, () => {
      const ownFile = join(repoRoot, `docs/${section.key}.md`);
      const own = existsSync(ownFile) ? readFileSync(ownFile, 'utf8') : '';
      const text = page + own;
      // On the section's own page the section is implied: `maxPacketSize` in a table, or
      // `maxPacketSize:` in a YAML example, documents `mqtt.maxPacketSize`.
      const onOwnPage = (key: string) => {
        const rest = key.slice(section.key.length + 1);
        const last = rest.split('.').pop()!;
        return own.includes(`\`${rest}\``) || new RegExp(`^\\s*${last.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')}:`, 'm').test(own);
      };
      // The five listeners share their keys: `listeners.<name>.port` documents them all.
      const undocumented = leafKeys(section.schema, section.key).filter(
        (key) =>
          !text.includes(`\`${key}\``) &&
          !text.includes(`\`${key.replace(/^listeners\.\w+\./, 'listeners.<name>.')}\``) &&
          !onOwnPage(key),
      );
      expect(undocumented).toEqual([]);
    });
  }
});

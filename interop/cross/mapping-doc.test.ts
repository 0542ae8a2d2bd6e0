/** docs/mapping.md states exactly what the matrix checks: its pair table is the matrix's own. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { pairTable } from './lib/pair-table.js';

it('docs/mapping.md holds the pair table the matrix checks (regenerate: npx tsx interop/cross/lib/pair-table.ts)', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'mapping.md'), 'utf8');
  expect(doc).toContain(pairTable());
});

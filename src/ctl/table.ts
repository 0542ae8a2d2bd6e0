/** Rows as an aligned text table (columns in the order given, dotted for nested fields), like rabbitmqctl's list output. */
export function formatTable(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  // `queue.name`: a nested field, when the row has no key of that name.
  const at = (r: Record<string, unknown>, c: string): unknown => (c in r ? r[c] : c.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), r));
  const data = rows.map((r) => columns.map((c) => cell(at(r, c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...data.map((d) => d[i]!.length)));
  const line = (cells: string[]) => cells.map((v, i) => (i === cells.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return [line(columns), ...data.map(line)].join('\n') + '\n';
}

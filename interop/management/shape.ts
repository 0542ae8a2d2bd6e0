/** JSON type of a value as a shape comparison sees it. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Value at a dotted path (`queue_totals.messages`). */
export function at(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * Differences between RabbitMQ's object and polybroker's on the given fields: a field missing
 * on one side, of another JSON type, or (for `equal` fields) of another value.
 */
export function fieldDiffs(what: string, rabbit: unknown, poly: unknown, fields: string[], equal: string[] = []): string[] {
  const out: string[] = [];
  for (const f of [...fields, ...equal]) {
    const r = at(rabbit, f);
    const p = at(poly, f);
    if (r === undefined) {
      out.push(`${what}: RabbitMQ has no '${f}' (check the field list)`);
      continue;
    }
    if (p === undefined) out.push(`${what}: polybroker lacks '${f}'`);
    else if (jsonType(r) !== jsonType(p)) out.push(`${what}: '${f}' is ${jsonType(p)} in polybroker, ${jsonType(r)} in RabbitMQ`);
    else if (equal.includes(f) && JSON.stringify(sortKeys(r)) !== JSON.stringify(sortKeys(p))) out.push(`${what}: '${f}' is ${JSON.stringify(p)} in polybroker, ${JSON.stringify(r)} in RabbitMQ`);
  }
  return out;
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** RabbitMQ fields polybroker lacks, over a whole object (informational: the report lists them). */
export function missingFields(rabbit: Record<string, unknown>, poly: Record<string, unknown>): string[] {
  return Object.keys(rabbit).filter((k) => !(k in poly));
}

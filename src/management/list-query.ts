/**
 * RabbitMQ's list query parameters every list endpoint honours: `sort` (a field, dotted for
 * nested ones such as `message_stats.publish`), `sort_reverse=true`, and `columns` (a
 * comma-separated list of fields, dotted for nested ones: the answer keeps only those).
 * rabbitmqadmin sends `columns` and `sort` with every `list`.
 */

function pick(item: unknown, path: string): unknown {
  let v: unknown = item;
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

export function sortItems<T>(items: T[], query: URLSearchParams): T[] {
  const key = query.get('sort');
  if (!key) return items;
  const dir = query.get('sort_reverse') === 'true' ? -1 : 1;
  return [...items].sort((x, y) => dir * compare(pick(x, key), pick(y, key)));
}

/** Keeps only the `columns` fields of each item (nested objects rebuilt along dotted paths). */
export function selectColumns(items: unknown[], query: URLSearchParams): unknown[] {
  const columns = query.get('columns');
  if (!columns) return items;
  const paths = columns.split(',').map((c) => c.trim()).filter(Boolean);
  return items.map((item) => {
    const out: Record<string, unknown> = {};
    for (const path of paths) {
      const v = pick(item, path);
      if (v === undefined) continue;
      const keys = path.split('.');
      let at = out;
      for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
      at[keys[keys.length - 1]!] = v;
    }
    return out;
  });
}

/** A GET answer with `sort` and `columns` applied (lists, and the `items` of a paginated answer). */
export function applyListQuery(body: unknown, query: URLSearchParams): unknown {
  if (!query.has('sort') && !query.has('columns')) return body;
  if (Array.isArray(body)) return selectColumns(sortItems(body, query), query);
  if (body && typeof body === 'object' && Array.isArray((body as { items?: unknown }).items)) {
    const page = body as { items: unknown[] };
    return { ...page, items: selectColumns(page.items, query) };
  }
  if (body && typeof body === 'object' && query.has('columns')) return selectColumns([body], query)[0];
  return body;
}

/**
 * Headers-exchange matching (RabbitMQ rabbit_exchange_type_headers): a binding's arguments are
 * the headers to match; `x-match` is `all` (default), `any`, `all-with-x` or `any-with-x`.
 * Without `-with-x`, binding arguments whose names start with `x-` are not compared. A binding
 * value of null (AMQP void) matches on the header's presence alone.
 */
import type { Arguments } from './api.js';
import { InvalidArgument } from './errors.js';
import type { Header, HeaderValue } from './message.js';

export type XMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

export interface HeadersBinding {
  mode: XMatch;
  /** [name, value] pairs to compare. */
  pairs: [string, unknown][];
}

export function compileHeadersBinding(args: Arguments): HeadersBinding {
  const raw = args['x-match'];
  const modeText = raw === undefined ? 'all' : Buffer.isBuffer(raw) ? raw.toString() : raw;
  if (modeText !== 'all' && modeText !== 'any' && modeText !== 'all-with-x' && modeText !== 'any-with-x') {
    throw new InvalidArgument(`invalid x-match value ${JSON.stringify(String(modeText))} in headers binding: expected all, any, all-with-x or any-with-x`);
  }
  const mode = modeText as XMatch;
  const withX = mode.endsWith('-with-x');
  const pairs: [string, unknown][] = [];
  for (const [k, v] of Object.entries(args)) {
    if (k === 'x-match') continue;
    if (!withX && k.startsWith('x-')) continue;
    pairs.push([k, v]);
  }
  return { mode, pairs };
}

function sameValue(a: unknown, b: HeaderValue): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && Buffer.isBuffer(b)) return b.toString('utf8') === a;
  if (Buffer.isBuffer(a) && typeof b === 'string') return a.toString('utf8') === b;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) === Number(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return false;
}

function find(headers: readonly Header[], name: string): Header | undefined {
  for (let i = 0; i < headers.length; i++) if (headers[i]!.name === name) return headers[i];
  return undefined;
}

export function headersMatch(b: HeadersBinding, headers: readonly Header[]): boolean {
  const all = b.mode === 'all' || b.mode === 'all-with-x';
  if (b.pairs.length === 0) return all;
  for (const [name, want] of b.pairs) {
    const h = find(headers, name);
    const ok = h !== undefined && (want === null || want === undefined || sameValue(want, h.value));
    if (all && !ok) return false;
    if (!all && ok) return true;
  }
  return all;
}

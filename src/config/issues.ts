import type { ErrorObject } from 'ajv';
import { didYouMean } from './did-you-mean.js';
import type { ConfigSourceMap, ValueOrigin } from './source-map.js';

/** One thing wrong with a configuration, located and explained. */
export interface ConfigIssue {
  /** Key path, e.g. `['listeners', 'amqp', 'port']`. */
  path: string[];
  origin: ValueOrigin;
  /** What was expected, e.g. `an integer from 0 to 65535`. */
  expected: string;
  /** What was there, e.g. `"abc" (a string)`. */
  found: string;
  /** A close known name, for unknown keys and misspelt enum values. */
  suggestion?: string;
}

/** `listeners.amqp.port`, `users[0].name`, `vhosts["/"].limits`. */
export function formatPath(path: readonly string[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const segment of path) {
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

export function formatOrigin(origin: ValueOrigin): string {
  return origin.kind === 'file' ? `${origin.file}:${origin.line}:${origin.column}` : origin.name;
}

/** `polybroker.yaml:4:11: listeners.amqp.port: expected an integer from 0 to 65535, found "abc" (a string)` */
export function formatIssue(issue: ConfigIssue): string {
  const hint = issue.suggestion ? `; did you mean "${issue.suggestion}"?` : '';
  return `${formatOrigin(issue.origin)}: ${formatPath(issue.path)}: expected ${issue.expected}, found ${issue.found}${hint}`;
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (typeof value === 'string') return `${JSON.stringify(value)} (a string)`;
  if (typeof value === 'number') return Number.isInteger(value) ? `${value} (an integer)` : `${value} (a number)`;
  if (typeof value === 'boolean') return `${value} (a boolean)`;
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return `a map with keys ${Object.keys(value).map((k) => JSON.stringify(k)).join(', ') || '(none)'}`;
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  object: 'a map',
  array: 'a list',
  null: 'an empty value',
};

function numberRange(schema: Record<string, unknown>, noun: string): string {
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  if (min !== undefined) return `${noun} ≥ ${min}`;
  if (max !== undefined) return `${noun} ≤ ${max}`;
  return noun;
}

function typeName(type: unknown, schema: Record<string, unknown>): string {
  const types = Array.isArray(type) ? type : [type];
  return types
    .map((t: string) => (t === 'integer' || t === 'number' ? numberRange(schema, TYPE_NAMES[t]!) : (TYPE_NAMES[t] ?? t)))
    .join(' or ');
}

function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Turns ajv's errors (allErrors, verbose) into located issues, one per problem. */
export function issuesFromAjv(errors: readonly ErrorObject[], sources: ConfigSourceMap): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const issue = issueFromAjv(error, sources);
    if (!issue) continue;
    const key = `${issue.path.join('\u0000')}|${issue.expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function issueFromAjv(error: ErrorObject, sources: ConfigSourceMap): ConfigIssue | undefined {
  const path = splitPointer(error.instancePath);
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const params = error.params as Record<string, unknown>;
  const at = (p: string[], keyOf = false) => sources.origin(p, keyOf);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
      const p = [...path, key];
      return {
        path: p,
        origin: at(p, true),
        expected: known.length ? `one of the keys ${known.join(', ')}` : 'no keys here',
        found: `the unknown key "${key}"`,
        suggestion: didYouMean(key, known),
      };
    }
    case 'required': {
      const key = String(params.missingProperty);
      return { path: [...path, key], origin: at(path), expected: `the required key "${key}"`, found: 'nothing' };
    }
    case 'type':
      return { path, origin: at(path), expected: typeName(params.type, parent), found: describeValue(error.data) };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]) ?? [];
      const data = error.data;
      return {
        path,
        origin: at(path),
        expected: `one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
        found: describeValue(data),
        suggestion:
          typeof data === 'string'
            ? didYouMean(
                data,
                allowed.filter((v): v is string => typeof v === 'string'),
              )
            : undefined,
      };
    }
    case 'const':
      return { path, origin: at(path), expected: JSON.stringify(params.allowedValue), found: describeValue(error.data) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const noun = parent.type === 'integer' ? 'an integer' : 'a number';
      const expected =
        error.keyword.startsWith('exclusive')
          ? `${noun} ${params.comparison} ${params.limit}`
          : numberRange(parent, noun);
      return { path, origin: at(path), expected, found: describeValue(error.data) };
    }
    case 'minLength':
      return {
        path,
        origin: at(path),
        expected: params.limit === 1 ? 'a non-empty string' : `a string of at least ${params.limit} characters`,
        found: describeValue(error.data),
      };
    case 'maxLength':
      return { path, origin: at(path), expected: `a string of at most ${params.limit} characters`, found: describeValue(error.data) };
    case 'pattern':
      return { path, origin: at(path), expected: `a string matching /${params.pattern}/`, found: describeValue(error.data) };
    case 'format':
      return { path, origin: at(path), expected: `a valid ${params.format}`, found: describeValue(error.data) };
    case 'minItems':
      return { path, origin: at(path), expected: `a list of at least ${params.limit} items`, found: describeValue(error.data) };
    case 'maxItems':
      return { path, origin: at(path), expected: `a list of at most ${params.limit} items`, found: describeValue(error.data) };
    case 'uniqueItems':
      return {
        path: [...path, String(params.j)],
        origin: at([...path, String(params.j)]),
        expected: 'a list without duplicates',
        found: `a duplicate of item ${params.i}`,
      };
    case 'propertyNames':
      // ajv reports the offending name in a following error with `propertyName`; name it here.
      return {
        path: [...path, String(params.propertyName)],
        origin: at([...path, String(params.propertyName)], true),
        expected: 'a key name allowed here',
        found: `the key "${String(params.propertyName)}"`,
      };
    case 'if':
      // The failing `then`/`else` branch is reported on its own.
      return undefined;
    default:
      return { path, origin: at(path), expected: `a value that satisfies: ${error.message ?? error.keyword}`, found: describeValue(error.data) };
  }
}

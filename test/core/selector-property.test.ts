/**
 * Property test of the selector parser and evaluator against a reference implementation
 * written here: random selector trees are printed to text, parsed and compiled by
 * src/core/selector, and evaluated over random properties by both; the answers must agree.
 * The reference interprets the tree directly, with truth values as 'T' | 'F' | 'U'.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSelector, type SelectorValue } from '../../src/core/selector/index.js';

type Truth = 'T' | 'F' | 'U';
type Expr =
  | { t: 'lit'; v: SelectorValue }
  | { t: 'id'; name: string }
  | { t: 'neg'; e: Expr }
  | { t: 'arith'; op: '+' | '-' | '*' | '/'; l: Expr; r: Expr }
  | { t: 'cmp'; op: '=' | '<>' | '<' | '<=' | '>' | '>='; l: Expr; r: Expr }
  | { t: 'between'; not: boolean; e: Expr; lo: Expr; hi: Expr }
  | { t: 'like'; not: boolean; e: Expr; pattern: string }
  | { t: 'in'; not: boolean; e: Expr; list: (string | number)[] }
  | { t: 'isnull'; not: boolean; e: Expr }
  | { t: 'not'; e: Expr }
  | { t: 'and' | 'or'; l: Expr; r: Expr };

const NAMES = ['a', 'b', 'c', 'd'];
const valueArb: fc.Arbitrary<SelectorValue> = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('x', 'y', 'xy', '2', 'true', ''),
  fc.boolean(),
);
const literalArb: fc.Arbitrary<SelectorValue> = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y', 'xy', '2', "it's"), fc.boolean(), fc.constant(null));

const { expr } = fc.letrec<{ expr: Expr; value: Expr }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constant('lit' as const), v: literalArb }),
    fc.record({ t: fc.constant('id' as const), name: fc.constantFrom(...NAMES) }),
    fc.record({ t: fc.constant('neg' as const), e: tie('value') }),
    fc.record({ t: fc.constant('arith' as const), op: fc.constantFrom('+', '-', '*', '/'), l: tie('value'), r: tie('value') }),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constant('cmp' as const), op: fc.constantFrom('=', '<>', '<', '<=', '>', '>='), l: tie('value'), r: tie('value') }),
    fc.record({ t: fc.constant('between' as const), not: fc.boolean(), e: tie('value'), lo: tie('value'), hi: tie('value') }),
    fc.record({ t: fc.constant('like' as const), not: fc.boolean(), e: tie('value'), pattern: fc.constantFrom('x%', '_', '%y', 'x_', '%', 'xy', '2') }),
    fc.record({ t: fc.constant('in' as const), not: fc.boolean(), e: tie('value'), list: fc.array(fc.oneof(fc.constantFrom('x', 'y', '2'), fc.integer({ min: -2, max: 2 })), { minLength: 1, maxLength: 3 }) }),
    fc.record({ t: fc.constant('isnull' as const), not: fc.boolean(), e: tie('value') }),
    fc.record({ t: fc.constant('not' as const), e: tie('expr') }),
    fc.record({ t: fc.constantFrom('and' as const, 'or' as const), l: tie('expr'), r: tie('expr') }),
    fc.record({ t: fc.constant('id' as const), name: fc.constantFrom(...NAMES) }),
  ),
}));

function lit(v: SelectorValue | string | number): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return String(v);
}

/** Fully parenthesised text, so precedence is the printer's, not the parser's, to get wrong. */
function print(e: Expr): string {
  switch (e.t) {
    case 'lit': return lit(e.v);
    case 'id': return e.name;
    case 'neg': return `-(${print(e.e)})`;
    case 'arith': return `(${print(e.l)} ${e.op} ${print(e.r)})`;
    case 'cmp': return `(${print(e.l)} ${e.op} ${print(e.r)})`;
    case 'between': return `(${print(e.e)} ${e.not ? 'NOT ' : ''}BETWEEN ${print(e.lo)} AND ${print(e.hi)})`;
    case 'like': return `(${print(e.e)} ${e.not ? 'NOT ' : ''}LIKE ${lit(e.pattern)})`;
    case 'in': return `(${print(e.e)} ${e.not ? 'NOT ' : ''}IN (${e.list.map(lit).join(', ')}))`;
    case 'isnull': return `(${print(e.e)} IS ${e.not ? 'NOT ' : ''}NULL)`;
    case 'not': return `(NOT ${print(e.e)})`;
    case 'and': return `(${print(e.l)} AND ${print(e.r)})`;
    case 'or': return `(${print(e.l)} OR ${print(e.r)})`;
  }
}

// ---- reference ------------------------------------------------------------------------------

function num(v: SelectorValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) && /^[\s0-9.eE+-]+$/.test(v)) return Number(v);
  return undefined;
}
function bool(v: SelectorValue): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'TRUE' || v === 'True') return true;
  if (typeof v === 'string' && v.toLowerCase() === 'false') return false;
  if (typeof v === 'string' && v.toLowerCase() === 'true') return true;
  return undefined;
}
function truth(v: SelectorValue): Truth {
  const b = bool(v);
  return b === undefined ? 'U' : b ? 'T' : 'F';
}
function fromTruth(t: Truth): SelectorValue {
  return t === 'U' ? null : t === 'T';
}
const NOT: Record<Truth, Truth> = { T: 'F', F: 'T', U: 'U' };
const AND: Record<string, Truth> = { TT: 'T', TF: 'F', TU: 'U', FT: 'F', FF: 'F', FU: 'F', UT: 'U', UF: 'F', UU: 'U' };
const OR: Record<string, Truth> = { TT: 'T', TF: 'T', TU: 'T', FT: 'T', FF: 'F', FU: 'U', UT: 'T', UF: 'U', UU: 'U' };

/** Ordering of two values: a number, 'U' (a NULL) or 'X' (unlike types). */
function order(a: SelectorValue, b: SelectorValue): number | 'U' | 'X' {
  if (a === null || b === null) return 'U';
  if (typeof a === 'number' || typeof b === 'number') {
    const x = num(a);
    const y = num(b);
    if (x === undefined || y === undefined || Number.isNaN(x) || Number.isNaN(y)) return 'X';
    return Math.sign(x - y);
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const x = bool(a);
    const y = bool(b);
    if (x === undefined || y === undefined) return 'X';
    return Number(x) - Number(y);
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

function cmpTruth(op: string, o: number | 'U' | 'X'): Truth {
  if (o === 'U') return 'U';
  if (o === 'X') return 'F';
  const r = op === '=' ? o === 0 : op === '<>' ? o !== 0 : op === '<' ? o < 0 : op === '<=' ? o <= 0 : op === '>' ? o > 0 : o >= 0;
  return r ? 'T' : 'F';
}

function likeMatch(s: string, p: string): boolean {
  // Classic recursive wildcard matcher (no regular expressions).
  if (p === '') return s === '';
  if (p[0] === '%') return likeMatch(s, p.slice(1)) || (s !== '' && likeMatch(s.slice(1), p));
  if (s === '') return false;
  return (p[0] === '_' || p[0] === s[0]) && likeMatch(s.slice(1), p.slice(1));
}

function reference(e: Expr, env: Record<string, SelectorValue>): SelectorValue {
  switch (e.t) {
    case 'lit': return e.v;
    case 'id': return env[e.name] ?? null;
    case 'neg': {
      const x = num(reference(e.e, env));
      return x === undefined ? null : -x;
    }
    case 'arith': {
      const x = num(reference(e.l, env));
      const y = num(reference(e.r, env));
      if (x === undefined || y === undefined) return null;
      if (e.op === '/') return y === 0 ? null : x / y;
      return e.op === '+' ? x + y : e.op === '-' ? x - y : x * y;
    }
    case 'cmp': return fromTruth(cmpTruth(e.op, order(reference(e.l, env), reference(e.r, env))));
    case 'between': {
      const v = reference(e.e, env);
      const t = AND[cmpTruth('>=', order(v, reference(e.lo, env))) + cmpTruth('<=', order(v, reference(e.hi, env)))]!;
      return fromTruth(e.not ? NOT[t] : t);
    }
    case 'like': {
      const v = reference(e.e, env);
      if (v === null) return null;
      if (typeof v !== 'string') return false;
      return likeMatch(v, e.pattern) !== e.not;
    }
    case 'in': {
      const v = reference(e.e, env);
      if (v === null) return null;
      const t: Truth = e.list.some((x) => order(v, x) === 0) ? 'T' : 'F';
      return fromTruth(e.not ? NOT[t] : t);
    }
    case 'isnull': return (reference(e.e, env) === null) !== e.not;
    case 'not': return fromTruth(NOT[truth(reference(e.e, env))]);
    case 'and': return fromTruth(AND[truth(reference(e.l, env)) + truth(reference(e.r, env))]!);
    case 'or': return fromTruth(OR[truth(reference(e.l, env)) + truth(reference(e.r, env))]!);
  }
}

describe('selector evaluator against the reference implementation', () => {
  it('agrees on random selectors and random properties', () => {
    const envArb = fc.record(Object.fromEntries(NAMES.map((n) => [n, valueArb])) as Record<string, fc.Arbitrary<SelectorValue>>);
    fc.assert(
      fc.property(expr, fc.array(envArb, { minLength: 1, maxLength: 8 }), (e, envs) => {
        const text = print(e);
        const compiled = compileSelector(text);
        for (const env of envs) {
          const expected = truth(reference(e, env)) === 'T';
          expect(compiled.matchesLookup((n) => env[n] ?? null), `${text} with ${JSON.stringify(env)}`).toBe(expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('parses minimal-parenthesis text the same as fully parenthesised text', () => {
    // a OR b AND NOT c = x is a OR (b AND (NOT (c = x))) by SQL92 precedence.
    fc.assert(
      fc.property(fc.record({ a: valueArb, b: valueArb, c: valueArb }), (env) => {
        const look = (n: string) => (env as Record<string, SelectorValue>)[n] ?? null;
        const loose = compileSelector("a = 1 OR b = 'x' AND NOT c = 2 + 1 * 2").matchesLookup(look);
        const strict = compileSelector("(a = 1) OR ((b = 'x') AND (NOT (c = (2 + (1 * 2)))))").matchesLookup(look);
        expect(loose).toBe(strict);
      }),
    );
  });
});

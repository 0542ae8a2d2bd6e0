/**
 * Recursive-descent parser of JMS selectors, lowest precedence first (JMS 1.1 §3.8.1.1):
 *
 *   or         := and (OR and)*
 *   and        := not (AND not)*
 *   not        := NOT not | comparison
 *   comparison := sum [ (= | <> | < | <= | > | >=) sum
 *                     | [NOT] BETWEEN sum AND sum
 *                     | [NOT] LIKE string [ESCAPE string]
 *                     | [NOT] IN ( literal {, literal} )
 *                     | IS [NOT] NULL ]
 *   sum        := product ((+ | -) product)*
 *   product    := unary ((* | /) unary)*
 *   unary      := (+ | -) unary | primary
 *   primary    := literal | identifier | ( or )
 *
 * Comparisons do not chain (`a = b = c` is refused), as in SQL92.
 */
import type { ComparisonOp, SelectorNode, SelectorValue } from './ast.js';
import { tokenize, type Token } from './lexer.js';
import { SelectorError } from './selector-error.js';

const COMPARISONS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);

function describe(t: Token): string {
  if (t.kind === 'end') return 'end of selector';
  if (t.kind === 'string') return `string '${t.text}'`;
  return `'${t.text}'`;
}

export function parseSelector(src: string): SelectorNode {
  const tokens = tokenize(src);
  let i = 0;
  const peek = (): Token => tokens[i]!;
  const next = (): Token => tokens[i++]!;
  const isKeyword = (word: string): boolean => peek().kind === 'keyword' && peek().text === word;
  const isOp = (op: string): boolean => peek().kind === 'op' && peek().text === op;
  const fail = (expected: string): never => {
    const t = peek();
    throw new SelectorError(`unexpected ${describe(t)}, expected ${expected}`, t.position);
  };
  const expectKeyword = (word: string): void => {
    if (!isKeyword(word)) fail(word);
    i++;
  };
  const expectOp = (op: string): void => {
    if (!isOp(op)) fail(`'${op}'`);
    i++;
  };

  function or(): SelectorNode {
    let left = and();
    while (isKeyword('OR')) {
      i++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  }
  function and(): SelectorNode {
    let left = not();
    while (isKeyword('AND')) {
      i++;
      left = { kind: 'and', left, right: not() };
    }
    return left;
  }
  function not(): SelectorNode {
    if (isKeyword('NOT')) {
      i++;
      return { kind: 'not', operand: not() };
    }
    return comparison();
  }
  function comparison(): SelectorNode {
    const value = sum();
    const t = peek();
    if (t.kind === 'op' && COMPARISONS.has(t.text)) {
      i++;
      return { kind: 'compare', op: t.text as ComparisonOp, left: value, right: sum() };
    }
    if (isKeyword('IS')) {
      i++;
      const negated = isKeyword('NOT');
      if (negated) i++;
      expectKeyword('NULL');
      return { kind: 'isNull', negated, value };
    }
    let negated = false;
    if (isKeyword('NOT')) {
      const after = tokens[i + 1]!;
      if (after.kind !== 'keyword' || !['BETWEEN', 'LIKE', 'IN'].includes(after.text)) {
        i++;
        fail('BETWEEN, LIKE or IN after NOT');
      }
      negated = true;
      i++;
    }
    if (isKeyword('BETWEEN')) {
      i++;
      const low = sum();
      expectKeyword('AND');
      return { kind: 'between', negated, value, low, high: sum() };
    }
    if (isKeyword('LIKE')) {
      i++;
      if (peek().kind !== 'string') fail('a string pattern after LIKE');
      const pattern = next().text;
      let escape: string | null = null;
      if (isKeyword('ESCAPE')) {
        i++;
        const e = peek();
        if (e.kind !== 'string') fail('a string after ESCAPE');
        if (e.text.length !== 1) throw new SelectorError(`the ESCAPE string must be one character, got '${e.text}'`, e.position);
        escape = next().text;
      }
      return { kind: 'like', negated, value, pattern, escape };
    }
    if (isKeyword('IN')) {
      i++;
      expectOp('(');
      const list: SelectorValue[] = [inLiteral()];
      while (isOp(',')) {
        i++;
        list.push(inLiteral());
      }
      expectOp(')');
      return { kind: 'in', negated, value, list };
    }
    return value;
  }
  function inLiteral(): SelectorValue {
    const t = peek();
    if (t.kind === 'string' || t.kind === 'number') {
      i++;
      return t.kind === 'string' ? t.text : t.number;
    }
    if (t.kind === 'op' && t.text === '-' && tokens[i + 1]!.kind === 'number') {
      i += 2;
      return -tokens[i - 1]!.number;
    }
    return fail('a string or number literal in the IN list');
  }
  function sum(): SelectorNode {
    let left = product();
    while (isOp('+') || isOp('-')) {
      const op = next().text as '+' | '-';
      left = { kind: 'arithmetic', op, left, right: product() };
    }
    return left;
  }
  function product(): SelectorNode {
    let left = unary();
    while (isOp('*') || isOp('/')) {
      const op = next().text as '*' | '/';
      left = { kind: 'arithmetic', op, left, right: unary() };
    }
    return left;
  }
  function unary(): SelectorNode {
    if (isOp('-')) {
      i++;
      return { kind: 'negate', operand: unary() };
    }
    if (isOp('+')) {
      i++;
      return unary();
    }
    return primary();
  }
  function primary(): SelectorNode {
    const t = peek();
    switch (t.kind) {
      case 'string':
        i++;
        return { kind: 'literal', value: t.text };
      case 'number':
        i++;
        return { kind: 'literal', value: t.number };
      case 'identifier':
        i++;
        return { kind: 'identifier', name: t.text };
      case 'keyword':
        if (t.text === 'TRUE' || t.text === 'FALSE') {
          i++;
          return { kind: 'literal', value: t.text === 'TRUE' };
        }
        if (t.text === 'NULL') {
          i++;
          return { kind: 'literal', value: null };
        }
        break;
      case 'op':
        if (t.text === '(') {
          i++;
          const e = or();
          expectOp(')');
          return e;
        }
        break;
      default:
        break;
    }
    return fail("an identifier, a literal or '('");
  }

  if (peek().kind === 'end') throw new SelectorError('empty selector', 0);
  const tree = or();
  if (peek().kind !== 'end') fail('AND, OR or the end of the selector');
  return tree;
}

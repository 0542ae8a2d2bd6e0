/**
 * Compiles a selector tree into one closure per node, once per subscription, so a message is
 * matched without walking the tree or allocating. Semantics (JMS 1.1 §3.8.1.2, ActiveMQ):
 * - three-valued logic: NULL is "unknown"; AND, OR and NOT follow the SQL92 truth tables and a
 *   message matches only when the selector is TRUE;
 * - a comparison or arithmetic with NULL is unknown; comparing values of unlike types is FALSE;
 * - STOMP headers and MQTT user properties are strings, so a string that reads as a number is
 *   compared and computed as that number, and 'true'/'false' as a boolean, where the other
 *   side is a number or boolean (ActiveMQ's convertStringExpressions);
 * - arithmetic is IEEE double; dividing by zero is unknown;
 * - LIKE: `%` any run, `_` one character, ESCAPE makes the next character literal.
 */
import type { SelectorNode, SelectorValue } from './ast.js';

/** Value of an identifier for the message being matched; null when it has none. */
export type Lookup = (name: string) => SelectorValue;
type Eval = (lookup: Lookup) => SelectorValue;

const NUMERIC = /^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$/;

export function asNumber(v: SelectorValue): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return null;
}

function asBoolean(v: SelectorValue): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  return null;
}

/** -1, 0, 1, null (unknown: a NULL side) or 'unlike' (types that do not compare). */
export function compareValues(a: SelectorValue, b: SelectorValue): number | null | 'unlike' {
  if (a === null || b === null) return null;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = asNumber(a);
    const y = asNumber(b);
    if (x === null || y === null) return 'unlike';
    return x < y ? -1 : x > y ? 1 : x === y ? 0 : 'unlike';
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const x = asBoolean(a);
    const y = asBoolean(b);
    if (x === null || y === null) return 'unlike';
    return x === y ? 0 : x ? 1 : -1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function likeRegExp(pattern: string, escape: string | null): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (escape !== null && c === escape && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', 'su');
}

function logical(v: SelectorValue): boolean | null {
  return asBoolean(v);
}

/** The selector's truth value: TRUE, FALSE or unknown (null). */
export function compileCondition(node: SelectorNode): (lookup: Lookup) => boolean | null {
  const f = compile(node);
  return (l) => logical(f(l));
}

export function compile(node: SelectorNode): Eval {
  switch (node.kind) {
    case 'literal': {
      const v = node.value;
      return () => v;
    }
    case 'identifier': {
      const name = node.name;
      return (lookup) => lookup(name);
    }
    case 'negate': {
      const f = compile(node.operand);
      return (l) => {
        const x = asNumber(f(l));
        return x === null ? null : -x;
      };
    }
    case 'arithmetic': {
      const f = compile(node.left);
      const g = compile(node.right);
      const op = node.op;
      return (l) => {
        const x = asNumber(f(l));
        const y = asNumber(g(l));
        if (x === null || y === null) return null;
        switch (op) {
          case '+': return x + y;
          case '-': return x - y;
          case '*': return x * y;
          case '/': return y === 0 ? null : x / y;
        }
      };
    }
    case 'compare': {
      const f = compile(node.left);
      const g = compile(node.right);
      const op = node.op;
      return (l) => {
        const c = compareValues(f(l), g(l));
        if (c === null) return null;
        if (c === 'unlike') return false;
        switch (op) {
          case '=': return c === 0;
          case '<>': return c !== 0;
          case '<': return c < 0;
          case '<=': return c <= 0;
          case '>': return c > 0;
          case '>=': return c >= 0;
        }
      };
    }
    case 'between': {
      const v = compile(node.value);
      const lo = compile(node.low);
      const hi = compile(node.high);
      const negated = node.negated;
      return (l) => {
        const x = v(l);
        const a = compareValues(x, lo(l));
        const b = compareValues(x, hi(l));
        const ge = a === null ? null : a === 'unlike' ? false : a >= 0;
        const le = b === null ? null : b === 'unlike' ? false : b <= 0;
        const r = and3(ge, le);
        return negated ? not3(r) : r;
      };
    }
    case 'like': {
      const v = compile(node.value);
      const re = likeRegExp(node.pattern, node.escape);
      const negated = node.negated;
      return (l) => {
        const x = v(l);
        if (x === null) return null;
        if (typeof x !== 'string') return false;
        return re.test(x) !== negated;
      };
    }
    case 'in': {
      const v = compile(node.value);
      const list = node.list;
      const negated = node.negated;
      return (l) => {
        const x = v(l);
        if (x === null) return null;
        let r: boolean | null = false;
        for (const item of list) {
          const c = compareValues(x, item);
          if (c === 0) {
            r = true;
            break;
          }
          if (c === null) r = null;
        }
        return negated ? not3(r) : r;
      };
    }
    case 'isNull': {
      const v = compile(node.value);
      const negated = node.negated;
      return (l) => (v(l) === null) !== negated;
    }
    case 'not': {
      const f = compile(node.operand);
      return (l) => not3(logical(f(l)));
    }
    case 'and': {
      const f = compile(node.left);
      const g = compile(node.right);
      return (l) => {
        const a = logical(f(l));
        if (a === false) return false;
        return and3(a, logical(g(l)));
      };
    }
    case 'or': {
      const f = compile(node.left);
      const g = compile(node.right);
      return (l) => {
        const a = logical(f(l));
        if (a === true) return true;
        return or3(a, logical(g(l)));
      };
    }
  }
}

function not3(a: boolean | null): boolean | null {
  return a === null ? null : !a;
}
function and3(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  if (a === null || b === null) return null;
  return true;
}
function or3(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  if (a === null || b === null) return null;
  return false;
}

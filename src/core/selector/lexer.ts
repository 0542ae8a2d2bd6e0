/**
 * Tokens of a JMS selector: string literals in single quotes ('' escapes a quote), exact and
 * approximate numerics (with Java's L/F/D suffixes, hex 0x.., octal 0..), identifiers (Java
 * identifier characters; a double-quoted name such as "x-priority" is our extension for header
 * names that are not identifiers), case-insensitive keywords and the operators.
 */
import { SelectorError } from './selector-error.js';

export type TokenKind = 'string' | 'number' | 'identifier' | 'keyword' | 'op' | 'end';

export interface Token {
  kind: TokenKind;
  /** Keywords upper-cased; strings unescaped; identifiers as written. */
  text: string;
  number: number;
  position: number;
}

const KEYWORDS: ReadonlySet<string> = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'LIKE', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'ESCAPE']);
const TWO_CHAR_OPS: ReadonlySet<string> = new Set(['<>', '<=', '>=']);
const ONE_CHAR_OPS = '=<>+-*/(),';

function isIdentStart(c: string): boolean {
  return /[A-Za-z_$]/.test(c) || c.charCodeAt(0) > 127;
}
function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_$.]/.test(c) || c.charCodeAt(0) > 127;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= n) throw new SelectorError(c === "'" ? 'unterminated string literal' : 'unterminated quoted identifier', start);
        const d = src[i]!;
        if (d === c) {
          if (src[i + 1] === c) {
            text += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += d;
        i++;
      }
      out.push({ kind: c === "'" ? 'string' : 'identifier', text, number: 0, position: start });
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const t = readNumber(src, i);
      out.push(t);
      i += t.text.length;
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src[i]!)) i++;
      const word = src.slice(start, i);
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) out.push({ kind: 'keyword', text: upper, number: 0, position: start });
      else out.push({ kind: 'identifier', text: word, number: 0, position: start });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      out.push({ kind: 'op', text: two, number: 0, position: start });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.includes(c)) {
      out.push({ kind: 'op', text: c, number: 0, position: start });
      i++;
      continue;
    }
    throw new SelectorError(`unexpected character '${c}'`, start);
  }
  out.push({ kind: 'end', text: '', number: 0, position: n });
  return out;
}

const HEX = /^0[xX][0-9a-fA-F]+[lL]?/;
const OCTAL = /^0[0-7]+[lL]?/;
const DECIMAL = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[lLfFdD]?/;

/** Reads the numeric literal at `at`; the token's `text` is the literal as written. */
function readNumber(src: string, at: number): Token {
  const rest = src.slice(at);
  let m = HEX.exec(rest);
  if (m) return { kind: 'number', text: m[0], number: parseInt(m[0].replace(/[lL]$/, '').slice(2), 16), position: at };
  m = OCTAL.exec(rest);
  if (m && !/^[.eE89]/.test(rest.slice(m[0].length))) {
    return { kind: 'number', text: m[0], number: parseInt(m[0].replace(/[lL]$/, ''), 8), position: at };
  }
  m = DECIMAL.exec(rest)!;
  const text = m[0];
  const value = Number(text.replace(/[lLfFdD]$/, ''));
  if (!Number.isFinite(value)) throw new SelectorError(`invalid number '${text}'`, at);
  if (/[A-Za-z_$0-9]/.test(rest[text.length] ?? '')) throw new SelectorError(`invalid number '${text}${rest[text.length]}'`, at);
  return { kind: 'number', text, number: value, position: at };
}

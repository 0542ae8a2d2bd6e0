import { describe, expect, it } from 'vitest';
import { createMessage } from '../../src/core/index.js';
import { compileSelector, SelectorError, type SelectorValue } from '../../src/core/selector/index.js';

function matches(selector: string, props: Record<string, SelectorValue>): boolean {
  return compileSelector(selector).matchesLookup((n) => (n in props ? props[n]! : null));
}

function parseError(selector: string): SelectorError {
  try {
    compileSelector(selector);
  } catch (e) {
    if (e instanceof SelectorError) return e;
    throw e;
  }
  throw new Error(`'${selector}' parsed`);
}

describe('JMS selector grammar (JMS 1.1 §3.8.1)', () => {
  it('compares numbers, strings and booleans', () => {
    expect(matches("color = 'red'", { color: 'red' })).toBe(true);
    expect(matches("color <> 'red'", { color: 'blue' })).toBe(true);
    expect(matches('price > 10.5 AND qty <= 3', { price: 11, qty: 3 })).toBe(true);
    expect(matches('price > 10.5 AND qty <= 3', { price: 10, qty: 3 })).toBe(false);
    expect(matches('flag = TRUE', { flag: true })).toBe(true);
    expect(matches('flag', { flag: true })).toBe(true);
  });

  it('computes with precedence: * and / before + and -, unary minus', () => {
    expect(matches('a + b * 2 = 7', { a: 1, b: 3 })).toBe(true);
    expect(matches('(a + b) * 2 = 8', { a: 1, b: 3 })).toBe(true);
    expect(matches('-a = -1', { a: 1 })).toBe(true);
    expect(matches('a / 0 = 1', { a: 1 })).toBe(false);
  });

  it('reads hex, octal, exponent and suffixed literals', () => {
    expect(matches('a = 0x1F', { a: 31 })).toBe(true);
    expect(matches('a = 017', { a: 15 })).toBe(true);
    expect(matches('a = 1.5e2', { a: 150 })).toBe(true);
    expect(matches('a = 10L AND b = 2.5F', { a: 10, b: 2.5 })).toBe(true);
  });

  it('matches LIKE with % and _ and an ESCAPE character', () => {
    expect(matches("name LIKE 'ab%'", { name: 'abc' })).toBe(true);
    expect(matches("name LIKE 'a_c'", { name: 'abc' })).toBe(true);
    expect(matches("name LIKE 'a_c'", { name: 'abbc' })).toBe(false);
    expect(matches("name LIKE '100\\%' ESCAPE '\\'", { name: '100%' })).toBe(true);
    expect(matches("name LIKE '100\\%' ESCAPE '\\'", { name: '1000' })).toBe(false);
    expect(matches("name NOT LIKE 'x%'", { name: 'abc' })).toBe(true);
    expect(matches("name LIKE 'a.c'", { name: 'abc' })).toBe(false);
  });

  it('matches IN, BETWEEN and IS [NOT] NULL', () => {
    expect(matches("c IN ('UK', 'FR')", { c: 'FR' })).toBe(true);
    expect(matches("c NOT IN ('UK', 'FR')", { c: 'DE' })).toBe(true);
    expect(matches('n BETWEEN 1 AND 5', { n: 5 })).toBe(true);
    expect(matches('n NOT BETWEEN 1 AND 5', { n: 6 })).toBe(true);
    expect(matches('missing IS NULL', {})).toBe(true);
    expect(matches('present IS NOT NULL', { present: 'x' })).toBe(true);
  });

  it('uses three-valued logic: unknown never matches, NOT unknown is unknown', () => {
    expect(matches('missing = 1', {})).toBe(false);
    expect(matches('NOT (missing = 1)', {})).toBe(false);
    expect(matches('missing = 1 OR a = 1', { a: 1 })).toBe(true);
    expect(matches('NOT (missing = 1 AND a = 2)', { a: 1 })).toBe(true);
    expect(matches("missing IN ('a')", {})).toBe(false);
    expect(matches("missing NOT IN ('a')", {})).toBe(false);
  });

  it('treats unlike types as FALSE and numeric strings as numbers (STOMP headers)', () => {
    expect(matches("a = 'x'", { a: 1 })).toBe(false);
    expect(matches("NOT (a = 'x')", { a: 1 })).toBe(true);
    expect(matches('price > 10', { price: '12.5' })).toBe(true);
    expect(matches('flag = TRUE', { flag: 'true' })).toBe(true);
  });

  it('keywords are case-insensitive, identifiers are not', () => {
    expect(matches("a = 1 and b like 'x%' Or c is null", { a: 1, b: 'xy' })).toBe(true);
    expect(matches('A = 1', { a: 1 })).toBe(false);
  });

  it('reads JMS header fields and message headers of a core message', () => {
    const m = createMessage(Buffer.from('x'), {
      properties: { messageId: 'm-1', correlationId: Buffer.from('c-1'), type: 'order', priority: 7, persistent: true },
      headers: [{ name: 'region', value: 'eu' }, { name: 'count', value: 5n }, { name: 'x-stream-filter-value', value: 'blue' }],
      timestamp: 1000,
    });
    const yes = (s: string) => expect(compileSelector(s).matches(m), s).toBe(true);
    yes("JMSMessageID = 'm-1'");
    yes("JMSCorrelationID = 'c-1'");
    yes("JMSType = 'order' AND JMSPriority > 5");
    yes("JMSDeliveryMode = 'PERSISTENT'");
    yes('JMSTimestamp = 1000');
    yes("region = 'eu' AND count = 5");
    yes(`"x-stream-filter-value" = 'blue'`);
    expect(compileSelector('JMSPriority = 4').matches(createMessage(Buffer.alloc(0)))).toBe(true);
  });
});

describe('JMS selector errors carry the parser message and position', () => {
  it.each([
    ["color = 'red", 8, 'unterminated string literal'],
    ['a = = 1', 4, "unexpected '='"],
    ['a = 1 AND', 9, 'unexpected end of selector'],
    ['a BETWEEN 1 OR 2', 12, 'expected AND'],
    ["a LIKE 'x' ESCAPE 'ab'", 18, 'ESCAPE string must be one character'],
    ['a IN ()', 6, 'IN list'],
    ['a = 1 b = 2', 6, "unexpected 'b'"],
    ['a # 1', 2, "unexpected character '#'"],
    ['', 0, 'empty selector'],
    ['a = 1 = 2', 6, "unexpected '='"],
  ])('%s', (selector, position, text) => {
    const e = parseError(selector);
    expect(e.position).toBe(position);
    expect(e.message).toContain(text);
    expect(e.message).toContain(`at position ${position}`);
  });
});

/**
 * JMS/ActiveMQ message selectors (SQL92 conditional expressions over headers and properties):
 * parsed once per subscription, then matched per message.
 */
import type { Message } from '../message.js';
import { compileCondition, type Lookup } from './evaluate.js';
import { messageField } from './message-fields.js';
import { parseSelector } from './parser.js';

export { SelectorError } from './selector-error.js';
export { parseSelector } from './parser.js';
export type { SelectorNode, SelectorValue } from './ast.js';
export { compile, compileCondition, type Lookup } from './evaluate.js';

export interface MessageSelector {
  readonly text: string;
  /** True only when the selector evaluates to TRUE (not FALSE, not unknown). */
  matches(m: Message): boolean;
  /** The same over any identifier lookup (tests, benchmarks). */
  matchesLookup(lookup: Lookup): boolean;
}

/** Parses and compiles `text`; throws SelectorError (message and position) when it does not parse. */
export function compileSelector(text: string): MessageSelector {
  const f = compileCondition(parseSelector(text));
  let current: Message | null = null;
  // One lookup closure per selector, bound to the message being matched: no allocation per match.
  const lookup: Lookup = (name) => messageField(current!, name);
  return {
    text,
    matches(m: Message): boolean {
      current = m;
      try {
        return f(lookup) === true;
      } finally {
        current = null;
      }
    },
    matchesLookup(l: Lookup): boolean {
      return f(l) === true;
    },
  };
}

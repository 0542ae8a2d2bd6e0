/**
 * The syntax tree of a JMS message selector (JMS 1.1 §3.8.1, ActiveMQ's grammar). Values are
 * SQL92's: strings, numbers, booleans and NULL (the unknown value of three-valued logic).
 */
export type SelectorValue = string | number | boolean | null;

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type ArithmeticOp = '+' | '-' | '*' | '/';

export type SelectorNode =
  | { kind: 'literal'; value: SelectorValue }
  | { kind: 'identifier'; name: string }
  | { kind: 'negate'; operand: SelectorNode }
  | { kind: 'arithmetic'; op: ArithmeticOp; left: SelectorNode; right: SelectorNode }
  | { kind: 'compare'; op: ComparisonOp; left: SelectorNode; right: SelectorNode }
  | { kind: 'between'; negated: boolean; value: SelectorNode; low: SelectorNode; high: SelectorNode }
  | { kind: 'like'; negated: boolean; value: SelectorNode; pattern: string; escape: string | null }
  | { kind: 'in'; negated: boolean; value: SelectorNode; list: SelectorValue[] }
  | { kind: 'isNull'; negated: boolean; value: SelectorNode }
  | { kind: 'not'; operand: SelectorNode }
  | { kind: 'and'; left: SelectorNode; right: SelectorNode }
  | { kind: 'or'; left: SelectorNode; right: SelectorNode };

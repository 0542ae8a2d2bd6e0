/**
 * A consumer's server-side filter, from its consume arguments:
 * - `x-stream-filter` (a string or a list of strings) with `x-stream-match-unfiltered`
 *   (RabbitMQ streams; here for queues too): only messages whose `x-stream-filter-value` is
 *   one of the values, plus those without a value when match-unfiltered is true;
 * - `x-selector`: a JMS/ActiveMQ SQL92 selector (`selector` on a STOMP SUBSCRIBE).
 * Both may be given: a message must pass both.
 */
import type { Arguments } from './api.js';
import { InvalidArgument } from './errors.js';
import { filterValueOf, tagHash, TAG_NONE, TAG_UNKNOWN } from './filter-tag.js';
import type { Message } from './message.js';
import { compileSelector, SelectorError, type MessageSelector } from './selector/index.js';

export const FILTER_ARGUMENT = 'x-stream-filter';
export const MATCH_UNFILTERED_ARGUMENT = 'x-stream-match-unfiltered';
export const SELECTOR_ARGUMENT = 'x-selector';

export class MessageFilter {
  private readonly values: ReadonlySet<string> | null;
  private readonly hashes: ReadonlySet<number> | null;

  constructor(
    values: string[] | null,
    readonly matchUnfiltered: boolean,
    readonly selector: MessageSelector | null,
  ) {
    this.values = values === null ? null : new Set(values);
    this.hashes = values === null ? null : new Set(values.map(tagHash));
  }

  /** False when the index unit's tag alone proves no message of the batch can match. */
  acceptsTag(hash: number): boolean {
    if (this.hashes === null || hash === TAG_UNKNOWN) return true;
    if (hash === TAG_NONE) return this.matchUnfiltered;
    return this.hashes.has(hash);
  }

  accepts(m: Message): boolean {
    if (this.values !== null) {
      const v = filterValueOf(m);
      if (v === null ? !this.matchUnfiltered : !this.values.has(v)) return false;
    }
    return this.selector === null || this.selector.matches(m);
  }
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === 1;
}

/** The filter the arguments ask for, or null. Throws InvalidArgument naming what is wrong. */
export function messageFilterOf(args: Arguments | undefined, where: string): MessageFilter | null {
  if (args === undefined) return null;
  const rawValues = args[FILTER_ARGUMENT];
  const rawSelector = args[SELECTOR_ARGUMENT];
  if (rawValues === undefined && rawSelector === undefined) return null;
  let values: string[] | null = null;
  if (rawValues !== undefined) {
    const list = Array.isArray(rawValues) ? rawValues : [rawValues];
    values = list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
    if (values.length === 0 || values.some((v) => typeof v !== 'string')) {
      throw new InvalidArgument(`invalid ${FILTER_ARGUMENT} argument for a consumer of ${where}: a string or a list of strings expected`);
    }
  }
  let selector: MessageSelector | null = null;
  if (rawSelector !== undefined) {
    const text = Buffer.isBuffer(rawSelector) ? rawSelector.toString('utf8') : rawSelector;
    if (typeof text !== 'string') throw new InvalidArgument(`invalid ${SELECTOR_ARGUMENT} argument for a consumer of ${where}: a string expected`);
    try {
      selector = compileSelector(text);
    } catch (e) {
      if (e instanceof SelectorError) throw new InvalidArgument(`invalid selector '${text}' for a consumer of ${where}: ${e.message}`);
      throw e;
    }
  }
  return new MessageFilter(values, truthy(args[MATCH_UNFILTERED_ARGUMENT]), selector);
}

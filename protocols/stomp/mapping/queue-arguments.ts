import type { Arguments } from '../../../src/core/index.js';
import { StompError } from '../errors.js';

/**
 * `x-` headers on SUBSCRIBE and SEND that become queue arguments (rabbitmq.com/docs/stomp
 * "Optional Queue Properties"). STOMP headers are text, so numeric and boolean arguments are
 * converted here; others pass through as strings. `x-queue-name` names the queue instead.
 */
const NUMERIC = new Set([
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-delivery-limit',
  'x-stream-max-segment-size-bytes',
]);
const BOOLEAN = new Set(['x-single-active-consumer']);
const NOT_ARGUMENTS = new Set(['x-queue-name', 'x-stream-offset', 'x-stream-filter', 'x-stream-match-unfiltered', 'x-selector']);

/**
 * SUBSCRIBE headers that are consumer arguments, not queue arguments: the server-side filter
 * (`selector` as ActiveMQ has it, or `x-selector`; `x-stream-filter`, a comma-separated list,
 * with `x-stream-match-unfiltered`, as RabbitMQ's STOMP plugin has them). docs/business.md.
 */
export function consumerArgumentsOf(headers: readonly string[]): Arguments | undefined {
  let args: Arguments | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (name === 'selector' || name === 'x-selector') (args ??= {})['x-selector'] ??= value;
    else if (name === 'x-stream-filter') (args ??= {})[name] ??= value.split(',').map((v) => v.trim());
    else if (name === 'x-stream-match-unfiltered') (args ??= {})[name] ??= value === 'true';
  }
  return args;
}

export function queueArgumentsOf(headers: readonly string[]): Arguments {
  const args: Arguments = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!name.startsWith('x-') || NOT_ARGUMENTS.has(name) || name in args) continue;
    const value = headers[i + 1]!;
    if (NUMERIC.has(name)) {
      if (!/^-?[0-9]+$/.test(value)) throw new StompError('Invalid header', `header ${name} must be an integer, got '${value}'`);
      args[name] = Number(value);
    } else if (BOOLEAN.has(name)) {
      args[name] = value === 'true';
    } else {
      args[name] = value;
    }
  }
  return args;
}

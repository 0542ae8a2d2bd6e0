import { headerOf } from '../codec/frame.js';

/**
 * A boolean header as RabbitMQ reads one: `true` / `false`, and `True` / `False` as Python
 * clients write them (stomp.py sends `str(True)`); any other value counts as absent.
 */
export function booleanHeader(headers: readonly string[], name: string): boolean | undefined {
  const value = headerOf(headers, name);
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  return undefined;
}

import type { StompCommand } from './commands.js';

/**
 * One decoded frame. `headers` is flat — `[name0, value0, name1, value1, ...]` — in wire order
 * with repeats kept (one array per frame instead of an object or Map); `headerOf` returns the
 * first occurrence, as STOMP 1.2 "Repeated Header Entries" requires.
 */
export interface StompFrame {
  command: StompCommand;
  headers: string[];
  /** The body bytes; a view of the received chunk when the frame arrived in one piece. */
  body: Buffer;
  /** The header lines exactly as received (between the command line and the blank line). */
  rawHeaders: Buffer;
}

export function headerOf(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

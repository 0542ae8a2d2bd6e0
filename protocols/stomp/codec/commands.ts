/**
 * STOMP commands (STOMP 1.2 "Frames and Headers"; 1.0 and 1.1 use a subset: STOMP and NACK
 * arrived in 1.1). The union members double as interned strings, so a parsed frame carries
 * its command without allocating.
 */
export type ClientCommand =
  | 'CONNECT'
  | 'STOMP'
  | 'SEND'
  | 'SUBSCRIBE'
  | 'UNSUBSCRIBE'
  | 'ACK'
  | 'NACK'
  | 'BEGIN'
  | 'COMMIT'
  | 'ABORT'
  | 'DISCONNECT';

export type ServerCommand = 'CONNECTED' | 'MESSAGE' | 'RECEIPT' | 'ERROR';

export type StompCommand = ClientCommand | ServerCommand;

export const CLIENT_COMMANDS: readonly ClientCommand[] = [
  'CONNECT',
  'STOMP',
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'ACK',
  'NACK',
  'BEGIN',
  'COMMIT',
  'ABORT',
  'DISCONNECT',
];

export const SERVER_COMMANDS: readonly ServerCommand[] = ['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR'];

export const ALL_COMMANDS: readonly StompCommand[] = [...CLIENT_COMMANDS, ...SERVER_COMMANDS];

/** The longest command name; a longer command line is rejected without buffering more. */
export const MAX_COMMAND_LENGTH = Math.max(...ALL_COMMANDS.map((c) => c.length));

/**
 * Commands bucketed by length, each with its bytes, so the parser recognises a command by
 * comparing bytes in place instead of decoding a string per frame.
 */
const BY_LENGTH: Array<Array<{ name: StompCommand; bytes: Buffer }>> = [];
for (const name of ALL_COMMANDS) {
  (BY_LENGTH[name.length] ??= []).push({ name, bytes: Buffer.from(name, 'latin1') });
}

/** The command spelled by `buf[start, end)`, or undefined when it is not a STOMP command. */
export function commandAt(buf: Buffer, start: number, end: number): StompCommand | undefined {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  outer: for (const c of candidates) {
    const b = c.bytes;
    for (let i = 0; i < b.length; i++) if (buf[start + i] !== b[i]) continue outer;
    return c.name;
  }
  return undefined;
}

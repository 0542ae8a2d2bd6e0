import type { StompCommand } from './commands.js';
import type { StompVersion } from '../spec/versions.js';
import { StompFrameError } from './frame-error.js';

/**
 * Header value escaping per version (STOMP 1.2 "Value Encoding"):
 *
 * | sequence | 1.0 | 1.1 | 1.2 |
 * | `\n` -> LF, `\c` -> `:`, `\\` -> `\` | - | yes | yes |
 * | `\r` -> CR | - | - | yes |
 *
 * CONNECT and CONNECTED frames are never escaped ("to remain backward compatible with 1.0"),
 * and any other backslash sequence is a fatal protocol error in 1.1 and 1.2.
 */
export type EscapeMode = 'none' | '1.1' | '1.2';

export function escapeModeFor(version: StompVersion, command: StompCommand): EscapeMode {
  if (version === '1.0' || command === 'CONNECT' || command === 'CONNECTED') return 'none';
  return version;
}

const BACKSLASH = 0x5c;

/** Decodes `buf[start, end)` as UTF-8, undoing the escapes of `mode`. */
export function unescapeValue(buf: Buffer, start: number, end: number, mode: EscapeMode): string {
  if (mode === 'none') return buf.toString('utf8', start, end);
  // A loop over the value, not buf.indexOf: that would search past `end`, through the rest of
  // the read chunk (every later frame's headers and bodies), once per header.
  let i = start;
  while (i < end && buf[i] !== BACKSLASH) i++;
  if (i === end) return buf.toString('utf8', start, end);
  // Rare path: build the unescaped bytes once.
  const out = Buffer.allocUnsafe(end - start);
  let o = buf.copy(out, 0, start, i);
  while (i < end) {
    const b = buf[i]!;
    if (b !== BACKSLASH) {
      out[o++] = b;
      i++;
      continue;
    }
    const next = i + 1 < end ? buf[i + 1] : undefined;
    switch (next) {
      case 0x6e: // n
        out[o++] = 0x0a;
        break;
      case 0x63: // c
        out[o++] = 0x3a;
        break;
      case BACKSLASH:
        out[o++] = BACKSLASH;
        break;
      case 0x72: // r: defined in 1.2 only
        if (mode !== '1.2') throw undefinedEscape(next);
        out[o++] = 0x0d;
        break;
      default:
        throw undefinedEscape(next);
    }
    i += 2;
  }
  return out.toString('utf8', 0, o);
}

function undefinedEscape(next: number | undefined): StompFrameError {
  return new StompFrameError(
    'bad-escape',
    next === undefined
      ? 'header ends with a lone backslash'
      : `undefined escape sequence \\${String.fromCharCode(next)} in a header`,
  );
}

const NEEDS_ESCAPE_11 = /[\n:\\]/;
const NEEDS_ESCAPE_12 = /[\r\n:\\]/;

/** Escapes a header name or value for `mode`; values without special characters are returned as is. */
export function escapeValue(value: string, mode: EscapeMode): string {
  if (mode === 'none') return value;
  if (!(mode === '1.2' ? NEEDS_ESCAPE_12 : NEEDS_ESCAPE_11).test(value)) return value;
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case ':':
        out += '\\c';
        break;
      case '\r':
        out += mode === '1.2' ? '\\r' : '\r';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

import type { StompCommand } from './commands.js';
import { escapeModeFor, escapeValue } from './escaping.js';
import type { StompVersion } from '../spec/versions.js';

const EOL = 0x0a;
const COLON = 0x3a;

/**
 * Encodes whole frames: works out the size, allocates once, writes. `headers` is flat
 * (`[name, value, ...]`, as in StompFrame). A `content-length` header is added for a non-empty
 * body unless the caller gave one, so bodies may hold NULs (STOMP 1.2 "Body").
 */
export function encodeFrame(
  command: StompCommand,
  headers: readonly string[],
  body: Buffer | undefined,
  version: StompVersion,
): Buffer {
  const mode = escapeModeFor(version, command);
  const bodyLength = body === undefined ? 0 : body.length;
  let addLength = bodyLength > 0;
  const escaped: string[] = new Array<string>(headers.length);
  let size = command.length + 1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = escapeValue(headers[i]!, mode);
    const value = escapeValue(headers[i + 1]!, mode);
    if (headers[i] === 'content-length') addLength = false;
    escaped[i] = name;
    escaped[i + 1] = value;
    size += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
  }
  const lengthText = addLength ? String(bodyLength) : '';
  if (addLength) size += 'content-length:'.length + lengthText.length + 1;
  size += 1 + bodyLength + 1;
  const out = Buffer.allocUnsafe(size);
  let o = out.write(command, 0, 'latin1');
  out[o++] = EOL;
  for (let i = 0; i < escaped.length; i += 2) {
    o += out.write(escaped[i]!, o);
    out[o++] = COLON;
    o += out.write(escaped[i + 1]!, o);
    out[o++] = EOL;
  }
  if (addLength) {
    o += out.write('content-length:', o, 'latin1');
    o += out.write(lengthText, o, 'latin1');
    out[o++] = EOL;
  }
  out[o++] = EOL;
  if (body !== undefined) o += body.copy(out, o);
  out[o] = 0;
  return out;
}

/** One header line (`name:value\n`) pre-encoded for reuse on every frame of a subscription. */
export function encodeHeaderLine(name: string, value: string, version: StompVersion, command: StompCommand): Buffer {
  const mode = escapeModeFor(version, command);
  return Buffer.from(`${escapeValue(name, mode)}:${escapeValue(value, mode)}\n`, 'utf8');
}

/** A heart-beat: one EOL (STOMP 1.2 "Heart-beating"). */
export const HEARTBEAT = Buffer.from('\n', 'latin1');

import { createMessage, type Header, type Message, type MessageProperties } from '../../../src/core/index.js';
import { escapeValue } from '../codec/escaping.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompVersion } from '../spec/versions.js';

/**
 * SEND headers ↔ core message properties (ARCHITECTURE.md "Properties across protocols";
 * names as RabbitMQ's STOMP plugin uses them). Everything else is a user header.
 *
 * | STOMP header        | core                          |
 * | content-type        | properties.contentType        |
 * | content-encoding    | properties.contentEncoding    |
 * | correlation-id      | properties.correlationId      |
 * | reply-to            | properties.replyTo            |
 * | amqp-message-id     | properties.messageId          |
 * | expiration (ms TTL, RabbitMQ) / expires (epoch ms, ActiveMQ; 0 = never) | properties.expiration |
 * | priority            | properties.priority (0..255)  |
 * | persistent:true     | properties.persistent         |
 * | type, user-id, app-id | properties.type, userId, appId |
 * | timestamp (epoch ms, ActiveMQ's JMSTimestamp) | properties.sentAt (AMQP `timestamp`, Kafka CreateTime) |
 */
export const PROPERTY_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'correlation-id',
  'reply-to',
  'amqp-message-id',
  'expiration',
  'expires',
  'priority',
  'persistent',
  'type',
  'user-id',
  'app-id',
  'timestamp',
]);

/**
 * Headers of a SEND that describe the frame, not the message: not stored. `message-id` is the
 * server's to set on MESSAGE (RabbitMQ forbids it on SEND; ActiveMQ overwrites it).
 */
const NOT_STORED: ReadonlySet<string> = new Set(['destination', 'transaction', 'receipt', 'content-length', 'message-id']);

/**
 * A sender's own `x-pb-origin-*` headers are not stored either: only the broker says who
 * published (docs/mapping.md "Publisher identity"), and STOMP consumers must not be fooled.
 */
const PUBLISHER_PREFIX = 'x-pb-origin-';

function notStored(name: string): boolean {
  return NOT_STORED.has(name) || name.startsWith(PUBLISHER_PREFIX);
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Builds the core message for a SEND. `replyTo` replaces the frame's `reply-to` (a
 * `/temp-queue/` rewritten to its `/reply-queue/`). The native blob is the stored header lines
 * in 1.2 escaping: the sender's own bytes when it speaks 1.1 or 1.2, so STOMP to STOMP is
 * byte-exact and costs one copy.
 */
export function messageFromSend(frame: StompFrame, version: StompVersion, replyTo: string | undefined, now: number): Message {
  const h = frame.headers;
  const properties: MessageProperties = {};
  const headers: Header[] = [];
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (notStored(name)) continue;
    const value = h[i + 1]!;
    if (!PROPERTY_HEADERS.has(name)) {
      if (!isRepeat(h, i)) headers.push({ name, value });
      continue;
    }
    if (isRepeat(h, i)) continue;
    switch (name) {
      case 'content-type':
        properties.contentType = value;
        break;
      case 'content-encoding':
        properties.contentEncoding = value;
        break;
      case 'correlation-id':
        properties.correlationId = value;
        break;
      case 'reply-to':
        properties.replyTo = replyTo ?? value;
        break;
      case 'amqp-message-id':
        properties.messageId = value;
        break;
      case 'expiration': {
        const ttl = Number(value);
        if (value !== '' && Number.isInteger(ttl) && ttl >= 0) properties.expiration = ttl;
        break;
      }
      case 'expires': {
        const at = Number(value);
        if (value !== '' && Number.isInteger(at) && at > 0 && properties.expiration === undefined) {
          properties.expiration = Math.max(0, at - now);
        }
        break;
      }
      case 'priority': {
        const p = Number(value);
        if (value !== '' && Number.isInteger(p) && p >= 0 && p <= 255) properties.priority = p;
        break;
      }
      case 'persistent':
        properties.persistent = value === 'true' || value === 'True';
        break;
      case 'type':
        properties.type = value;
        break;
      case 'user-id':
        properties.userId = value;
        break;
      case 'app-id':
        properties.appId = value;
        break;
      case 'timestamp': {
        // Not a valid epoch-ms value: no message time (the header still reaches STOMP consumers).
        const at = Number(value);
        if (value !== '' && Number.isSafeInteger(at) && at >= 0) properties.sentAt = at;
        break;
      }
    }
  }
  return createMessage(ownedBody(frame.body), {
    timestamp: now,
    properties,
    headers,
    native: { protocol: 'stomp', bytes: nativeHeaderLines(frame, version, replyTo) },
  });
}

/**
 * The body as a buffer of its own. A frame that arrived whole is a view of the socket's read
 * buffer (64 KiB); a queued message must not keep all of that alive, so views are copied once
 * here (a body that spanned reads already has its own buffer). Bodies under 4 KiB are copied
 * into Node's shared 8 KiB allocation pool (Buffer.allocUnsafe): an ArrayBuffer per message
 * cost more than the copy itself (allocation plus garbage collection of its backing store,
 * about a tenth of the broker's time at 1 KiB). A body that outlives its neighbours keeps at
 * most that 8 KiB pool alive.
 */
function ownedBody(body: Buffer): Buffer {
  if (body.length === 0) return EMPTY_BODY;
  if (body.byteOffset === 0 && body.length === body.buffer.byteLength) return body;
  const own = body.length < POOLED_BODY_LIMIT ? Buffer.allocUnsafe(body.length) : Buffer.allocUnsafeSlow(body.length);
  body.copy(own);
  return own;
}

const EMPTY_BODY = Buffer.alloc(0);
/** Node pools allocUnsafe() requests under half its 8 KiB pool size. */
const POOLED_BODY_LIMIT = Buffer.poolSize >>> 1;

function isRepeat(h: readonly string[], i: number): boolean {
  const name = h[i];
  for (let j = 0; j < i; j += 2) if (h[j] === name) return true;
  return false;
}

/** The stored header lines (1.2 escaping, LF endings): raw bytes where the sender's version allows. */
function nativeHeaderLines(frame: StompFrame, version: StompVersion, replyTo: string | undefined): Buffer {
  const h = frame.headers;
  if (version === '1.0') {
    let text = '';
    for (let i = 0; i < h.length; i += 2) {
      if (notStored(h[i]!)) continue;
      const value = h[i] === 'reply-to' && replyTo !== undefined ? replyTo : h[i + 1]!;
      text += `${escapeValue(h[i]!, '1.2')}:${escapeValue(value, '1.2')}\n`;
    }
    return Buffer.from(text, 'utf8');
  }
  const raw = frame.rawHeaders;
  const parts: Buffer[] = [];
  let size = 0;
  let lineStart = 0;
  for (let i = 0; i < h.length; i += 2) {
    const lf = raw.indexOf(LF, lineStart);
    const lineEnd = lf > lineStart && raw[lf - 1] === CR ? lf - 1 : lf;
    const name = h[i]!;
    if (!notStored(name)) {
      let line: Buffer;
      if (name === 'reply-to' && replyTo !== undefined) {
        line = Buffer.from(`reply-to:${escapeValue(replyTo, '1.2')}\n`, 'utf8');
      } else {
        // The line without its EOL; the LF is added when copying.
        line = raw.subarray(lineStart, lineEnd + 1);
        if (lineEnd !== lf) line = raw.subarray(lineStart, lineEnd);
      }
      parts.push(line);
      size += line.length + (line[line.length - 1] === LF ? 0 : 1);
    }
    lineStart = lf + 1;
  }
  if (size === 0) return EMPTY_BODY;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const p of parts) {
    o += p.copy(out, o);
    if (p[p.length - 1] !== LF) out[o++] = LF;
  }
  return out;
}

/**
 * Header names that appear on almost every frame, kept as interned strings so the parser can
 * return them without decoding (the same trick as the command table).
 */
const COMMON = [
  'accept-version',
  'ack',
  'content-length',
  'content-type',
  'correlation-id',
  'destination',
  'expires',
  'heart-beat',
  'host',
  'id',
  'login',
  'message-id',
  'passcode',
  'persistent',
  'priority',
  'prefetch-count',
  'receipt',
  'reply-to',
  'subscription',
  'transaction',
  'durable',
  'auto-delete',
  'x-queue-name',
  'requeue',
];

const BY_LENGTH: Array<Array<{ name: string; bytes: Buffer }>> = [];
for (const name of COMMON) (BY_LENGTH[name.length] ??= []).push({ name, bytes: Buffer.from(name, 'latin1') });

/** The interned name spelled by `buf[start, end)`, or undefined when it is not a common one. */
export function commonHeaderNameAt(buf: Buffer, start: number, end: number): string | undefined {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  outer: for (const c of candidates) {
    const b = c.bytes;
    for (let i = 0; i < b.length; i++) if (buf[start + i] !== b[i]) continue outer;
    return c.name;
  }
  return undefined;
}

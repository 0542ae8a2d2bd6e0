import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP error with the status and RabbitMQ's `{ error, reason }` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** RabbitMQ's 404 body for a missing object (`reason` defaults to its 'Not Found'). */
export function notFound(reason = 'Not Found'): HttpError {
  return new HttpError(404, 'Object Not Found', reason);
}

/** `value`, or the 404 of a missing object when it is absent. */
export function found<T>(value: T | undefined | null, reason?: string): T {
  if (value === undefined || value === null || value === false) throw notFound(reason);
  return value;
}

/** JSON that survives AMQP table values: bigints as numbers or strings, Buffers as base64. */
export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    function (this: unknown, _key, v: unknown) {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return Buffer.from((v as { data: number[] }).data).toString('base64');
      }
      return v;
    },
    space,
  );
}

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = status === 204 || body === undefined ? '' : toJson(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(req.method === 'HEAD' ? undefined : text);
}

export function sendText(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Reads a JSON request body (bounded: definitions files can be large, but not unbounded). */
export async function readJsonBody(req: IncomingMessage, maxBytes = 64 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, 'payload_too_large', `request body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, 'bad_request', `body is not JSON: ${(err as Error).message}`);
  }
}

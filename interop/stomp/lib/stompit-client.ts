import { createRequire } from 'node:module';
import { deferred, within, type StompTarget } from './target.js';

// stompit ships no types; this is the part of its API the scenarios use.
const require = createRequire(import.meta.url);
const stompit = require('stompit') as { connect(options: unknown, cb: (err: Error | null, client: StompitClient) => void): StompitClient };

/**
 * stompit 1.0 bug: for an ERROR with a text/plain body it calls `this.destroy(error)` in a
 * plain function where `this` is the frame, so the error is thrown on the frame (an unhandled
 * 'error' that kills the process) instead of reaching the client. Route it to the client as
 * intended.
 */
function routeFrameErrors(client: StompitClient): void {
  const incoming = (client as unknown as { _incoming: { read(...a: unknown[]): unknown } })._incoming;
  const read = incoming.read.bind(incoming);
  incoming.read = (...a: unknown[]) => {
    const frame = read(...a) as { on?: (e: string, cb: (err: Error) => void) => void; listenerCount?: (e: string) => number } | null;
    if (frame !== null && typeof frame.on === 'function' && frame.listenerCount?.('error') === 0) {
      frame.on('error', (err) => client.destroy(err));
    }
    return frame;
  };
}

interface StompitMessage {
  headers: Record<string, string>;
  readString(encoding: string, cb: (err: Error | null, body?: string) => void): void;
  on(event: 'data', cb: (chunk: Buffer) => void): void;
  on(event: 'end' | 'error', cb: (arg?: unknown) => void): void;
}

interface StompitWritable {
  write(chunk: Buffer | string): void;
  end(cb?: () => void): void;
}

export interface StompitClient {
  send(headers: Record<string, string>, options?: { onReceipt?: () => void; onError?: (e: Error) => void }): StompitWritable;
  subscribe(headers: Record<string, string>, listener: (err: Error | null, message: StompitMessage) => void): { unsubscribe(headers?: Record<string, string>): void };
  ack(message: StompitMessage, headers?: Record<string, string>, options?: { onReceipt?: () => void }): void;
  nack(message: StompitMessage, headers?: Record<string, string>, options?: { onReceipt?: () => void }): void;
  begin(headers?: Record<string, string>): { send(headers: Record<string, string>): StompitWritable; commit(options?: { onReceipt?: () => void }): void; abort(options?: { onReceipt?: () => void }): void; id: string };
  sendFrame(command: string, headers: Record<string, string>, options?: { onReceipt?: () => void }): StompitWritable;
  disconnect(cb?: (err: Error | null) => void): void;
  destroy(err?: Error): void;
  on(event: 'error', cb: (err: Error & { isApplicationError?: () => boolean }) => void): void;
  getTransportSocket(): { on(event: string, cb: () => void): void };
}

/** A message as scenarios compare them: body bytes and the headers that matter. */
export interface Received {
  headers: Record<string, string>;
  body: Buffer;
}

export interface Connected {
  client: StompitClient;
  /** Every error the client reported (ERROR frames become errors with the `message` header as text). */
  errors: string[];
  /** Resolves when the connection errors or closes. */
  closed: Promise<string>;
}

export async function connectStompit(target: StompTarget, headers: Record<string, string> = {}, version = '1.2'): Promise<Connected> {
  const d = deferred<StompitClient>();
  const closed = deferred<string>();
  const errors: string[] = [];
  const raw = stompit.connect(
    {
      host: target.host,
      port: target.port,
      connectHeaders: { host: target.vhost, login: target.login, passcode: target.passcode, 'accept-version': version, 'heart-beat': '0,0', ...headers },
    },
    (err, client) => {
      if (err) {
        closed.resolve(err.message);
        d.reject(err);
        return;
      }
      client.on('error', (e) => {
        errors.push(e.message);
        closed.resolve(e.message);
      });
      client.getTransportSocket().on('close', () => closed.resolve('closed'));
      d.resolve(client);
    },
  );
  routeFrameErrors(raw);
  const client = await within(d.promise, 10_000, 'CONNECTED');
  return { client, errors, closed: closed.promise };
}

/** Reads a whole message body. */
export function readBody(message: StompitMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (c) => chunks.push(c));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
  });
}

/**
 * Subscribes and collects messages; `next(n)` resolves once n messages (in total) arrived.
 * `onMessage` may ack/nack each one as it comes.
 */
export function collect(
  client: StompitClient,
  headers: Record<string, string>,
  onMessage?: (m: StompitMessage, r: Received, index: number) => void,
) {
  const received: Received[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const subscription = client.subscribe({ ...headers }, (err, message) => {
    if (err) return;
    void readBody(message).then((body) => {
      const r = { headers: { ...message.headers }, body };
      received.push(r);
      onMessage?.(message, r, received.length - 1);
      for (const w of waiters.filter((x) => received.length >= x.n)) w.resolve();
    });
  });
  return {
    received,
    subscription,
    next(n: number, what = `${n} messages`): Promise<Received[]> {
      if (received.length >= n) return Promise.resolve(received.slice(0, n));
      const d = deferred<void>();
      waiters.push({ n, resolve: () => d.resolve() });
      return within(d.promise, 10_000, what).then(() => received.slice(0, n));
    },
  };
}

/** SEND with a receipt; resolves on RECEIPT. */
export function sendWithReceipt(client: StompitClient, headers: Record<string, string>, body: Buffer | string): Promise<void> {
  const d = deferred<void>();
  const w = client.send({ ...headers }, { onReceipt: () => d.resolve() });
  w.write(body);
  w.end();
  return within(d.promise, 10_000, `RECEIPT for SEND to ${headers.destination}`);
}

/** Any frame with a receipt; resolves on RECEIPT. */
export function frameWithReceipt(client: StompitClient, command: string, headers: Record<string, string>): Promise<void> {
  const d = deferred<void>();
  // stompit adds its `receipt` header to the object it is given: give it a copy.
  client.sendFrame(command, { ...headers }, { onReceipt: () => d.resolve() }).end();
  return within(d.promise, 10_000, `RECEIPT for ${command}`);
}

export function disconnect(c: Connected): Promise<void> {
  return within(
    new Promise<void>((resolve) => c.client.disconnect(() => resolve())),
    10_000,
    'DISCONNECT receipt',
  );
}

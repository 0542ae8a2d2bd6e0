import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startStompServer, type StompServer } from './harness.js';
import { CONNECT_12, RawClient } from './raw-client.js';

/**
 * Valid frames of every client command, mutated (bytes flipped, cut, inserted, repeated,
 * lying content-lengths), sent from many connections at once: each fuzzed connection ends in
 * an ERROR and a close or a clean close, never a crash, and a well-behaved connection beside
 * them keeps sending and receiving throughout.
 */
let server: StompServer;

beforeAll(async () => {
  server = await startStompServer({ limits: { maxHeaderBytes: 4096, maxHeaders: 64, maxBodyBytes: 64 * 1024 } });
});
afterAll(async () => {
  await server?.close();
});

const headerValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('1.0', '1.1', '1.2', '1.0,1.1,1.2', 'true', 'false', 'auto', 'client', 'client-individual', '0', '-1', '99999999999', '0,0', '10,10', '1-1', '\\c', '\\n'),
);
const destination = fc.oneof(
  fc.constantFrom('/queue/fz', '/topic/fz.a', '/topic/#', '/exchange/amq.topic/fz', '/exchange/none/x', '/amq/queue/fz', '/amq/queue/missing', '/temp-queue/t', '/reply-queue/x', '/bad', ''),
  fc.string({ maxLength: 20 }).map((s) => `/queue/${s}`),
);
const header = fc.tuple(
  fc.constantFrom('destination', 'id', 'ack', 'receipt', 'transaction', 'content-length', 'content-type', 'accept-version', 'host', 'login', 'passcode', 'heart-beat', 'subscription', 'message-id', 'prefetch-count', 'durable', 'auto-delete', 'x-queue-name', 'x-max-length', 'reply-to', 'requeue', 'persistent', 'selector', 'x'),
  headerValue,
);
const command = fc.constantFrom('CONNECT', 'STOMP', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'MESSAGE', 'RECEIPT', 'ERROR', 'CONNECTED', 'FOO');

/** A well-formed frame: a command, a destination and id most commands want, random headers, a body. */
const frame = fc
  .tuple(command, destination, fc.array(header, { maxLength: 6 }), fc.uint8Array({ maxLength: 64 }), fc.boolean())
  .map(([cmd, dest, headers, body, withLength]) => {
    const lines = [cmd, `destination:${dest}`, `id:${dest.length}`, ...headers.map(([n, v]) => `${n}:${v}`)];
    if (withLength) lines.push(`content-length:${body.length}`);
    return Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`), withLength ? Buffer.from(body) : Buffer.from(body.filter((b) => b !== 0)), Buffer.from([0])]);
  });

type Mutation = { kind: 'none' } | { kind: 'flip' | 'cut' | 'insert' | 'repeat'; at: number; bytes: Uint8Array };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 3 },
  fc.record({ kind: fc.constantFrom('flip' as const, 'cut' as const, 'insert' as const, 'repeat' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function mutate(b: Buffer, m: Mutation): Buffer {
  if (m.kind === 'none' || b.length === 0) return b;
  const at = m.at % b.length;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(b);
      out[at] = out[at]! ^ (m.bytes[0]! || 1);
      return out;
    }
    case 'cut':
      return b.subarray(0, at);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    case 'repeat':
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + m.bytes.length), b.subarray(at)]);
  }
}

/** One fuzzed connection: CONNECT (or not), mutated frames in chunks of random size, then end. */
const connection = fc.record({
  connect: fc.oneof(fc.constant(CONNECT_12), fc.constant('CONNECT\naccept-version:1.0\nhost:/\n\n\0'), fc.constant('STOMP\naccept-version:1.1\nhost:/\n\n\0'), fc.constant('')),
  frames: fc.array(fc.tuple(frame, mutation), { minLength: 1, maxLength: 6 }),
  chunk: fc.integer({ min: 1, max: 200 }),
});

describe('STOMP fuzzing from many connections', () => {
  it('closes or answers every mutated stream, and a healthy connection keeps working beside them', async () => {
    const healthy = await RawClient.open(server.port);
    healthy.write(CONNECT_12 + 'SUBSCRIBE\nid:h\ndestination:/queue/fz-healthy\nreceipt:sub\n\n\0');
    expect((await healthy.frame(1)).command).toBe('RECEIPT');
    let round = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(connection, { minLength: 4, maxLength: 10 }), async (conns) => {
        await Promise.all(
          conns.map(async (spec) => {
            const c = await RawClient.open(server.port);
            const bytes = Buffer.concat([Buffer.from(spec.connect), ...spec.frames.map(([f, m]) => mutate(f, m))]);
            for (let i = 0; i < bytes.length; i += spec.chunk) c.write(bytes.subarray(i, i + spec.chunk));
            // The broker answers what it got and closes; a frame left incomplete ends with our end.
            c.socket.end();
            await c.closed;
            for (const f of c.frames) {
              if (f.command === 'ERROR') expect(f.headers.message, f.body.toString()).toBeTruthy();
            }
          }),
        );
        // The healthy connection still publishes and consumes.
        round++;
        const before = healthy.frames.length;
        healthy.write(`SEND\ndestination:/queue/fz-healthy\nreceipt:r${round}\ncontent-length:3\n\nr${String(round % 100).padStart(2, '0')}\0`);
        await healthy.frame(before + 1);
        const got = healthy.frames.slice(before);
        expect(got.map((f) => f.command).sort()).toEqual(['MESSAGE', 'RECEIPT']);
      }),
      { numRuns: 40 },
    );

    // Every fuzzed session was released: only the healthy one is left.
    for (let i = 0; i < 1000 && server.adapter.connectionCount() > 1; i++) await new Promise<void>((r) => setImmediate(r));
    expect(server.adapter.connectionCount()).toBe(1);
    healthy.close();
  });
});

import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameAssembler } from '../../../../protocols/kafka/codec/frame-assembler.js';
import { readFramesDirectly } from '../../../../protocols/kafka/codec/direct-socket-reads.js';
import { FrameTooLargeError } from '../../../../protocols/kafka/codec/frame-splitter.js';
import { RequestBuffers } from '../../../../protocols/kafka/codec/request-buffers.js';
import { makeTestCerts } from '../../../helpers/certs.js';

/** A size-prefixed frame whose body starts with `apiKey` (int16) and is otherwise `fill`ed. */
function frame(apiKey: number, size: number, fill: number): Buffer {
  const f = Buffer.alloc(4 + size, fill);
  f.writeInt32BE(size, 0);
  if (size >= 2) f.writeInt16BE(apiKey, 4);
  return f;
}

const framesArb = fc.array(
  fc.record({ apiKey: fc.constantFrom(0, 1, 3), size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 30_000, max: 70_000 })), fill: fc.integer({ min: 0, max: 255 }) }),
  { minLength: 1, maxLength: 12 },
);

describe('FrameAssembler', () => {
  it('yields every frame intact whatever the read boundaries, with direct reads into large frames', () => {
    fc.assert(
      fc.property(framesArb, fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 40 }), fc.boolean(), (specs, cuts, direct) => {
        const wire = Buffer.concat(specs.map((s) => frame(s.apiKey, s.size, s.fill)));
        const pool = new RequestBuffers();
        const a = new FrameAssembler(1 << 20, pool);
        // One staging buffer reused for every read, as on a socket: a frame that kept a view of it would be overwritten.
        const staging = Buffer.alloc(9000);
        const got: Buffer[] = [];
        let pos = 0;
        let i = 0;
        while (pos < wire.length) {
          const want = cuts[i++ % cuts.length]!;
          const target = direct ? a.directTarget() : null;
          if (target !== null) {
            const n = Math.min(want, target.length, wire.length - pos);
            wire.copy(target, 0, pos, pos + n);
            pos += n;
            got.push(...a.directFilled(n).map((f) => Buffer.from(f)));
          } else {
            const n = Math.min(want, staging.length, wire.length - pos);
            wire.copy(staging, 0, pos, pos + n);
            pos += n;
            const frames = a.push(staging.subarray(0, n));
            staging.fill(0xee);
            got.push(...frames.map((f) => Buffer.from(f)));
          }
        }
        expect(got.length).toBe(specs.length);
        specs.forEach((s, k) => expect(got[k]!.equals(frame(s.apiKey, s.size, s.fill).subarray(4))).toBe(true));
      }),
      { numRuns: 200 },
    );
  });

  it('yields every frame intact when reads come as TLS records (at most 16 KiB each) into the buffer it names', () => {
    // As Node's TLS handle delivers decrypted records to a socket read into user memory: each
    // record is copied into the buffer named last (cut at its length, the rest into the next one
    // named), then the callback runs and the next buffer is asked for.
    const recordArb = fc.oneof(fc.constant(16_384), fc.integer({ min: 1, max: 16_384 }), fc.integer({ min: 1, max: 64 }));
    const bigFramesArb = fc.array(
      fc.record({
        apiKey: fc.constantFrom(0, 1, 3),
        size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1_000, max: 70_000 }), fc.integer({ min: 900_000, max: 1_100_000 })),
        fill: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(bigFramesArb, fc.array(recordArb, { minLength: 1, maxLength: 30 }), (specs, records) => {
        const wire = Buffer.concat(specs.map((s) => frame(s.apiKey, s.size, s.fill)));
        const pool = new RequestBuffers();
        const a = new FrameAssembler(2 << 20, pool);
        const staging = Buffer.alloc(64 * 1024);
        const got: Buffer[] = [];
        let target: Buffer = staging;
        let pos = 0;
        for (let i = 0; pos < wire.length; i++) {
          let rest = Math.min(records[i % records.length]!, wire.length - pos);
          while (rest > 0) {
            const n = Math.min(rest, target.length);
            wire.copy(target, 0, pos, pos + n);
            pos += n;
            rest -= n;
            const frames = target === staging ? a.push(staging.subarray(0, n)) : a.directFilled(n);
            for (const f of frames) {
              got.push(Buffer.from(f));
              if (pool.owns(f)) pool.release(f);
            }
            staging.fill(0xee);
            target = a.directTarget() ?? staging;
          }
        }
        expect(got.length).toBe(specs.length);
        specs.forEach((s, k) => expect(got[k]!.equals(frame(s.apiKey, s.size, s.fill).subarray(4))).toBe(true));
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a direct read once bytes were pushed after the target was named', () => {
    const a = new FrameAssembler(1 << 20, new RequestBuffers());
    a.push(frame(0, 50_000, 1).subarray(0, 100));
    const target = a.directTarget();
    expect(target).not.toBeNull();
    a.push(Buffer.alloc(10));
    expect(() => a.directFilled(10)).toThrow(/not where the frame continues/);
  });

  it('puts large Produce requests in the reused request buffers and nothing else', () => {
    const pool = new RequestBuffers();
    const a = new FrameAssembler(1 << 20, pool);
    const [produce, fetch, small] = a.push(Buffer.concat([frame(0, 40_000, 1), frame(1, 40_000, 2), frame(0, 100, 3)]));
    expect(pool.owns(produce!)).toBe(true);
    expect(pool.owns(fetch!)).toBe(false);
    expect(pool.owns(small!)).toBe(false);
  });

  it('a frame larger than a pooled buffer is kept as it arrives and joined, between small ones', () => {
    const a = new FrameAssembler(8 << 20, new RequestBuffers());
    const big = frame(0, 3_000_000, 0);
    for (let k = 6; k < big.length; k++) big[k] = (k * 7) & 0xff;
    const wire = Buffer.concat([frame(3, 10, 1), big, frame(1, 5, 2)]);
    const staging = Buffer.alloc(65_536);
    const got: Buffer[] = [];
    // 5-byte first read: the size prefix and API key of the large frame span reads.
    for (let pos = 0, step = 19; pos < wire.length; pos += step, step = 65_536) {
      const n = Math.min(step, wire.length - pos);
      wire.copy(staging, 0, pos, pos + n);
      got.push(...a.push(staging.subarray(0, n)).map((f) => Buffer.from(f)));
      expect(a.directTarget()).toBeNull();
      staging.fill(0xee);
    }
    expect(got.map((f) => f.length)).toEqual([10, 3_000_000, 5]);
    expect(got[1]!.equals(big.subarray(4))).toBe(true);
  });

  it('refuses a frame over the limit as soon as its size is known, also when the size spans reads', () => {
    const big = frame(0, 2000, 0).subarray(0, 10);
    expect(() => new FrameAssembler(1000).push(big)).toThrow(FrameTooLargeError);
    const a = new FrameAssembler(1000);
    expect(a.push(big.subarray(0, 2))).toEqual([]);
    expect(() => a.push(big.subarray(2, 4))).toThrow(FrameTooLargeError);
  });
});


/** Reads `socket` with readFramesDirectly into `got` (copies), calling `done` after `count` frames; a 'data' event fails. */
function collectDirectly(socket: Socket, count: number, got: Buffer[], done: () => void): boolean {
  const direct = readFramesDirectly(
    socket,
    new FrameAssembler(2 << 20, new RequestBuffers()),
    (fs) => {
      for (const f of fs) got.push(Buffer.from(f));
      if (got.length === count) done();
    },
    (err) => {
      throw err;
    },
  );
  socket.on('data', () => {
    throw new Error('a data event while reading directly');
  });
  return direct;
}

describe('direct socket reads', () => {
  it('an accepted plain TCP socket is read into reused memory, and a 1 MiB request arrives intact between small ones', async () => {
    const sizes = [50, 1_000_000, 7, 200_000, 3, 1_000_000];
    const frames = sizes.map((size, i) => {
      const f = frame(0, size, 0);
      for (let k = 6; k < f.length; k++) f[k] = (k * 31 + i) & 0xff;
      return f;
    });
    const got: Buffer[] = [];
    let direct = false;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const server = createServer((socket: Socket) => {
      direct = collectDirectly(socket, frames.length, got, done);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    // Odd write sizes, so frames and size prefixes span reads.
    const wire = Buffer.concat(frames);
    for (let pos = 0; pos < wire.length; pos += 77_777) client.write(wire.subarray(pos, pos + 77_777));
    await all;
    client.destroy();
    server.close();
    expect(direct).toBe(true);
    expect(got.length).toBe(frames.length);
    frames.forEach((f, i) => expect(got[i]!.equals(f.subarray(4))).toBe(true));
  });
});

describe('direct TLS socket reads', () => {
  it('an accepted TLS socket is read into reused memory: 1 MiB requests between small ones arrive intact, also when written before the handshake ends', async () => {
    const certs = makeTestCerts();
    const sizes = [50, 1_000_000, 7, 16_380, 200_000, 3, 1_000_000, 16_384];
    const frames = sizes.map((size, i) => {
      const f = frame(0, size, 0);
      for (let k = 6; k < f.length; k++) f[k] = (k * 29 + i) & 0xff;
      return f;
    });
    const got: Buffer[] = [];
    let direct: boolean | null = null;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const server = createTlsServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (socket: TLSSocket) => {
      direct = collectDirectly(socket, frames.length, got, done);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = tlsConnect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', rejectUnauthorized: false });
    // Written at once (TLS sends it after the handshake); odd sizes, so frames, size prefixes and TLS records do not line up.
    const wire = Buffer.concat(frames);
    for (let pos = 0; pos < wire.length; pos += 50_001) client.write(wire.subarray(pos, pos + 50_001));
    await all;
    client.destroy();
    server.close();
    expect(direct).toBe(true);
    expect(got.length).toBe(frames.length);
    frames.forEach((f, i) => expect(got[i]!.equals(f.subarray(4))).toBe(true));
  });
});

import type { Duplex } from 'node:stream';
import stompit from 'stompit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStompServer, type StompServer } from './harness.js';
import { CONNECT_12, RawClient } from './raw-client.js';
import { StalledPeer as StalledPeerBase } from '../../helpers/stalled-peer.js';

/**
 * Slow and vanished clients: what the broker holds for a connection that does not read is
 * bounded, whatever the queue behind it holds; an idle connection that never sends CONNECT is
 * closed. The consumer here is a stream whose writes complete only when the test says so (a
 * socket whose peer stopped reading), handed to the adapter like an accepted socket.
 */
let server: StompServer;

beforeAll(async () => {
  server = await startStompServer();
});
afterAll(async () => {
  await server?.close();
});

/** A STOMP client that does not read until `release()`; counts MESSAGE and RECEIPT frames. */
class StalledPeer extends StalledPeerBase {
  private readonly chunks: Buffer[] = [];
  messages = 0;
  receipts = 0;

  constructor() {
    super(false);
  }

  protected received(chunk: Buffer): void {
    this.chunks.push(chunk);
    // Count frames as they are written (a frame starts a write or follows a NUL; the session
    // never splits one across writes).
    this.messages += countFrames(chunk, 'MESSAGE\n');
    this.receipts += countFrames(chunk, 'RECEIPT\n');
  }

  /** The client writes `text` to the broker. */
  send(text: string): void {
    this.push(Buffer.from(text, 'utf8'));
  }

  written(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

function countFrames(chunk: Buffer, head: string): number {
  let n = 0;
  for (let at = chunk.indexOf(head); at >= 0; at = chunk.indexOf(head, at + head.length)) {
    if (at === 0 || chunk[at - 1] === 0) n++;
  }
  return n;
}

function accept(stream: Duplex): void {
  server.adapter.accept(stream, { listener: 'stomp', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2, tls: false });
}

/** Event-loop turns for the core's dispatch and the session's flushes to run their course. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function fillQueue(queue: string, count: number, bodyBytes: number): Promise<void> {
  const producer = await RawClient.open(server.port);
  producer.write(CONNECT_12);
  const body = 'x'.repeat(bodyBytes);
  let frames = '';
  for (let i = 0; i < count; i++) frames += `SEND\ndestination:/queue/${queue}\n${i === count - 1 ? 'receipt:done\n' : ''}\n${body}\0`;
  producer.write(frames);
  expect((await producer.frame(1)).command).toBe('RECEIPT');
  producer.close();
}

describe('a consumer that stops reading', () => {
  it('gets at most about 1 MiB queued for it, the rest stays in the queue, and all of it once it reads', async () => {
    const count = 4000;
    await fillQueue('slow-auto', count, 1024);
    const peer = new StalledPeer();
    accept(peer);
    peer.send(CONNECT_12 + 'SUBSCRIBE\nid:s\ndestination:/queue/slow-auto\nack:auto\n\n\0');
    await peer.until(() => peer.messages > 0);
    await turns(50);
    // 1 MiB mark plus at most one frame beyond it (and CONNECTED).
    expect(peer.writableLength).toBeLessThan(1024 * 1024 + 4096);
    expect(server.core.vhost('/')!.queue('slow-auto')!.messageCount).toBeGreaterThan(count - 1100);
    peer.release();
    await peer.until(() => peer.messages === count);
    expect(server.core.vhost('/')!.queue('slow-auto')!.messageCount).toBe(0);
    peer.destroy();
  });

  it('is no longer read once it leaves more than 8 MiB of receipts unread, and is read again when it drains', async () => {
    const peer = new StalledPeer();
    accept(peer);
    const receipt = 'r'.repeat(3000);
    peer.send(CONNECT_12);
    const count = 4000; // about 12 MiB of RECEIPT frames
    for (let i = 0; i < count; i++) peer.send(`BEGIN\ntransaction:t${i}\n\n\0ABORT\ntransaction:t${i}\nreceipt:${receipt}-${i}\n\n\0`);
    await peer.until(() => peer.writableLength > 8 * 1024 * 1024);
    await turns(50);
    expect(peer.isPaused()).toBe(true);
    peer.release();
    await peer.until(() => peer.receipts === count);
    expect(peer.written().endsWith(`RECEIPT\nreceipt-id:${receipt}-${count - 1}\n\n\0`)).toBe(true);
    peer.destroy();
  });
});

describe('publisher flow control', () => {
  it('stops reading a publisher while its queue backs up behind a consumer waiting on its socket, and loses nothing', async () => {
    // A long stall allowance: this consumer stops reading on purpose and must not be given up on.
    const fs = await startStompServer({}, { flowControlBacklog: 200, flowControlStallMs: 60_000 });
    const count = 20_000;
    const peer = new StalledPeer();
    fs.adapter.accept(peer, { listener: 'stomp', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2, tls: false });
    const client = await new Promise<stompit.Client>((resolve, reject) =>
      stompit.connect({ host: '127.0.0.1', port: fs.port, connectHeaders: { host: '/', login: 'guest', passcode: 'guest', 'accept-version': '1.2' } }, (err, c) => (err ? reject(err) : resolve(c))),
    );
    try {
      peer.release();
      peer.send(CONNECT_12 + 'SUBSCRIBE\nid:s\ndestination:/queue/flow-held\nack:auto\nreceipt:sub\n\n\0');
      await peer.until(() => peer.receipts === 1);
      peer.stall();
      const body = 'y'.repeat(1024);
      for (let i = 0; i < count; i++) {
        const frame = client.send({ destination: '/queue/flow-held' });
        frame.end(body);
      }
      const publisher = () => fs.core.connections().find((c) => c.published > 0)!;
      while (publisher()?.throttled !== true) await turns(1);
      await turns(50);
      const depth = fs.core.vhost('/').queue('flow-held')!.messageCount;
      expect(depth).toBeGreaterThanOrEqual(200);
      expect(depth).toBeLessThan(1000);
      expect(publisher().published).toBeLessThan(count / 2);

      peer.release();
      await peer.until(() => peer.messages === count);
      expect(publisher().published).toBe(count);
      expect(publisher().throttled).toBe(false);
    } finally {
      peer.destroy();
      client.destroy();
      await fs.close();
    }
  });
});

describe('a connection that never sends CONNECT', () => {
  it('gets ERROR and is closed after the connect timeout', async () => {
    // A server of its own: a short timeout would cut the other tests' CONNECTs on a busy machine.
    const quick = await startStompServer({ connectTimeoutMs: 300 });
    try {
      const c = await RawClient.open(quick.port);
      const f = await c.frame(0);
      expect(f.command).toBe('ERROR');
      expect(f.headers.message).toBe('Connect timeout');
      await c.closed;
    } finally {
      await quick.close();
    }
  });
});

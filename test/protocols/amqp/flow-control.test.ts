import amqp from 'amqplib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpAdapter } from '../../../protocols/amqp/adapter.js';
import { FrameParser, PROTOCOL_HEADER } from '../../../protocols/amqp/codec/frame-parser.js';
import { writeMethodFrame } from '../../../protocols/amqp/codec/method-codec.js';
import { Writer } from '../../../protocols/amqp/codec/writer.js';
import type { MethodArgs, MethodName } from '../../../protocols/amqp/spec/methods.js';
import { MethodId } from '../../../protocols/amqp/spec/methods.js';
import type { ProtocolAdapter } from '../../../src/listeners/adapter.js';
import { startAmqpServer, type AmqpServer } from './harness.js';
import { StalledPeer as StalledPeerBase } from '../../helpers/stalled-peer.js';

/**
 * A consumer that stops reading: what the broker queues in its socket is bounded (about
 * 1 MiB, not the stream's 16 KiB highWaterMark, which a TLS socket reaches on nearly every
 * flush), the rest stays in the queue, and all of it comes once the consumer reads again.
 * The consumer is a stream whose writes complete only when the test says so, handed to the
 * adapter like an accepted socket.
 */
let server: AmqpServer;
let adapter: ProtocolAdapter;

beforeAll(async () => {
  server = await startAmqpServer();
  adapter = createAmqpAdapter(server.core, { log: pino({ level: process.env.AMQP_TEST_LOG ?? 'silent' }) });
});
afterAll(async () => {
  await adapter?.close();
  await server?.close();
});

/** An AMQP client that can stop reading; counts basic.deliver and notes the other methods. */
class StalledPeer extends StalledPeerBase {
  private readonly parser = new FrameParser((type, _channel, payload) => {
    if (type !== 1) return;
    const id = payload.readUInt32BE(0);
    if (id === MethodId.basicDeliver) this.deliveries++;
    else this.methods.add(id);
  }, () => {}, 0, false);
  deliveries = 0;
  /** Ids of the other methods the broker sent. */
  readonly methods = new Set<number>();

  protected received(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  /** Opens the connection (guest) and channel 1. */
  async openChannel(): Promise<void> {
    this.push(PROTOCOL_HEADER);
    await this.until(() => this.methods.has(MethodId.connectionStart));
    this.send(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' });
    await this.until(() => this.methods.has(MethodId.connectionTune));
    this.send(0, 'connection.tune-ok', { channelMax: 2047, frameMax: 131072, heartbeat: 0 });
    this.send(0, 'connection.open', { virtualHost: '/' });
    this.send(1, 'channel.open', {});
    await this.until(() => this.methods.has(MethodId.channelOpenOk));
  }

  /** The client sends a method frame to the broker. */
  send<N extends MethodName>(channel: number, name: N, args: Partial<MethodArgs[N]>): void {
    const w = new Writer(512);
    writeMethodFrame(w, channel, name, args);
    this.push(w.take());
  }
}

/** Event-loop turns for the core's dispatch and the connection's flushes to run their course. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('a consumer that stops reading', () => {
  it('gets at most about 1 MiB queued for it, the rest stays in the queue, and all of it once it reads', async () => {
    const count = 4000;
    const queue = 'amqp-slow-noack';
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: false });
    const body = Buffer.alloc(1024, 0x61);
    for (let i = 0; i < count; i++) ch.sendToQueue(queue, body);
    await ch.waitForConfirms();
    await conn.close();

    const peer = new StalledPeer();
    adapter.accept(peer, { listener: 'amqp', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2, tls: false });
    await peer.openChannel();
    // From here on the peer reads nothing.
    peer.stall();
    peer.send(1, 'basic.consume', { queue, noAck: true });
    await peer.until(() => peer.deliveries > 0);
    await turns(50);
    // The 1 MiB mark plus at most one flush beyond it (the connection writes in pieces of 64 KiB).
    expect(peer.writableLength).toBeGreaterThan(64 * 1024);
    expect(peer.writableLength).toBeLessThan(1024 * 1024 + 128 * 1024);
    expect(server.core.vhost('/').queue(queue)!.messageCount).toBeGreaterThan(count - 1200);
    peer.release();
    await peer.until(() => peer.deliveries === count);
    expect(server.core.vhost('/').queue(queue)!.messageCount).toBe(0);
    peer.destroy();
  });
});

describe('publisher flow control', () => {
  it('stops reading a publisher while its queue backs up behind a consumer waiting on its socket, and loses nothing', async () => {
    // A long stall allowance: this consumer stops reading on purpose and must not be given up on.
    const flowServer = await startAmqpServer({}, { flowControlBacklog: 200, flowControlStallMs: 60_000 });
    const flowAdapter = createAmqpAdapter(flowServer.core, { log: pino({ level: 'silent' }) });
    const queue = 'amqp-flow';
    const count = 20_000;
    const peer = new StalledPeer();
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${flowServer.port}`);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, { durable: false });
      flowAdapter.accept(peer, { listener: 'amqp', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2, tls: false });
      await peer.openChannel();
      peer.stall();
      peer.send(1, 'basic.consume', { queue, noAck: true });
      await peer.until(() => peer.methods.has(MethodId.basicConsumeOk));

      const body = Buffer.alloc(1024, 0x62);
      for (let i = 0; i < count; i++) ch.sendToQueue(queue, body);
      const publisher = () => flowServer.core.connections().find((c) => c.published > 0)!;
      while (publisher()?.throttled !== true) await turns(1);
      await turns(50);
      // Held: the queue stops near the mark (plus the rest of the socket chunk being read), the
      // consumer's socket at about 1 MiB, and the rest waits in the publisher's client and socket.
      const depth = flowServer.core.vhost('/').queue(queue)!.messageCount;
      expect(depth).toBeGreaterThanOrEqual(200);
      expect(depth).toBeLessThan(1000);
      expect(publisher().published).toBeLessThan(count / 2);
      expect(publisher().throttled).toBe(true);

      peer.release();
      await peer.until(() => peer.deliveries === count);
      expect(publisher().published).toBe(count);
      expect(publisher().throttled).toBe(false);
    } finally {
      peer.destroy();
      await conn.close();
      await flowAdapter.close();
      await flowServer.close();
    }
  });
});

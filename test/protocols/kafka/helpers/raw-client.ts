/**
 * A bare Kafka client over a socket, built on our own codec: sends request frames (or any
 * bytes) and reads response frames, for tests of the session's framing and error handling.
 */
import { connect, type Socket } from 'node:net';
import { encodeRequestFrame } from '../../../../protocols/kafka/codec/frame.js';
import { FrameSplitter } from '../../../../protocols/kafka/codec/frame-splitter.js';
import { Reader } from '../../../../protocols/kafka/codec/reader.js';
import { decode, isFlexible, type Message } from '../../../../protocols/kafka/codec/schema-codec.js';
import type { ApiDef } from '../../../../protocols/kafka/schema/types.js';

export class RawKafkaClient {
  private readonly frames: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private readonly splitter = new FrameSplitter(1 << 30);
  closed = false;
  private correlationId = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.frames.push(...this.splitter.push(d));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawKafkaClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Encodes a request; returns its bytes and correlation id (send them with `write`). */
  request(api: ApiDef, version: number, body: Message, correlationId = ++this.correlationId): { bytes: Buffer; correlationId: number } {
    const bytes = encodeRequestFrame({ apiKey: api.apiKey, apiVersion: version, correlationId, clientId: 'raw' }, isFlexible(api.request, version), api.request, body);
    return { bytes, correlationId };
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Next response frame (without its size), or null when the connection closed first. */
  async nextFrame(): Promise<Buffer | null> {
    while (this.frames.length === 0) {
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.frames.shift()!;
  }

  /** Reads a response frame as `api` at `version`: correlation id and body. */
  async response(api: ApiDef, version: number, headerV0 = false): Promise<{ correlationId: number; body: Message }> {
    const frame = await this.nextFrame();
    if (!frame) throw new Error('connection closed');
    const r = new Reader(frame);
    const correlationId = r.int32();
    if (!headerV0 && isFlexible(api.response, version)) r.uvarint();
    const d = decode(api.response, version, r);
    if (d.error !== null) throw new Error(d.error);
    return { correlationId, body: d.value };
  }

  /** Resolves once the broker has closed the connection. */
  async closedByBroker(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  end(): void {
    this.socket.destroy();
  }
}

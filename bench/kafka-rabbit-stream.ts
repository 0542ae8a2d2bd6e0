/**
 * A minimal RabbitMQ stream protocol client for the Kafka bench's peer runs (publish with
 * confirms, consume from the first offset). rabbitmq-stream-js-client 0.4-1.0 cannot be used
 * with the peer: it always sends ExchangeCommandVersions, which RabbitMQ 3.10 (Debian) does not
 * know, and the broker closes the connection.
 *
 * Frames (RabbitMQ stream protocol, PROTOCOL.adoc): uint32 size | uint16 key | uint16 version |
 * body; requests carry a uint32 correlation id first, responses set bit 15 of the key and carry
 * the correlation id and a uint16 response code. Strings are int16-length-prefixed UTF-8.
 */
import { connect, type Socket } from 'node:net';

const K = {
  publish: 2,
  publishConfirm: 3,
  declarePublisher: 1,
  subscribe: 7,
  deliver: 8,
  credit: 9,
  create: 13,
  peerProperties: 17,
  saslHandshake: 18,
  saslAuthenticate: 19,
  tune: 20,
  open: 21,
  heartbeat: 23,
} as const;

function str(s: string): Buffer {
  const b = Buffer.from(s);
  const out = Buffer.alloc(2 + b.length);
  out.writeInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function u8(v: number): Buffer {
  return Buffer.from([v]);
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v, 0);
  return b;
}

export class RabbitStreamClient {
  private buf: Buffer = Buffer.alloc(0);
  private corr = 0;
  private readonly pending = new Map<number, (code: number) => void>();
  private tuneWaiter: ((b: Buffer) => void) | null = null;
  onConfirm: (count: number) => void = () => {};
  onChunk: (records: number) => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
  }

  static async open(port: number, user: string, password: string): Promise<RabbitStreamClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const c = new RabbitStreamClient(socket);
    await c.request(K.peerProperties, u32(0));
    await c.request(K.saslHandshake, Buffer.alloc(0));
    const tune = new Promise<Buffer>((r) => (c.tuneWaiter = r));
    const auth = Buffer.from(`\0${user}\0${password}`);
    await c.request(K.saslAuthenticate, Buffer.concat([str('PLAIN'), u32(auth.length), auth]));
    const t = await tune;
    c.send(K.tune, t); // accept the server's frame max and heartbeat
    await c.request(K.open, str('/'));
    return c;
  }

  private send(key: number, body: Buffer): void {
    this.socket.write(Buffer.concat([u32(4 + body.length), u16(key), u16(1), body]));
  }

  private request(key: number, body: Buffer): Promise<void> {
    const id = ++this.corr;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (code) => (code === 1 ? resolve() : reject(new Error(`stream command ${key} failed with code ${code}`))));
      this.send(key, Buffer.concat([u32(id), body]));
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const size = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + size) break;
      const f = this.buf.subarray(4, 4 + size);
      this.buf = this.buf.subarray(4 + size);
      this.onFrame(f);
    }
  }

  private onFrame(f: Buffer): void {
    const key = f.readUInt16BE(0);
    if (key & 0x8000) {
      const id = f.readUInt32BE(4);
      const code = f.readUInt16BE(8);
      const done = this.pending.get(id);
      this.pending.delete(id);
      done?.(code);
      return;
    }
    switch (key) {
      case K.tune:
        this.tuneWaiter?.(f.subarray(4, 12));
        break;
      case K.publishConfirm:
        this.onConfirm(f.readInt32BE(5));
        break;
      case K.deliver: {
        // subscriptionId u8, then the osiris chunk header: magic/version i8, type i8,
        // numEntries u16, numRecords u32, ...
        const records = f.readUInt32BE(4 + 1 + 4);
        this.send(K.credit, Buffer.concat([u8(0), u16(1)]));
        this.onChunk(records);
        break;
      }
      default:
        break; // heartbeats, metadata updates
    }
  }

  createStream(name: string): Promise<void> {
    return this.request(K.create, Buffer.concat([str(name), u32(0)]));
  }

  declarePublisher(stream: string): Promise<void> {
    return this.request(K.declarePublisher, Buffer.concat([u8(0), str(''), str(stream)]));
  }

  /** Publishes `count` copies of `body` with publishing ids from `firstId`. */
  publish(firstId: number, count: number, body: Buffer): void {
    const parts: Buffer[] = [u8(0), u32(count)];
    for (let i = 0; i < count; i++) {
      const id = Buffer.alloc(8);
      id.writeBigUInt64BE(BigInt(firstId + i), 0);
      parts.push(id, u32(body.length), body);
    }
    this.send(K.publish, Buffer.concat(parts));
  }

  /** Subscribes from the first offset with `credit` chunks of credit. */
  subscribeFirst(stream: string, credit: number): Promise<void> {
    return this.request(K.subscribe, Buffer.concat([u8(0), str(stream), u16(1), u16(credit), u32(0)]));
  }

  close(): void {
    this.socket.destroy();
  }
}

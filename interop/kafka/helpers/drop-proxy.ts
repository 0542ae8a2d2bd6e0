/**
 * A TCP proxy between Kafka clients and the broker that can lose one produce response: the
 * broker has appended the batch, the client never hears so, its connection is cut, and it
 * retries the same batch (same producer id, epoch and sequence). While "held", new client
 * connections wait unforwarded (so the broker can be restarted before the retry arrives).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';

const PRODUCE = 0;

export class DropProxy extends EventEmitter {
  port = 0;
  produceRequests = 0;
  droppedResponses = 0;
  private dropArmed = false;
  private holdAfterDrop = false;
  private holding = false;
  private held: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor(private readonly target: () => number) {
    super();
    this.server = createServer((client) => this.accept(client));
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /**
   * The next produce response is dropped (and its connection cut). Resolves once it has been.
   * `hold`: connections made after the drop wait until `release()`.
   */
  dropNextProduceResponse(hold = false): Promise<void> {
    this.dropArmed = true;
    this.holdAfterDrop = hold;
    return new Promise((resolve) => this.once('dropped', resolve));
  }

  release(): void {
    this.holding = false;
    const waiting = this.held;
    this.held = [];
    waiting.forEach((w) => w());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    client.pause();
    const start = () => {
      if (client.destroyed) return;
      const upstream = connect(this.target(), '127.0.0.1');
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      this.pipe(client, upstream);
      client.resume();
    };
    if (this.holding) this.held.push(start);
    else start();
  }

  /** Forwards frames both ways, noting produce correlation ids and dropping one response when armed. */
  private pipe(client: Socket, upstream: Socket): void {
    const produceIds = new Set<number>();
    frames(client, (frame) => {
      const apiKey = frame.readInt16BE(4);
      if (apiKey === PRODUCE) {
        this.produceRequests++;
        produceIds.add(frame.readInt32BE(8));
      }
      upstream.write(frame);
    });
    frames(upstream, (frame) => {
      const correlationId = frame.readInt32BE(4);
      if (produceIds.delete(correlationId) && this.dropArmed) {
        this.dropArmed = false;
        this.droppedResponses++;
        this.holding = this.holdAfterDrop;
        client.destroy();
        upstream.destroy();
        this.emit('dropped');
        return;
      }
      client.write(frame);
    });
  }
}

/** Calls `onFrame` with each size-prefixed frame (size included) read from `socket`. */
function frames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0) + 4;
      if (buf.length < size) break;
      onFrame(buf.subarray(0, size));
      buf = buf.subarray(size);
    }
  });
}

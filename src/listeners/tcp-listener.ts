import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionOrigin } from './adapter.js';
import { bindDualStack, normalizeAddress, type BoundAddress } from './bind.js';

export type ConnectionHandler = (socket: Socket, origin: ConnectionOrigin) => void;

/**
 * A TCP listener for one protocol. It hands each accepted socket to `onConnection` (the
 * protocol adapter, or the refusal of an absent one) and remembers it until it closes, so
 * shutdown can end whatever the adapter left open.
 */
export class TcpListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** One 'close' handler for every socket (`this` is the socket): no closure per connection. */
  private readonly forget: (this: Socket) => void;
  address: BoundAddress | undefined;

  constructor(
    readonly name: string,
    private readonly onConnection: ConnectionHandler,
    private readonly log: Logger,
  ) {
    const sockets = this.sockets;
    this.forget = function (this: Socket) {
      sockets.delete(this);
    };
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => this.log.error({ err, listener: name }, 'listener error'));
  }

  async listen(host: string, port: number): Promise<BoundAddress> {
    this.address = await bindDualStack(this.server, this.name, host, port);
    return this.address;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', this.forget);
    const origin: ConnectionOrigin = {
      listener: this.name,
      remoteAddress: normalizeAddress(socket.remoteAddress),
      remotePort: socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
      tls: false,
    };
    try {
      this.onConnection(socket, origin);
    } catch (err) {
      this.log.error({ err, listener: this.name, remote: origin.remoteAddress }, 'connection handler failed; closing the connection');
      socket.destroy();
    }
  }

  /** Stops accepting new connections; open ones stay. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
  }

  openConnections(): number {
    return this.sockets.size;
  }

  /** Ends every connection still open (after the adapter had its chance to close them politely). */
  destroyConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

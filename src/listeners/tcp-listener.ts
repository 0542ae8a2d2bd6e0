import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { CertificateUser } from '../config/index.js';
import type { ConnectionOrigin } from './adapter.js';
import { bindDualStack, normalizeAddress, type BoundAddress } from './bind.js';
import { certificateUserOf } from './tls-context.js';

/** A TLS listener's settings: server options (tls-context.ts) and how a client certificate names its user. */
export interface TcpListenerTls {
  options: TlsOptions;
  certificateUser: CertificateUser;
}

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
    private readonly tls?: TcpListenerTls,
  ) {
    const sockets = this.sockets;
    this.forget = function (this: Socket) {
      sockets.delete(this);
    };
    if (tls) {
      const server = createTlsServer({ ...tls.options, noDelay: true }, (socket) => this.accept(socket));
      // Sockets in their handshake count too: shutdown ends them, and the fuzz test's half-open handshakes are bounded by handshakeTimeout.
      server.on('connection', (raw: Socket) => {
        sockets.add(raw);
        raw.on('close', this.forget);
      });
      server.on('tlsClientError', (err, socket) => {
        if (log.isLevelEnabled('debug')) log.debug({ err: err.message, listener: name, remote: normalizeAddress(socket.remoteAddress) }, 'TLS handshake failed');
        socket.destroy();
      });
      this.server = server;
    } else {
      this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    }
    this.server.on('error', (err) => this.log.error({ err, listener: name }, 'listener error'));
  }

  /** Swaps the certificate, key and CA for new connections (open ones keep theirs). */
  setSecureContext(options: SecureContextOptions): void {
    if (this.tls) (this.server as TlsServer).setSecureContext(options);
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
      tls: this.tls !== undefined,
    };
    if (this.tls) {
      const user = certificateUserOf(socket as TLSSocket, this.tls.certificateUser);
      if (user !== undefined) origin.certificateUser = user;
    }
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

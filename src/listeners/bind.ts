import type { Server } from 'node:net';

export interface BoundAddress {
  /** The address actually bound (`0.0.0.0` when `::` had to fall back). */
  host: string;
  port: number;
}

/** A listener could not bind; names the listener, address and reason. */
export class ListenError extends Error {
  constructor(
    readonly listener: string,
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    cause: Error,
  ) {
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : cause.message;
    super(`listener ${listener} cannot listen on ${formatHostPort(host, port)}: ${why}`, { cause });
    this.name = 'ListenError';
  }
}

/** `[::]:5672`, `0.0.0.0:5672`, `localhost:5672`. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function listenOnce(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    // ipv6Only false: `::` also accepts IPv4 (as ::ffff:a.b.c.d), like RabbitMQ and Kafka.
    server.listen({ host, port, ipv6Only: false, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Binds `server` to host:port. `::` (dual-stack) falls back to `0.0.0.0` on hosts without
 * IPv6. Resolves to the bound address, with the real port when `port` was 0.
 */
export async function bindDualStack(server: Server, listener: string, host: string, port: number): Promise<BoundAddress> {
  let bound = host;
  try {
    await listenOnce(server, host, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const noIpv6 = code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL' || code === 'EINVAL';
    if (host !== '::' || !noIpv6) throw new ListenError(listener, host, port, code, err as Error);
    bound = '0.0.0.0';
    try {
      await listenOnce(server, bound, port);
    } catch (err2) {
      throw new ListenError(listener, bound, port, (err2 as NodeJS.ErrnoException).code, err2 as Error);
    }
  }
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`listener ${listener}: unexpected address ${String(address)}`);
  return { host: bound, port: address.port };
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`, so loopback checks and logs see plain IPv4. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** True for 127.0.0.0/8 and ::1 (the guest user is accepted from loopback only). */
export function isLoopback(address: string): boolean {
  const a = normalizeAddress(address);
  return a === '::1' || a.startsWith('127.');
}

import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { BrokerConfig, ListenerName } from '../config/index.js';
import type { Core } from '../core/index.js';

/** Where a connection came from, as the listener saw it. */
export interface ConnectionOrigin {
  listener: string;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  tls: boolean;
  /**
   * The user named by a verified TLS client certificate (its subject CN or DN, per the
   * listener's `tls.certificateUser`), when there is one: AMQP EXTERNAL, the Kafka SSL
   * principal, MQTT/STOMP login from the certificate.
   */
  certificateUser?: string;
  /** Set when the connection arrived as a WebSocket (`/mqtt`, `/ws`). */
  websocket?: { path: string; protocol: string };
}

/**
 * A protocol adapter as the broker lifecycle sees it. Each adapter (protocols/<name>/)
 * exports a factory; the broker hands it accepted byte streams and stops it on shutdown.
 */
export interface ProtocolAdapter {
  readonly protocol: 'amqp' | 'mqtt' | 'stomp' | 'kafka';
  /** Takes ownership of an accepted connection (a net.Socket, a TLS socket or a WebSocket stream). */
  accept(stream: Duplex, origin: ConnectionOrigin): void;
  /** Number of open connections, for the ready line, metrics and limits. */
  connectionCount(): number;
  /** Stops taking work: closes every connection politely (protocol close where it has one). */
  close(): Promise<void>;
  /**
   * `limits.maxConnectionWriteBufferBytes`: the connection on `stream` has more output waiting
   * than that (a client that does not read). The adapter closes it with its protocol's error
   * (AMQP connection.close 320, MQTT 5 DISCONNECT 0x97, STOMP ERROR, Kafka: the socket closes)
   * and returns true; false when `stream` is not one of its connections.
   */
  closeOverfull?(stream: Duplex): boolean;
}

/** The text every adapter gives a client closed for not reading its output. */
export function overfullReason(limitBytes: number): string {
  return `more than ${limitBytes} bytes of output waiting for the client to read (limits.maxConnectionWriteBufferBytes)`;
}

export interface AdapterContext {
  log: Logger;
  /** The validated configuration (adapters read their own section, e.g. `config.kafka`). */
  config?: BrokerConfig;
  /**
   * Where a listener is actually bound (port 0 resolved), e.g. for Kafka's advertised
   * address; undefined before it is bound or when it is disabled.
   */
  listenerAddress?(name: ListenerName): { host: string; port: number } | undefined;
}

/** What `src/adapters.ts` registers per protocol: `createAmqpAdapter`, `createMqttAdapter`, ... */
export type AdapterFactory = (core: Core, ctx: AdapterContext) => ProtocolAdapter;

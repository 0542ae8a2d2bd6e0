/**
 * One handler per API key (redpanda's handler.h): the API, the lowest and highest version it
 * serves, and `handle`, which gets the decoded request and returns the response body (or null
 * when Kafka sends no response: Produce with acks=0). Handlers never touch bytes; failures
 * become Kafka error codes in the response. ApiVersions is computed from this table.
 */
import type { AuthenticatedUser, Connection } from '../../../src/core/index.js';
import type { Message } from '../codec/schema-codec.js';
import type { ApiDef } from '../schema/types.js';
import type { KafkaNode } from '../node.js';

/** What a handler knows about the connection a request came on. */
export interface ConnectionState {
  readonly id: number;
  readonly remoteAddress: string;
  /** The local address and port the client connected to (advertised when not configured). */
  readonly localAddress: string;
  readonly localPort: number;
  clientId: string | null;
  clientSoftwareName: string | null;
  clientSoftwareVersion: string | null;
  /** Authenticated user (SASL), or null. */
  principal: string | null;
  /** The authenticated user (SASL or TLS client certificate) whose permissions apply; null = unauthenticated (no checks, Kafka without an authorizer). */
  user: AuthenticatedUser | null;
  /** Mechanism chosen by SaslHandshake, null before it. */
  saslMechanism: string | null;
  /** SaslHandshake v0: the next frames are raw SASL tokens, not Kafka requests. */
  saslRawTokens: boolean;
  /** State of a SCRAM exchange in progress. */
  saslState: unknown;
  /** Close once this response is written (failed authentication, as Kafka does). */
  closeAfterResponse: boolean;
  /** The core connection (opened on first use). */
  core(): Connection;
  /** Opens the core connection if it can (management lists the client); never throws. */
  registerWithCore(): void;
  /** Aborted when the connection closes (ends long polls and pending joins). */
  readonly closed: AbortSignal;
}

export interface RequestContext {
  readonly node: KafkaNode;
  readonly conn: ConnectionState;
  readonly apiVersion: number;
  /**
   * Called by a handler that let something keep a view of the request's bytes (a stored or
   * routed batch): the session then does not reuse the request buffer.
   */
  readonly retainRequest?: () => void;
}

export interface Handler {
  readonly api: ApiDef;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: Message, ctx: RequestContext): Message | null | Promise<Message | null>;
}

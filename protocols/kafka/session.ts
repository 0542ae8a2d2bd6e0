/**
 * One Kafka client connection: framing, header parsing, dispatch to the handler table,
 * responses in request order, SASL gating, and connection-level errors.
 *
 * Requests are dispatched as they arrive (pipelining); each takes a slot in an in-order queue,
 * and a response is written only when every earlier one has been, so a long-polling Fetch holds
 * back later responses exactly as on a Kafka broker. As Kafka does:
 * - an unknown API key, or an unsupported version of any API but ApiVersions, closes the
 *   connection; ApiVersions of an unsupported version is answered in v0 with
 *   UNSUPPORTED_VERSION and our ranges (KIP-511), so the client can retry with one we support;
 * - a malformed or truncated request closes only this connection, logged with its API key and version;
 * - a request larger than `maxRequestBytes` closes the connection before it is buffered.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AuthenticatedUser, Connection } from '../../src/core/index.js';
import type { ConnectionOrigin } from '../../src/listeners/adapter.js';
import { FrameSplitter, FrameTooLargeError } from './codec/frame-splitter.js';
import { FrameAssembler } from './codec/frame-assembler.js';
import { readFramesDirectly } from './codec/direct-socket-reads.js';
import { RequestBuffers } from './codec/request-buffers.js';
import { encodeResponseFrame, encodeResponseFrameSpliced, readHeaderRest, readHeaderStart, type RequestHeader } from './codec/frame.js';
import { Reader } from './codec/reader.js';
import { decode, isFlexible, type Message } from './codec/schema-codec.js';
import { Writer } from './codec/writer.js';
import { ErrorCode } from './mapping/errors.js';
import { apiKeyRanges } from './handlers/api-versions.js';
import type { ConnectionState, Handler, RequestContext } from './handlers/handler.js';
import type { KafkaNode } from './node.js';
import { apiVersions } from './schema/apis.js';

const PRODUCE = 0;
const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

/** Fetch responses splice stored batches of at least this size instead of copying them. */
const SPLICE_MIN_BYTES = 16 * 1024;
const FETCH = 1;

/** Shared by every connection of the process (a buffer is in one request at a time). */
const requestBuffers = new RequestBuffers();

interface Slot {
  done: boolean;
  /** One Buffer, or segments written in order (a Fetch response around its stored batches). */
  frame: Buffer | Buffer[] | null;
  closeAfter: boolean;
}

export class KafkaSession implements ConnectionState {
  clientId: string | null = null;
  clientSoftwareName: string | null = null;
  clientSoftwareVersion: string | null = null;
  principal: string | null = null;
  user: AuthenticatedUser | null = null;
  saslMechanism: string | null = null;
  saslRawTokens = false;
  saslState: unknown = null;
  closeAfterResponse = false;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly localPort: number;

  /** Reading 'data' events (WebSocket) when not reading directly. */
  private readonly splitter: FrameSplitter | null;
  readonly direct: boolean;
  private readonly writer = new Writer();
  private readonly slots: Slot[] = [];
  private readonly abort = new AbortController();
  private coreConnection: Connection | null = null;
  /** Produce requests waiting for a resource alarm to clear (they keep their order). */
  private heldProduces = 0;
  /** Reading stopped until the socket drains / until the store has written its backlog. */
  private waitingForDrain = false;
  private waitingForStore = false;
  private ended = false;
  readonly log: Logger;

  constructor(
    private readonly node: KafkaNode,
    private readonly stream: Duplex,
    origin: ConnectionOrigin,
    readonly id: number,
    private readonly onClosed: (session: KafkaSession) => void,
  ) {
    this.remoteAddress = origin.remoteAddress;
    if (origin.certificateUser !== undefined) {
      // Kafka's SSL principal: the client certificate's subject is the user (ssl.principal.mapping.rules).
      this.principal = origin.certificateUser;
      this.user = node.core.users.principal(origin.certificateUser);
    }
    const local = (stream as { localAddress?: string }).localAddress;
    this.localAddress = local && local !== '::' && local !== '0.0.0.0' ? local.replace(/^::ffff:/, '') : '127.0.0.1';
    this.localPort = origin.localPort;
    this.log = node.log.child({ protocol: 'kafka', connId: id, remote: `${origin.remoteAddress}:${origin.remotePort}` });
    // Responses are written whole (one frame per write, corked per tick): Nagle would only add
    // delayed-ACK stalls to request/response round trips.
    (stream as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    // TCP and TLS sockets: reads go into reused memory (see direct-socket-reads.ts); 'data' then never
    // fires, but its listener keeps the stream flowing so that 'end' is emitted.
    this.direct = readFramesDirectly(stream, new FrameAssembler(node.options.maxRequestBytes, requestBuffers), (frames) => this.onFrames(frames), (err) => this.onFramingError(err));
    this.splitter = this.direct ? null : new FrameSplitter(node.options.maxRequestBytes, requestBuffers);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err) => this.log.debug({ err }, 'socket error'));
    stream.on('close', () => this.teardown());
    stream.on('end', () => this.close());
  }

  owns(stream: Duplex): boolean {
    return this.stream === stream;
  }

  get closed(): AbortSignal {
    return this.abort.signal;
  }

  core(): Connection {
    if (!this.coreConnection || this.coreConnection.closed) {
      this.coreConnection = this.node.core.connect({
        vhost: this.node.options.vhost,
        protocol: 'kafka',
        clientId: this.clientId ?? '',
        user: this.principal ?? '',
        remote: this.remoteAddress,
        clientProperties: { clientId: this.clientId ?? '', ...(this.clientSoftwareName ? { softwareName: this.clientSoftwareName, softwareVersion: this.clientSoftwareVersion ?? '' } : {}) },
        onCloseRequest: () => this.close(),
      });
    }
    return this.coreConnection;
  }

  /** Opens the core connection unless the vhost is gone or a connection limit refuses it (handlers then report that in their terms). */
  registerWithCore(): void {
    if (!this.node.core.hasVhost(this.node.options.vhost)) return;
    try {
      this.core();
    } catch {
      // Refused: see above.
    }
  }

  /** Ends the connection (pending responses are dropped). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.end();
    this.stream.destroy();
    this.teardown();
  }

  private teardown(): void {
    if (this.abort.signal.aborted) return;
    this.ended = true;
    this.abort.abort();
    const c = this.coreConnection;
    this.coreConnection = null;
    if (c) void c.close().catch((err: unknown) => this.log.warn({ err }, 'core connection close failed'));
    this.onClosed(this);
  }

  private onData(chunk: Buffer): void {
    if (this.ended || this.splitter === null) return;
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (e) {
      this.onFramingError(e);
      return;
    }
    this.onFrames(frames);
  }

  private onFramingError(e: unknown): void {
    if (this.ended) return;
    if (e instanceof FrameTooLargeError) {
      this.log.warn({ size: e.size, limit: e.limit }, 'request larger than maxRequestBytes: closing connection');
    } else this.log.warn({ err: e }, 'framing or request error: closing connection');
    this.close();
  }

  private onFrames(frames: Buffer[]): void {
    for (const frame of frames) {
      if (this.ended) return;
      this.onFrame(frame);
    }
    // Write backpressure (as the AMQP adapter's): while the store has more appended than it
    // has written (core.writable), stop reading. Without it a producer faster than the disk
    // filled memory with unwritten batches (100-190 MB seen with kcat) and every one of them
    // cost a fresh buffer, page faults and garbage collections.
    if (!this.waitingForStore && !this.node.core.writable) {
      this.waitingForStore = true;
      this.stream.pause();
      void this.node.core.whenWritable().then(() => {
        this.waitingForStore = false;
        this.resumeReading();
      });
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.saslRawTokens) {
      this.onRawSaslToken(frame);
      return;
    }
    const r = new Reader(frame);
    const header = readHeaderStart(r);
    if (r.bad !== null) {
      this.log.warn({ bytes: frame.length }, 'truncated request header: closing connection');
      this.close();
      return;
    }
    const handler = this.node.handlers.get(header.apiKey);
    if (!handler) {
      this.log.warn({ apiKey: header.apiKey, apiVersion: header.apiVersion }, 'unknown API key: closing connection');
      this.close();
      return;
    }
    if (header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) {
      if (header.apiKey === API_VERSIONS) {
        this.respondUnsupportedApiVersions(header);
        return;
      }
      this.log.warn({ apiKey: header.apiKey, api: handler.api.name, apiVersion: header.apiVersion }, 'unsupported API version: closing connection');
      this.close();
      return;
    }
    readHeaderRest(r, header, isFlexible(handler.api.request, header.apiVersion));
    if (this.clientId === null && header.clientId !== null) this.clientId = header.clientId;
    const sasl = this.node.options.sasl;
    if (sasl?.required && this.principal === null && header.apiKey !== API_VERSIONS && header.apiKey !== SASL_HANDSHAKE && header.apiKey !== SASL_AUTHENTICATE) {
      this.log.warn({ apiKey: header.apiKey, api: handler.api.name }, 'request before SASL authentication: closing connection');
      this.close();
      return;
    }
    const decoded = r.bad === null ? decode(handler.api.request, header.apiVersion, r) : { value: null, error: r.bad };
    if (decoded.error !== null) {
      this.log.warn(
        { apiKey: header.apiKey, api: handler.api.name, apiVersion: header.apiVersion, correlationId: header.correlationId, reason: decoded.error },
        'malformed request: closing connection',
      );
      this.close();
      return;
    }
    if (this.log.isLevelEnabled('trace')) this.log.trace({ api: handler.api.name, apiVersion: header.apiVersion, correlationId: header.correlationId }, 'request');
    this.dispatch(handler, header, decoded.value, frame);
    // Register with the core from the first request (ApiVersions names the client and its
    // software), or once SASL has named the user, so management lists idle clients too.
    const authenticating = header.apiKey === SASL_HANDSHAKE || header.apiKey === SASL_AUTHENTICATE || (header.apiKey === API_VERSIONS && sasl !== null && this.principal === null);
    if (this.coreConnection === null && !authenticating && !this.ended) this.registerWithCore();
  }

  private dispatch(handler: Handler, header: RequestHeader, request: Message, frame: Buffer): void {
    const slot: Slot = { done: false, frame: null, closeAfter: false };
    this.slots.push(slot);
    // A pooled Produce request goes back to the pool when its handler is done, unless the
    // handler says something kept a view of it.
    let reusable = requestBuffers.owns(frame);
    const ctx: RequestContext = {
      node: this.node,
      conn: this,
      apiVersion: header.apiVersion,
      retainRequest: () => {
        reusable = false;
      },
    };
    const recycle = (): void => {
      if (reusable) requestBuffers.release(frame);
      reusable = false;
    };
    const finish = (body: Message | null): void => {
      recycle();
      if (body !== null && !this.ended) {
        const flexibleHeader = header.apiKey !== API_VERSIONS && isFlexible(handler.api.response, header.apiVersion);
        try {
          slot.frame =
            header.apiKey === FETCH
              ? encodeResponseFrameSpliced(this.writer, header.correlationId, flexibleHeader, handler.api.response, header.apiVersion, body, SPLICE_MIN_BYTES)
              : encodeResponseFrame(this.writer, header.correlationId, flexibleHeader, handler.api.response, header.apiVersion, body);
        } catch (err) {
          this.log.error({ err, api: handler.api.name, apiVersion: header.apiVersion }, 'response encoding failed: closing connection');
          slot.closeAfter = true;
        }
      }
      if (this.closeAfterResponse) {
        slot.closeAfter = true;
        this.closeAfterResponse = false;
      }
      slot.done = true;
      this.flush();
    };
    const fail = (err: unknown): void => {
      reusable = false;
      this.log.error({ err, api: handler.api.name, apiVersion: header.apiVersion }, 'request handler failed: closing connection');
      slot.closeAfter = true;
      slot.done = true;
      this.flush();
    };
    const run = (): void => {
      try {
        const result = handler.handle(request, ctx);
        if (result instanceof Promise) result.then(finish, fail);
        else finish(result);
      } catch (err) {
        fail(err);
      }
    };
    if (header.apiKey === PRODUCE && (this.node.core.blocked || this.heldProduces > 0)) {
      // Resource alarm: hold this producer (and stop reading from it) until the alarm clears.
      this.heldProduces++;
      if (this.heldProduces === 1) this.log.info('resource alarm: holding produce requests');
      this.stream.pause();
      void this.node.whenUnblocked().then(() => {
        this.heldProduces--;
        this.resumeReading();
        run();
      });
      return;
    }
    run();
  }

  private respondUnsupportedApiVersions(header: RequestHeader): void {
    const slot: Slot = { done: true, frame: null, closeAfter: false };
    slot.frame = encodeResponseFrame(this.writer, header.correlationId, false, apiVersions.response, 0, {
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      apiKeys: apiKeyRanges(this.node.handlers),
    });
    this.slots.push(slot);
    this.flush();
  }

  /** SaslHandshake v0: tokens come as bare size-prefixed frames and replies go back the same way. */
  private onRawSaslToken(token: Buffer): void {
    const slot: Slot = { done: false, frame: null, closeAfter: false };
    this.slots.push(slot);
    const auth = this.node.authenticator;
    const failed = (e: unknown): void => {
      this.log.warn({ mechanism: this.saslMechanism, reason: (e as Error).message }, 'kafka authentication failed');
      slot.closeAfter = true;
      slot.done = true;
      this.flush();
    };
    if (!auth || this.saslMechanism === null) return failed(new Error('no SASL mechanism selected'));
    auth.step(this.saslMechanism, token, this.saslState, this.remoteAddress).then((step) => {
      this.saslState = step.state;
      if (step.user !== null) {
        this.principal = step.user.name;
        this.user = step.user;
        this.saslRawTokens = false;
        this.log.info({ user: step.user.name, mechanism: this.saslMechanism }, 'kafka client authenticated');
        if (this.coreConnection === null) this.registerWithCore();
      }
      const frame = Buffer.allocUnsafe(4 + step.reply.length);
      frame.writeInt32BE(step.reply.length, 0);
      step.reply.copy(frame, 4);
      slot.frame = frame;
      slot.done = true;
      this.flush();
    }, failed);
  }

  /** limits.maxConnectionWriteBufferBytes (set by the adapter). */
  maxOutputBytes = 64 * 1024 * 1024;

  /**
   * A client that sends requests without reading the responses (a Fetch storm): Kafka has no
   * error frame for it, so the connection closes, as a Kafka broker closes on a bad request.
   */
  closeOverfull(): void {
    if (this.ended) return;
    this.log.warn({ waiting: this.stream.writableLength, maxConnectionWriteBufferBytes: this.maxOutputBytes }, 'client not reading its responses: closing the connection');
    this.close();
  }

  private flush(): void {
    if (this.ended) return;
    if (this.stream.writableLength > this.maxOutputBytes) return this.closeOverfull();
    let corked = false;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      if (slot.frame) {
        if (!corked) {
          this.stream.cork();
          corked = true;
        }
        let ok = true;
        if (Array.isArray(slot.frame)) for (const part of slot.frame) ok = this.stream.write(part) && ok;
        else ok = this.stream.write(slot.frame);
        if (!ok) this.pauseUntilDrain();
      }
      if (slot.closeAfter) {
        if (corked) this.stream.uncork();
        this.ended = true;
        this.stream.end();
        return;
      }
    }
    if (corked) process.nextTick(() => this.stream.uncork());
  }

  private pauseUntilDrain(): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.stream.pause();
    this.stream.once('drain', () => {
      this.waitingForDrain = false;
      this.resumeReading();
    });
  }

  /** Resumes reading once nothing holds it: a resource alarm, a full socket, the store's backlog. */
  private resumeReading(): void {
    if (!this.ended && this.heldProduces === 0 && !this.waitingForDrain && !this.waitingForStore) this.stream.resume();
  }
}

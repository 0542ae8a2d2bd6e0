import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { isCoreError, type Connection, type Core } from '../../../src/core/index.js';
import { overfullReason, type ConnectionOrigin } from '../../../src/listeners/adapter.js';
import { AmqpChannelError, AmqpConnectionError } from '../codec/errors.js';
import { plainTable, tableString, type FieldTable } from '../codec/field-table.js';
import { FrameParser, PROTOCOL_HEADER } from '../codec/frame-parser.js';
import { HEARTBEAT_FRAME } from '../codec/hot-frames.js';
import { decodeMethod, FrameType, writeMethodFrame } from '../codec/method-codec.js';
import { Writer } from '../codec/writer.js';
import { amqpErrorFromCore } from '../mapping/errors.js';
import type { MethodArgs, MethodName } from '../spec/methods.js';
import { MethodId } from '../spec/methods.js';
import { ReplyCode, replyText } from '../spec/reply-codes.js';
import { offeredMechanisms, parseSaslResponse, type Authenticate, type Mechanism } from './auth.js';
import { AmqpChannel } from './channel.js';
import type { DirectReplyRegistry } from '../mapping/direct-reply-to.js';
import { Heartbeat } from './heartbeat.js';
import { FRAME_MIN_SIZE, negotiateTune } from './tune.js';
import { serverProperties } from './server-properties.js';
import { authorizeResource, authorizeTopic } from './permissions.js';
import type { AuthenticatedUser } from '../../../src/core/index.js';

/** Limits the server proposes in connection.tune (RabbitMQ's defaults). */
export interface AmqpLimits {
  frameMax: number;
  channelMax: number;
  heartbeatSec: number;
  handshakeTimeoutMs: number;
}

/** Bytes waiting in the socket past which deliveries pause until 'drain' (a client reading slower than we deliver). */
const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;

export const DEFAULT_LIMITS: AmqpLimits = { frameMax: 131072, channelMax: 2047, heartbeatSec: 60, handshakeTimeoutMs: 10_000 };


export interface ConnectionDeps {
  core: Core;
  log: Logger;
  authenticate: Authenticate;
  limits: AmqpLimits;
  version: string;
  directReply: DirectReplyRegistry;
  /** limits.maxConnectionWriteBufferBytes: output waiting for the client past which the connection is closed. */
  maxOutputBytes: number;
  onClosed(c: AmqpConnection): void;
}

type State = 'header' | 'start-ok' | 'tune-ok' | 'open' | 'running' | 'closing' | 'closed';

/**
 * One AMQP 0-9-1 connection: protocol header, start/tune/open handshake, channel table,
 * heartbeats, connection exceptions, blocking on resource alarms, and the output slab that is
 * written to the socket once per tick.
 */
export class AmqpConnection {
  readonly writer: Writer = new Writer(64 * 1024, (bytes) => this.write(bytes));
  log: Logger;
  state: State = 'header';
  /** negotiated; what we split outgoing bodies by and accept incoming frames up to */
  frameMax = FRAME_MIN_SIZE;
  channelMax = 0;
  heartbeatSec = 0;
  capabilities: FieldTable = new Map();
  clientProperties: FieldTable = new Map();
  user = '';
  /** The authenticated user (set after start-ok); permissions are checked on it live. */
  principal: AuthenticatedUser | null = null;
  vhostName = '';
  core: Connection | null = null;
  private readonly channels = new Map<number, AmqpChannel>();
  private readonly parser: FrameParser;
  private flushScheduled = false;
  private readonly heartbeat = new Heartbeat(
    () => {
      this.writer.ensure(HEARTBEAT_FRAME.length);
      this.writer.bytes(HEARTBEAT_FRAME);
      this.flush();
    },
    () => {
      this.log.info({ heartbeatSec: this.heartbeatSec }, `missed heartbeats from client, timeout: ${this.heartbeatSec}s`);
      this.destroy();
    },
  );
  private handshakeTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private mechanism: Mechanism = 'PLAIN';
  /** reading paused because a publish arrived while the core is blocked by an alarm */
  private pausedForAlarm = false;
  /** reading paused because the store has too many unwritten bytes */
  private pausedForStore = false;
  /** reading paused by publisher flow control (a queue it published to waits on a consumer's socket) */
  private pausedForFlow = false;
  private pausedForBackpressure = false;
  private readonly unsubscribeAlarm: () => void;

  constructor(
    readonly stream: Duplex,
    readonly origin: ConnectionOrigin,
    readonly deps: ConnectionDeps,
    readonly id: number,
  ) {
    this.log = deps.log.child({ protocol: 'amqp', connId: id, remote: `${origin.remoteAddress}:${origin.remotePort}` });
    this.parser = new FrameParser(
      (type, channel, payload) => this.onFrame(type, channel, payload),
      (header) => this.onProtocolHeader(header),
      FRAME_MIN_SIZE,
    );
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err) => {
      this.log.debug({ err }, 'socket error');
      this.teardown();
    });
    stream.on('close', () => this.teardown());
    stream.on('end', () => this.teardown());
    stream.on('drain', () => this.onDrain());
    this.handshakeTimer = setTimeout(() => {
      this.log.info('handshake timeout');
      this.destroy();
    }, deps.limits.handshakeTimeoutMs);
    this.unsubscribeAlarm = deps.core.onAlarm((e) => this.onAlarm(e.blocked));
  }

  // ---- input -----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.heartbeat.received();
    try {
      this.parser.push(chunk);
    } catch (e) {
      this.fail(e, 0);
    }
  }

  private onProtocolHeader(header: Buffer): void {
    if (!header.equals(PROTOCOL_HEADER)) {
      // §4.2.2: answer with the version we speak, then close.
      this.log.info({ header: header.toString('hex') }, 'unsupported protocol header');
      this.parser.stopped = true;
      this.stream.end(PROTOCOL_HEADER);
      this.state = 'closed';
      return;
    }
    this.state = 'start-ok';
    this.sendMethod(0, 'connection.start', {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: serverProperties(this.deps.version),
      mechanisms: Buffer.from(offeredMechanisms(this.origin).join(' ')),
      locales: Buffer.from('en_US'),
    });
  }

  private onFrame(type: number, channel: number, payload: Buffer): void {
    if (this.state === 'closed') return;
    if (type === FrameType.HEARTBEAT) {
      if (channel !== 0) throw new AmqpConnectionError(ReplyCode.FRAME_ERROR, `heartbeat frame on channel ${channel}`);
      return;
    }
    if (this.state === 'closing') {
      // After sending connection.close only close and close-ok matter (§2.2.4).
      if (type === FrameType.METHOD && channel === 0 && payload.length >= 4) {
        const id = payload.readUInt32BE(0);
        if (id === MethodId.connectionCloseOk) this.destroy();
        else if (id === MethodId.connectionClose) {
          this.sendMethod(0, 'connection.close-ok', {});
          this.flush();
          this.destroy();
        }
      }
      return;
    }
    if (channel === 0) {
      if (type !== FrameType.METHOD) throw new AmqpConnectionError(ReplyCode.UNEXPECTED_FRAME, `expected method frame on channel 0, got frame type ${type}`);
      this.onConnectionMethod(payload);
      return;
    }
    if (this.state !== 'running') throw new AmqpConnectionError(ReplyCode.CHANNEL_ERROR, `frame on channel ${channel} before connection.open`);
    const ch = this.channels.get(channel);
    if (!ch) {
      if (type === FrameType.METHOD && payload.length >= 4 && payload.readUInt32BE(0) === MethodId.channelOpen) {
        this.openChannel(channel);
        return;
      }
      throw new AmqpConnectionError(ReplyCode.CHANNEL_ERROR, `expected 'channel.open' on channel ${channel}`);
    }
    try {
      ch.onFrame(type, payload);
    } catch (e) {
      this.fail(e, channel);
    }
  }

  private openChannel(channel: number): void {
    // RabbitMQ counts open channels: the one past channel_max is 530 in its words.
    if (this.channels.size >= this.channelMax) {
      throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, `number of channels opened (${this.channels.size}) has reached the negotiated channel_max (${this.channelMax})`);
    }
    if (channel > this.channelMax) {
      throw new AmqpConnectionError(ReplyCode.CHANNEL_ERROR, `channel ${channel} is above the negotiated channel_max ${this.channelMax}`, 20, 10);
    }
    const ch = new AmqpChannel(this, channel, this.core!.openChannel());
    this.channels.set(channel, ch);
    this.sendMethod(channel, 'channel.open-ok', { channelId: Buffer.alloc(0) });
  }

  /** Called by a channel once its close handshake is done. */
  releaseChannel(channel: number): void {
    this.channels.delete(channel);
  }

  private onConnectionMethod(payload: Buffer): void {
    const { method, args } = decodeMethod(payload);
    const expect = (id: number, name: string) => {
      if (method.id !== id) throw new AmqpConnectionError(ReplyCode.COMMAND_INVALID, `expected '${name}', got '${method.name}'`, method.classId, method.methodId);
    };
    switch (this.state) {
      case 'start-ok': {
        expect(MethodId.connectionStartOk, 'connection.start-ok');
        const a = args as MethodArgs['connection.start-ok'];
        this.clientProperties = a.clientProperties;
        const caps = a.clientProperties.get('capabilities');
        if (caps?.type === 'F') this.capabilities = caps.value;
        if (!(offeredMechanisms(this.origin) as string[]).includes(a.mechanism)) {
          throw new AmqpConnectionError(ReplyCode.COMMAND_INVALID, `unknown authentication mechanism '${a.mechanism}'`, 10, 11);
        }
        this.mechanism = a.mechanism as Mechanism;
        this.authenticate(a.response);
        return;
      }
      case 'tune-ok': {
        expect(MethodId.connectionTuneOk, 'connection.tune-ok');
        this.onTuneOk(args as MethodArgs['connection.tune-ok']);
        return;
      }
      case 'open': {
        expect(MethodId.connectionOpen, 'connection.open');
        this.onOpen(args as MethodArgs['connection.open']);
        return;
      }
      case 'running':
        switch (method.id) {
          case MethodId.connectionClose:
            this.sendMethod(0, 'connection.close-ok', {});
            this.flush();
            this.state = 'closed';
            this.parser.stopped = true;
            this.releaseCore();
            this.stream.end();
            return;
          case MethodId.connectionUpdateSecret:
            // PLAIN/AMQPLAIN secrets do not expire; RabbitMQ re-checks with the backend and
            // answers update-secret-ok, so do we.
            this.sendMethod(0, 'connection.update-secret-ok', {});
            return;
          case MethodId.connectionCloseOk:
            return;
          default:
            throw new AmqpConnectionError(ReplyCode.COMMAND_INVALID, `unexpected method '${method.name}' on channel 0`, method.classId, method.methodId);
        }
      default:
        return;
    }
  }

  private authenticate(response: Buffer): void {
    const creds = parseSaslResponse(this.mechanism, response, this.origin);
    const refuse = (reason: string) => {
      this.log.info({ reason, mechanism: this.mechanism }, 'login refused');
      const text = `Login was refused using authentication mechanism ${this.mechanism}. For details see the broker logfile.`;
      if (this.capabilities.get('authentication_failure_close')?.value === true) {
        this.closeWithError(new AmqpConnectionError(ReplyCode.ACCESS_REFUSED, text, 10, 11));
      } else {
        // Clients without the capability expect the socket to be closed (pre-3.2 behaviour).
        this.destroy();
      }
    };
    if (!creds) {
      refuse('malformed SASL response');
      return;
    }
    Promise.resolve(this.deps.authenticate(creds, this.origin))
      .then((r) => {
        if (this.state !== 'start-ok') return;
        if (!r.ok) return refuse(r.reason);
        this.user = r.user.name;
        this.principal = r.user;
        this.state = 'tune-ok';
        const l = this.deps.limits;
        this.sendMethod(0, 'connection.tune', { channelMax: l.channelMax, frameMax: l.frameMax, heartbeat: l.heartbeatSec });
      })
      .catch((e: unknown) => this.fail(e, 0));
  }

  private onTuneOk(a: MethodArgs['connection.tune-ok']): void {
    const t = negotiateTune(this.deps.limits, a);
    this.frameMax = t.frameMax;
    this.parser.frameMax = t.frameMax;
    this.channelMax = t.channelMax;
    this.heartbeatSec = t.heartbeatSec;
    this.state = 'open';
    this.heartbeat.start(this.heartbeatSec);
  }

  private onOpen(a: MethodArgs['connection.open']): void {
    const vhost = a.virtualHost;
    if (!this.deps.core.hasVhost(vhost)) {
      throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, `vhost ${vhost} not found`, 10, 40);
    }
    if (!this.principal?.mayAccessVhost(vhost)) {
      throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, `access to vhost '${vhost}' refused for user '${this.user}'`, 10, 40);
    }
    this.vhostName = vhost;
    try {
      this.core = this.deps.core.connect({
        vhost,
        protocol: 'amqp',
        user: this.user,
        clientId: tableString(this.clientProperties, 'connection_name') ?? '',
        remote: `${this.origin.remoteAddress}:${this.origin.remotePort}`,
        clientProperties: plainTable(this.clientProperties),
        onCloseRequest: (reason) => this.closeWithError(new AmqpConnectionError(ReplyCode.CONNECTION_FORCED, `broker forced connection closure with reason '${reason}'`)),
      });
    } catch (e) {
      // A missing vhost or a vhost connection limit: NOT_ALLOWED on the connection, as RabbitMQ.
      if (isCoreError(e)) throw new AmqpConnectionError(ReplyCode.NOT_ALLOWED, e.message, 10, 40);
      throw e;
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.state = 'running';
    this.log = this.log.child({ vhost, user: this.user });
    this.log.debug('connection opened');
    this.sendMethod(0, 'connection.open-ok', { knownHosts: '' });
  }

  // ---- output ----------------------------------------------------------------------------

  sendMethod<N extends MethodName>(channel: number, name: N, args: Partial<MethodArgs[N]>): void {
    writeMethodFrame(this.writer, channel, name, args);
    this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.writer.pending === 0) return;
    this.write(this.writer.take());
  }

  private write(bytes: Buffer): void {
    if (this.stream.destroyed) return;
    this.heartbeat.sent();
    this.stream.write(bytes);
    // Deliveries pause past our own mark, not when write() returns false (the stream's 16 KiB
    // highWaterMark): one flush of deliveries is bigger than that. Over plain TCP the write
    // completes at once and 'drain' follows on the next tick, but a TLS socket completes every
    // write asynchronously, so pausing there stalled deliveries for an event-loop turn after
    // nearly every flush (issue 12: TLS at half the plain rate). 'drain' resumes them (write()
    // returned false on the way past the mark).
    if (!this.pausedForBackpressure && this.stream.writableLength > OUTPUT_HIGH_WATER_BYTES) {
      this.pausedForBackpressure = true;
      for (const ch of this.channels.values()) ch.setSocketFlow(false);
    }
    // Replies that flow control does not hold (basic.get-ok, RPC replies) can still pile up
    // for a client that sends without reading.
    if (this.stream.writableLength > this.deps.maxOutputBytes) this.closeOverfull();
  }

  private overfull = false;

  /** limits.maxConnectionWriteBufferBytes passed: connection.close 320, then the socket goes (closeWithError's timer). */
  closeOverfull(): void {
    if (this.overfull) return;
    this.overfull = true;
    this.log.warn({ waiting: this.stream.writableLength, maxConnectionWriteBufferBytes: this.deps.maxOutputBytes }, 'client not reading its output: closing the connection');
    this.closeWithError(new AmqpConnectionError(ReplyCode.CONNECTION_FORCED, overfullReason(this.deps.maxOutputBytes)));
  }

  private onDrain(): void {
    if (!this.pausedForBackpressure) return;
    this.pausedForBackpressure = false;
    for (const ch of this.channels.values()) ch.setSocketFlow(true);
  }

  // ---- alarms ----------------------------------------------------------------------------

  /**
   * As RabbitMQ 3.10: only a connection that publishes during an alarm is blocked and told so
   * (afterPublish); one that only consumes never sees connection.blocked (a client with a
   * blocked-connection timeout, such as pika's, would otherwise drop it).
   */
  private onAlarm(blocked: boolean): void {
    if (blocked || !this.pausedForAlarm || this.state !== 'running') return;
    this.pausedForAlarm = false;
    if (this.wantsBlockedNotice()) this.sendMethod(0, 'connection.unblocked', {});
    this.updateReading();
  }

  private wantsBlockedNotice(): boolean {
    return this.capabilities.get('connection.blocked')?.value === true;
  }

  /** Throws ACCESS_REFUSED unless the user has `perm` on the named queue or exchange. */
  authorize(kind: 'queue' | 'exchange', name: string, perm: 'configure' | 'write' | 'read', classId: number, methodId: number): void {
    if (!this.principal) throw new AmqpConnectionError(ReplyCode.ACCESS_REFUSED, 'not authenticated', classId, methodId);
    authorizeResource(this.principal, this.vhostName, kind, name, perm, classId, methodId);
  }

  /**
   * Throws ACCESS_REFUSED unless the user's topic permissions on `exchange` allow `routingKey`.
   * As in RabbitMQ they apply to topic exchanges only (looked up only when they would refuse).
   */
  authorizeTopic(exchange: string, routingKey: string, perm: 'write' | 'read', classId: number, methodId: number): void {
    if (!this.principal) throw new AmqpConnectionError(ReplyCode.ACCESS_REFUSED, 'not authenticated', classId, methodId);
    if (this.principal.allowsTopic(this.vhostName, exchange, routingKey, perm, tableString(this.clientProperties, 'connection_name'))) return;
    const type = this.core?.vhost.exchange(exchange)?.type;
    if (type !== undefined && type !== 'topic') return;
    authorizeTopic(this.principal, this.vhostName, exchange, routingKey, perm, classId, methodId, tableString(this.clientProperties, 'connection_name'));
  }

  /**
   * Called after each publish: a publishing connection stops being read while the core is
   * blocked by an alarm, while the store has too much unwritten data (backpressure), or while
   * publisher flow control throttles it (RabbitMQ's "flow" state).
   */
  afterPublish(): void {
    const core = this.deps.core;
    if (this.core?.throttled && !this.pausedForFlow) {
      this.pausedForFlow = true;
      this.updateReading();
      void this.core.whenUnthrottled().then(() => {
        this.pausedForFlow = false;
        this.updateReading();
      });
    }
    if (core.blocked && !this.pausedForAlarm) {
      this.pausedForAlarm = true;
      if (this.wantsBlockedNotice()) {
        const reason = [...core.alarms].map((k) => (k === 'disk' ? 'low on disk' : 'low on memory')).join(' & ');
        this.sendMethod(0, 'connection.blocked', { reason });
      }
      this.updateReading();
    }
    if (!core.writable && !this.pausedForStore) {
      this.pausedForStore = true;
      this.updateReading();
      core.whenWritable().then(
        () => {
          this.pausedForStore = false;
          this.updateReading();
        },
        () => {},
      );
    }
  }

  private updateReading(): void {
    if (this.state === 'closed') return;
    const held = this.pausedForAlarm || this.pausedForStore || this.pausedForFlow;
    this.heartbeat.hold(held);
    if (held) this.stream.pause();
    else this.stream.resume();
  }

  // ---- errors and closing ----------------------------------------------------------------

  /** Routes an error to a channel close, a connection close, or INTERNAL_ERROR. */
  fail(e: unknown, channel: number): void {
    if (this.state === 'closed') return;
    if (e instanceof AmqpChannelError && channel !== 0) {
      const ch = this.channels.get(channel);
      if (ch) ch.closeWithError(e);
      // A channel already gone (closed by the client meanwhile) has nobody left to tell.
      return;
    }
    if (isCoreError(e)) {
      const mapped = amqpErrorFromCore(e, 0, 0);
      return this.fail(mapped, channel);
    }
    if (e instanceof AmqpConnectionError || e instanceof AmqpChannelError) {
      this.closeWithError(e instanceof AmqpConnectionError ? e : new AmqpConnectionError(e.replyCode, e.detail, e.classId, e.methodId));
      return;
    }
    this.log.error({ err: e }, 'internal error');
    this.closeWithError(new AmqpConnectionError(ReplyCode.INTERNAL_ERROR, (e as Error)?.message ?? String(e)));
  }

  closeWithError(e: AmqpConnectionError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.log.info({ replyCode: e.replyCode }, e.message);
    if (this.state === 'header') {
      this.destroy();
      return;
    }
    this.sendMethod(0, 'connection.close', { replyCode: e.replyCode, replyText: replyText(e.replyCode, e.detail), classId: e.classId, methodId: e.methodId });
    this.flush();
    this.state = 'closing';
    this.releaseCore();
    // Wait briefly for close-ok, then drop the socket (RabbitMQ waits up to 3 s).
    this.closeTimer = setTimeout(() => this.destroy(), 3000);
    this.closeTimer.unref();
  }

  /** Broker shutdown: connection.close 320 CONNECTION_FORCED, as RabbitMQ does. */
  shutdown(): Promise<void> {
    return new Promise((resolve) => {
      if (this.state === 'closed') return resolve();
      this.stream.once('close', () => resolve());
      if (this.state === 'running') this.closeWithError(new AmqpConnectionError(ReplyCode.CONNECTION_FORCED, 'broker forced connection closure with reason \'shutdown\''));
      else this.destroy();
      setTimeout(() => {
        this.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  private releaseCore(): void {
    for (const ch of this.channels.values()) ch.release();
    this.channels.clear();
    const c = this.core;
    this.core = null;
    if (c) c.close().catch((err: unknown) => this.log.warn({ err }, 'closing core connection failed'));
  }

  destroy(): void {
    this.stream.destroy();
    this.teardown();
  }

  private teardown(): void {
    if (this.torndown) return;
    this.torndown = true;
    this.state = 'closed';
    this.parser.stopped = true;
    this.heartbeat.stop();
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.handshakeTimer = this.closeTimer = null;
    this.unsubscribeAlarm();
    this.releaseCore();
    this.deps.directReply.dropConnection(this);
    if (!this.stream.destroyed) this.stream.destroy();
    this.deps.onClosed(this);
  }

  private torndown = false;
}

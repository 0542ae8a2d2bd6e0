import { randomBytes } from 'node:crypto';
import type { AuthenticatedUser } from '../../src/core/index.js';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Channel, Connection, Core, Delivery, Message } from '../../src/core/index.js';
import type { ConnectionOrigin } from '../../src/listeners/adapter.js';
import type { StompAuthenticator } from './auth.js';
import type { ClientCommand, ServerCommand } from './codec/commands.js';
import { encodeFrame, HEARTBEAT } from './codec/encoder.js';
import { headerOf, type StompFrame } from './codec/frame.js';
import { StompParser, type StompParserLimits } from './codec/parser.js';
import { StompError } from './errors.js';
import { FrameOutput } from './frame-output.js';
import type { Handler } from './handlers/handler.js';
import { HANDLERS } from './handlers/index.js';
import type { HeartBeatSettings, NegotiatedHeartBeat } from './heart-beat.js';
import { HeartBeatMonitor } from './heart-beat-monitor.js';
import { ReceiptQueue } from './receipt-queue.js';
import { toStompError } from './mapping/errors.js';
import { writeMessageFrame } from './mapping/message-frame.js';
import type { SendTarget } from './mapping/send-target.js';
import { commandHeaders } from './spec/headers.js';
import { SUPPORTED_VERSIONS } from './spec/versions.js';
import type { StompVersion } from './spec/versions.js';
import type { Subscription } from './subscription.js';

export interface StompSessionOptions {
  authenticate: StompAuthenticator;
  heartBeat: HeartBeatSettings;
  limits: StompParserLimits;
  /** The CONNECTED `server` header. */
  serverName: string;
  /** Vhost for a CONNECT without `host`, or whose `host` names no vhost. */
  defaultVhost: string;
  /** A connection that has not completed CONNECT by then is closed (a vanished or idle client). */
  connectTimeoutMs: number;
  /** Most transactions one connection may have open at once. */
  maxTransactions: number;
  /** Bytes (bodies plus a fixed cost per operation) one connection's open transactions may hold. */
  maxTransactionBytes: number;
}

/** An operation held in a transaction until COMMIT (STOMP 1.2 "BEGIN"). */
export type TransactionOp =
  | { kind: 'send'; target: SendTarget; message: Message; receipt: string | undefined }
  | { kind: 'ack'; subscription: Subscription; deliveryTag: number }
  | { kind: 'nack'; subscription: Subscription; deliveryTag: number; requeue: boolean | undefined };

type State = 'connecting' | 'open' | 'closing' | 'closed';

interface ParseFailure {
  parseError: unknown;
}

/**
 * Unwritten output (frames of this turn plus bytes queued in the stream) beyond which
 * deliveries pause: the core stops handing this connection messages until the socket drains,
 * so a slow consumer costs at most about this much memory, however deep its queue.
 */
const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * Bytes queued in the stream beyond which the connection is no longer read either: a client
 * that keeps sending frames that are answered (RECEIPTs) while it never reads would otherwise
 * grow our output without bound. Deliveries stopped long before (OUTPUT_HIGH_WATER_BYTES).
 */
const OUTPUT_HARD_LIMIT_BYTES = 8 * 1024 * 1024;

/** Every ERROR's `version` header. */
const ERROR_VERSIONS = SUPPORTED_VERSIONS.join(',');

/** Frames queued while an earlier frame's handler is still running, before reading pauses. */
const INBOX_HIGH_WATER = 256;

/**
 * One STOMP connection: bytes in → parser → one handler per command, strictly in order (a
 * handler may be async: SUBSCRIBE declares a queue, CONNECT authenticates; later frames wait);
 * deliveries and replies → FrameOutput → one socket write per event-loop turn.
 */
export class StompSession {
  readonly sessionId = `session-${randomBytes(12).toString('base64url')}`;
  version: StompVersion = '1.0';
  user = '';
  /** The authenticated user whose permissions apply (src/core/auth); null until CONNECT, or when a test's authenticator gives none. */
  principal: AuthenticatedUser | null = null;
  /** CONNECT's `client-id` header, for `{client_id}` in topic permissions. */
  clientId: string | undefined;
  connection: Connection | null = null;
  /** The channel SENDs publish on. */
  publisher: Channel | null = null;
  readonly subscriptions = new Map<string, Subscription>();
  readonly subscriptionsByChannel = new Map<number, Subscription>();
  readonly transactions = new Map<string, TransactionOp[]>();
  /** What the open transactions hold (handlers/transaction.ts), bounded by maxTransactionBytes. */
  transactionBytes = 0;
  /** Parsed SEND destinations (a session sends to few destinations, many times). */
  readonly sendTargets = new Map<string, SendTarget>();
  /** `/temp-queue/<name>` → the private queue created for it. */
  readonly tempQueues = new Map<string, string>();
  /** Set once a SEND was published: resource alarms block such connections. */
  hasPublished = false;

  private state: State = 'connecting';
  private readonly parser: StompParser;
  private readonly out = new FrameOutput();
  private flushScheduled = false;
  /** Deliveries are paused (setFlow(false) on every subscription) until the output drains. */
  private writeBlocked = false;
  /** Reading is paused because the client does not read what we write. */
  private outputBlocked = false;
  /** Reading stopped until the store catches up or publisher flow control lets go (notePublished). */
  private publishPaused = false;
  /** Frames (or the parse error that ended the stream) waiting behind an async handler. */
  private inbox: Array<StompFrame | ParseFailure> = [];
  private parseFailed = false;
  /** A frame failed: nothing more is read; its ERROR waits for earlier frames' RECEIPTs. */
  private failing = false;
  private inputEnded = false;
  private busy = false;
  private readPaused = false;
  private alarmBlocked = false;
  private readonly receipts = new ReceiptQueue(
    (receiptId) => {
      if (this.state === 'open') this.writeFrame('RECEIPT', ['receipt-id', receiptId]);
    },
    (e, receiptId) => this.fail(e, receiptId),
  );
  private heartBeat: HeartBeatMonitor | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly stream: Duplex,
    readonly origin: ConnectionOrigin,
    readonly core: Core,
    readonly options: StompSessionOptions,
    readonly log: Logger,
    private readonly onClosed: (session: StompSession) => void,
  ) {
    this.parser = new StompParser((frame) => this.onFrame(frame), options.limits);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('drain', () => this.onDrain());
    stream.on('error', (err) => {
      this.log.debug({ err }, 'stream error');
      this.shutdown();
    });
    stream.on('close', () => this.shutdown());
    // The client finished sending (it may still read): answer what it sent, then close.
    stream.on('end', () => {
      this.inputEnded = true;
      this.finishInputIfDone();
    });
    this.connectTimer = setTimeout(() => {
      if (this.state === 'connecting') {
        this.fail(new StompError('Connect timeout', `no CONNECT completed within ${options.connectTimeoutMs} ms`));
      }
    }, options.connectTimeoutMs);
    this.connectTimer.unref();
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** The version a WebSocket subprotocol pins (`v12.stomp`), used when CONNECT has no accept-version. */
  get websocketVersion(): StompVersion | undefined {
    const p = this.origin.websocket?.protocol;
    return p === 'v10.stomp' ? '1.0' : p === 'v11.stomp' ? '1.1' : p === 'v12.stomp' ? '1.2' : undefined;
  }

  // ---------------------------------------------------------------------------------------
  // Input

  private onData(chunk: Buffer): void {
    this.heartBeat?.noteRead();
    if (this.state === 'closing' || this.state === 'closed' || this.parseFailed || this.failing) return;
    try {
      this.parser.push(chunk);
    } catch (e) {
      // Frames decoded before the bad bytes are answered first (CONNECTED, receipts), then ERROR.
      this.parseFailed = true;
      if (this.busy || this.inbox.length > 0) this.inbox.push({ parseError: e });
      else this.failFrame(e);
    }
  }

  private onFrame(frame: StompFrame): void {
    if (this.state === 'closing' || this.state === 'closed' || this.failing) return;
    if (this.busy || this.inbox.length > 0) {
      this.inbox.push(frame);
      if (this.inbox.length >= INBOX_HIGH_WATER) this.pauseReading();
      return;
    }
    this.run(frame);
  }

  private run(frame: StompFrame): void {
    let result: void | Promise<void>;
    try {
      result = this.dispatch(frame);
    } catch (e) {
      this.failFrame(e, headerOf(frame.headers, 'receipt'));
      return;
    }
    if (result !== undefined) {
      this.busy = true;
      result.then(
        () => {
          this.busy = false;
          this.drainInbox();
        },
        (e: unknown) => {
          this.busy = false;
          this.failFrame(e, headerOf(frame.headers, 'receipt'));
        },
      );
    }
  }

  private drainInbox(): void {
    while (!this.busy && !this.failing && this.inbox.length > 0 && this.state !== 'closing' && this.state !== 'closed') {
      const next = this.inbox.shift()!;
      if ('parseError' in next) this.failFrame(next.parseError);
      else this.run(next);
    }
    if (this.inbox.length === 0) this.resumeReading();
    this.finishInputIfDone();
  }

  private finishInputIfDone(): void {
    if (!this.inputEnded || this.busy || this.inbox.length > 0) return;
    if (this.state === 'closing' || this.state === 'closed') return;
    void this.receipts.written().then(() => this.closeAfterFlush());
  }

  private dispatch(frame: StompFrame): void | Promise<void> {
    const command = frame.command as ClientCommand;
    if (this.state === 'connecting' && command !== 'CONNECT' && command !== 'STOMP') {
      throw new StompError('Not connected', `the first frame must be CONNECT or STOMP, got ${frame.command}`);
    }
    const handler = (HANDLERS as Partial<Record<string, Handler>>)[frame.command];
    if (handler === undefined) {
      throw new StompError('Bad command', `${frame.command} is a server frame; clients may not send it`);
    }
    if (this.state === 'open') {
      const spec = commandHeaders(this.version, command);
      if (spec === undefined) throw new StompError('Bad command', `${command} does not exist in STOMP ${this.version}`);
      for (const name of spec.required) {
        if (headerOf(frame.headers, name) === undefined) {
          throw new StompError(`Missing ${name}`, `${command} frames require a '${name}' header (STOMP ${this.version})`);
        }
      }
    }
    return handler(this, frame);
  }

  private pauseReading(): void {
    if (!this.readPaused) {
      this.readPaused = true;
      this.heartBeat?.hold(true);
      this.stream.pause();
    }
  }

  private resumeReading(): void {
    if (this.readPaused && !this.alarmBlocked && !this.outputBlocked && !this.publishPaused && this.inbox.length === 0) {
      this.readPaused = false;
      this.heartBeat?.hold(false);
      this.stream.resume();
    }
  }

  /** Resource alarm from the core: stop reading from connections that publish (RabbitMQ's "blocking"). */
  setAlarmBlocked(blocked: boolean): void {
    this.alarmBlocked = blocked && this.hasPublished;
    if (this.alarmBlocked) this.pauseReading();
    else this.resumeReading();
  }

  /**
   * Called by SEND handlers: a publish while an alarm is active blocks reading after this frame;
   * so does a store with too many unwritten bytes, or publisher flow control (a queue it
   * published to waits on a consumer's socket), until they let go.
   */
  notePublished(): void {
    this.hasPublished = true;
    if (this.core.blocked && !this.alarmBlocked) this.setAlarmBlocked(true);
    if (this.publishPaused) return;
    const wait = this.connection?.throttled ? this.connection.whenUnthrottled() : !this.core.writable ? this.core.whenWritable() : null;
    if (wait === null) return;
    this.publishPaused = true;
    this.pauseReading();
    void wait.then(() => {
      this.publishPaused = false;
      this.notePublished();
      this.resumeReading();
    });
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle

  /** CONNECT succeeded: from now on frames are checked against the version's header table. */
  open(connection: Connection, user: string, version: StompVersion, heartBeat: NegotiatedHeartBeat): void {
    this.connection = connection;
    this.publisher = connection.openChannel();
    this.user = user;
    this.version = version;
    this.state = 'open';
    this.clearConnectTimer();
    this.startHeartBeat(heartBeat);
  }

  /** Switches the parser's escaping before the next frame is decoded (called synchronously from CONNECT). */
  setVersion(version: StompVersion): void {
    this.version = version;
    this.parser.version = version;
  }

  private startHeartBeat(negotiated: NegotiatedHeartBeat): void {
    this.heartBeat = new HeartBeatMonitor(
      negotiated,
      this.options.heartBeat.graceFactor,
      () => {
        this.out.bytes(HEARTBEAT);
        this.flush();
      },
      (silentMs) =>
        this.fail(new StompError('Heart-beat timeout', `no data from the client for more than ${silentMs} ms (heart-beat ${negotiated.receiveMs} ms)`)),
    );
    this.heartBeat.start();
    if (this.readPaused) this.heartBeat.hold(true);
  }

  /**
   * A client frame's error. Frames before it were handled, and their RECEIPTs may still wait for
   * durability: those go out first, so the client learns what was done, then the ERROR.
   */
  private failFrame(e: unknown, receiptId?: string): void {
    if (this.receipts.idle) {
      this.fail(e, receiptId);
      return;
    }
    this.failing = true;
    this.inbox.length = 0;
    void this.receipts.written().then(() => this.fail(e, receiptId));
  }

  /** Sends ERROR for `e` and closes (STOMP 1.2: the server MUST close after ERROR). */
  fail(e: unknown, receiptId?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const err = toStompError(e).withReceipt(receiptId);
    this.log.debug({ message: err.message, details: err.details }, 'ERROR sent');
    // RabbitMQ's ERROR head: message, content-type, the versions this server speaks, receipt-id.
    const headers = ['message', err.message.replace(/[\r\n]/g, ' '), 'content-type', 'text/plain', 'version', ERROR_VERSIONS, ...err.headers];
    if (err.receiptId !== undefined) headers.push('receipt-id', err.receiptId);
    this.writeFrame('ERROR', headers, Buffer.from(err.details, 'utf8'));
    this.closeAfterFlush();
  }

  /** Flushes what is queued, ends the stream, and releases everything. */
  closeAfterFlush(): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.flush();
    this.stream.end();
    this.closeTimer = setTimeout(() => this.stream.destroy(), 1000);
    this.closeTimer.unref();
    this.release();
  }

  /** Closes with an ERROR telling the client why (broker shutdown). */
  async shutdownPolitely(reason: string): Promise<void> {
    if (this.state === 'connecting' || this.state === 'open') this.fail(new StompError('Server shutdown', reason));
    await this.releasing;
  }

  private releasing: Promise<void> | null = null;

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private release(): Promise<void> {
    if (this.releasing !== null) return this.releasing;
    this.clearConnectTimer();
    this.heartBeat?.stop();
    // A disconnect discards open transactions (STOMP 1.2 "ABORT"; nothing was applied yet).
    this.transactions.clear();
    this.transactionBytes = 0;
    this.inbox = [];
    const connection = this.connection;
    this.releasing = (connection === null ? Promise.resolve() : connection.close()).catch((err: unknown) => {
      this.log.warn({ err }, 'closing core connection failed');
    });
    return this.releasing;
  }

  private shutdown(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (!this.stream.destroyed) this.stream.destroy();
    void this.release().then(() => this.onClosed(this));
  }

  // ---------------------------------------------------------------------------------------
  // Output

  writeFrame(command: ServerCommand, headers: readonly string[], body?: Buffer): void {
    this.out.bytes(encodeFrame(command, headers, body, this.version));
    this.scheduleFlush();
  }

  /** A core delivery for `sub`, written as a MESSAGE frame. */
  deliver(sub: Subscription, delivery: Delivery): void {
    if (this.state !== 'open') return;
    writeMessageFrame(this.out, sub.head, delivery);
    this.scheduleFlush();
    // Checked per delivery, not only at flush: one dispatch could otherwise move a whole
    // backlog into this turn's output before the socket ever sees it.
    if (!this.writeBlocked && this.out.pendingBytes + this.stream.writableLength > OUTPUT_HIGH_WATER_BYTES) this.pauseDeliveries();
  }

  /**
   * Sends RECEIPT for a frame's `receipt` header once `durable` holds (the frame's effect is
   * as durable as the mode promises) and every earlier receipt has gone out.
   */
  receipt(receiptId: string | undefined, durable?: Promise<unknown>): void {
    this.receipts.add(receiptId, durable);
  }

  /** Resolves once every receipt asked for so far is written (DISCONNECT waits for it). */
  receiptsWritten(): Promise<void> {
    return this.receipts.written();
  }

  private scheduleFlush(): void {
    this.heartBeat?.noteWrite();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.state === 'closed' || this.stream.destroyed) {
      this.out.take();
      return;
    }
    const pieces = this.out.take();
    if (pieces.length === 0) return;
    if (pieces.length === 1) {
      this.stream.write(pieces[0]);
    } else if (this.origin.websocket !== undefined) {
      // Each write is one WebSocket message: keep frames whole (a large body is its own piece),
      // as clients that parse message by message expect.
      this.stream.write(Buffer.concat(pieces));
    } else {
      this.stream.cork();
      for (const p of pieces) this.stream.write(p);
      this.stream.uncork();
    }
    // Deliveries pause only past our own mark, not the stream's 16 KiB highWaterMark: one burst
    // of deliveries is already bigger than that, and pausing on every flush stalls the pipeline.
    // Past the mark 'drain' resumes them (write() returned false on the way up); below it, a
    // pause that came from this turn's own output ends now that the output is written.
    const queued = this.stream.writableLength;
    if (queued > OUTPUT_HIGH_WATER_BYTES) {
      if (!this.writeBlocked) this.pauseDeliveries();
      if (queued > OUTPUT_HARD_LIMIT_BYTES && !this.outputBlocked) {
        this.outputBlocked = true;
        this.pauseReading();
      }
    } else if (this.writeBlocked) {
      this.resumeDeliveries();
    }
  }

  private pauseDeliveries(): void {
    this.writeBlocked = true;
    for (const sub of this.subscriptions.values()) sub.channel.setFlow(false);
  }

  private resumeDeliveries(): void {
    this.writeBlocked = false;
    for (const sub of this.subscriptions.values()) sub.channel.setFlow(true);
  }

  private onDrain(): void {
    if (this.outputBlocked) {
      this.outputBlocked = false;
      this.resumeReading();
    }
    if (this.writeBlocked && this.stream.writableLength <= OUTPUT_HIGH_WATER_BYTES) this.resumeDeliveries();
  }

  /** A subscription added while the socket is backed up starts paused too. */
  applyFlow(sub: Subscription): void {
    if (this.writeBlocked) sub.channel.setFlow(false);
  }
}

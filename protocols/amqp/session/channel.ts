import { isCoreError, type Channel } from '../../../src/core/index.js';
import { decodeContentHeader, writeBodyFrames, writeHeaderFrame } from '../codec/content-header.js';
import { AmqpChannelError, AmqpConnectionError } from '../codec/errors.js';
import { decodePublishArgs, writeConfirmFrame, writeDeliverFrame } from '../codec/hot-frames.js';
import { decodeMethod, FrameType, type MethodPlan } from '../codec/method-codec.js';
import { amqpErrorFromCore } from '../mapping/errors.js';
import type { MethodArgs, MethodName } from '../spec/methods.js';
import { MethodId } from '../spec/methods.js';
import { ReplyCode, replyText } from '../spec/reply-codes.js';
import { ConfirmTracker } from './confirm-tracker.js';
import type { AmqpConnection } from './connection.js';
import { dispatchMethod } from '../handlers/dispatch.js';

/** A consumer as the channel knows it. */
export interface ConsumerState {
  tag: string;
  queue: string;
  noAck: boolean;
  /** stream-queue consumer: deliveries carry x-stream-offset */
  stream: boolean;
  /** direct reply-to pseudo-consumer token */
  replyToken?: string;
}

/** A queued operation of a transaction (tx.select): run at tx.commit, in order. */
export type TxOp = () => Promise<void> | void;

/**
 * One AMQP channel: content assembly (method → header → bodies), in-order execution of methods
 * (an async one, like queue.declare, holds back the methods after it), confirms, transactions,
 * deliveries, and the channel.close handshake for channel exceptions.
 */
export class AmqpChannel {
  state: 'open' | 'closing' | 'closed' = 'open';
  /** last queue declared on this channel: the default for '' queue names (§1.7.2.1) */
  lastQueue = '';
  readonly consumers = new Map<string, ConsumerState>();
  confirms: ConfirmTracker | null = null;
  tx: TxOp[] | null = null;
  clientFlow = true;
  socketFlow = true;
  /** local tags for direct reply-to deliveries (they never reach the core) */
  replyDeliveryTag = 0;
  /** per-consumer prefetch last set with basic.qos (global=false); stream consumers need one */
  prefetchCount = 0;
  /** exchange whose write permission was last checked (publish hot path) */
  lastWriteChecked: string | null = null;

  // content assembly
  private publishArgs: MethodArgs['basic.publish'] | null = null;
  private propertyBytes: Buffer | null = null;
  private bodySize = 0;
  private bodyParts: Buffer[] = [];
  private bodyReceived = 0;

  // in-order execution
  private busy = false;
  private readonly pending: { method: MethodPlan; run: () => unknown }[] = [];

  constructor(
    readonly conn: AmqpConnection,
    readonly id: number,
    readonly core: Channel,
  ) {}

  onFrame(type: number, payload: Buffer): void {
    if (this.state === 'closing') return this.onFrameWhileClosing(type, payload);
    if (this.state === 'closed') return;
    if (this.publishArgs) return this.onContentFrame(type, payload);
    if (type !== FrameType.METHOD) {
      throw new AmqpConnectionError(ReplyCode.UNEXPECTED_FRAME, `expected method frame, got non method frame instead`);
    }
    if (payload.length >= 4 && payload.readUInt32BE(0) === MethodId.basicPublish) {
      const a = decodePublishArgs(payload);
      if (a.immediate) throw new AmqpConnectionError(ReplyCode.NOT_IMPLEMENTED, 'immediate=true', 60, 40);
      this.publishArgs = a;
      return;
    }
    const { method, args } = decodeMethod(payload);
    if (method.id === MethodId.channelOpen) throw new AmqpConnectionError(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen", 20, 10);
    this.run(method, () => dispatchMethod(this, method, args));
  }

  private onContentFrame(type: number, payload: Buffer): void {
    if (!this.propertyBytes) {
      if (type !== FrameType.HEADER) {
        throw new AmqpConnectionError(ReplyCode.UNEXPECTED_FRAME, 'expected content header for class 60, got non content header frame instead', 60, 40);
      }
      const h = decodeContentHeader(payload);
      if (h.classId !== 60) throw new AmqpConnectionError(ReplyCode.UNEXPECTED_FRAME, `expected content header for class 60, got one for class ${h.classId} instead`, 60, 40);
      const max = this.conn.deps.core.maxMessageBytes;
      if (h.bodySize > max) {
        this.publishArgs = null;
        throw new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `message size ${h.bodySize} is larger than configured max size ${max}`, 60, 40);
      }
      // Copy out of the socket chunk: the message outlives it and must not pin 64 KiB.
      this.propertyBytes = Buffer.from(h.propertyBytes);
      this.bodySize = h.bodySize;
      if (h.bodySize === 0) this.completeContent();
      return;
    }
    if (type !== FrameType.BODY) {
      throw new AmqpConnectionError(ReplyCode.UNEXPECTED_FRAME, 'expected content body, got non content body frame instead', 60, 40);
    }
    this.bodyReceived += payload.length;
    if (this.bodyReceived > this.bodySize) {
      throw new AmqpConnectionError(ReplyCode.FRAME_ERROR, `content body is ${this.bodyReceived} bytes, more than the ${this.bodySize} its header declared`, 60, 40);
    }
    this.bodyParts.push(payload);
    if (this.bodyReceived === this.bodySize) this.completeContent();
  }

  private completeContent(): void {
    const args = this.publishArgs!;
    const props = this.propertyBytes!;
    let body: Buffer;
    if (this.bodyParts.length === 1) {
      body = Buffer.allocUnsafe(this.bodySize);
      this.bodyParts[0]!.copy(body);
    } else {
      body = this.bodyParts.length === 0 ? Buffer.alloc(0) : Buffer.concat(this.bodyParts, this.bodySize);
    }
    this.publishArgs = null;
    this.propertyBytes = null;
    this.bodyParts = [];
    this.bodyReceived = 0;
    this.bodySize = 0;
    this.run(PUBLISH_PLAN, () => dispatchPublish(this, args, props, body));
  }

  /** Runs `op` now, or after the async operations before it on this channel. */
  private run(method: MethodPlan, op: () => unknown): void {
    if (this.busy) {
      this.pending.push({ method, run: op });
      return;
    }
    this.execute(method, op);
  }

  private execute(method: MethodPlan, op: () => unknown): void {
    let r: unknown;
    try {
      r = op();
    } catch (e) {
      this.fail(e, method);
      return;
    }
    if (r instanceof Promise) {
      this.busy = true;
      r.then(
        () => this.resume(),
        (e: unknown) => {
          this.fail(e, method);
          this.resume();
        },
      );
    }
  }

  private resume(): void {
    this.busy = false;
    while (!this.busy && this.pending.length && this.state === 'open') {
      const next = this.pending.shift()!;
      this.execute(next.method, next.run);
    }
    if (this.state !== 'open') this.pending.length = 0;
  }

  fail(e: unknown, method: MethodPlan): void {
    if (isCoreError(e)) e = amqpErrorFromCore(e, method.classId, method.methodId);
    if ((e instanceof AmqpChannelError || e instanceof AmqpConnectionError) && e.classId === 0 && method.classId !== 0) {
      e = e instanceof AmqpChannelError ? new AmqpChannelError(e.replyCode, e.detail, method.classId, method.methodId) : new AmqpConnectionError(e.replyCode, e.detail, method.classId, method.methodId);
    }
    this.conn.fail(e, this.id);
  }

  // ---- closing ---------------------------------------------------------------------------

  /** A channel exception: channel.close to the client, then wait for close-ok. */
  closeWithError(e: AmqpChannelError): void {
    if (this.state !== 'open') return;
    this.conn.log.info({ channel: this.id, replyCode: e.replyCode }, e.message);
    this.conn.sendMethod(this.id, 'channel.close', { replyCode: e.replyCode, replyText: replyText(e.replyCode, e.detail), classId: e.classId, methodId: e.methodId });
    this.state = 'closing';
    this.pending.length = 0;
    this.resetContent();
    this.release();
  }

  private onFrameWhileClosing(type: number, payload: Buffer): void {
    if (type !== FrameType.METHOD || payload.length < 4) return;
    const id = payload.readUInt32BE(0);
    if (id === MethodId.channelCloseOk) {
      this.state = 'closed';
      this.conn.releaseChannel(this.id);
    } else if (id === MethodId.channelClose) {
      // Both sides closed at once: answer and finish (§2.2.4 permits either order).
      this.conn.sendMethod(this.id, 'channel.close-ok', {});
      this.state = 'closed';
      this.conn.releaseChannel(this.id);
    }
  }

  /** Client-initiated channel.close (runs in order after earlier methods). */
  closeByClient(): void {
    this.release();
    this.state = 'closed';
    this.conn.sendMethod(this.id, 'channel.close-ok', {});
    this.conn.releaseChannel(this.id);
  }

  private resetContent(): void {
    this.publishArgs = null;
    this.propertyBytes = null;
    this.bodyParts = [];
    this.bodyReceived = 0;
  }

  /** Frees core resources: consumers cancelled, unacked deliveries requeued. Idempotent. */
  release(): void {
    for (const c of this.consumers.values()) if (c.replyToken) this.conn.deps.directReply.unregister(c.replyToken);
    this.consumers.clear();
    if (!this.core.closed) this.core.close();
  }

  // ---- output helpers used by handlers ---------------------------------------------------

  send<N extends MethodName>(name: N, args: Partial<MethodArgs[N]>): void {
    this.conn.sendMethod(this.id, name, args);
  }

  enableConfirms(): void {
    this.confirms ??= new ConfirmTracker((tag, multiple, nack) => {
      if (this.state !== 'open') return;
      writeConfirmFrame(this.conn.writer, this.id, tag, multiple, nack);
      this.conn.scheduleFlush();
    });
  }

  /** Writes a delivery (basic.deliver + header + bodies) into the connection's output slab. */
  writeDelivery(consumerTag: string, deliveryTag: number, redelivered: boolean, exchange: string, routingKey: string, propertyBytes: Buffer, body: Buffer): void {
    const w = this.conn.writer;
    writeDeliverFrame(w, this.id, consumerTag, deliveryTag, redelivered, exchange, routingKey);
    writeHeaderFrame(w, this.id, 60, body.length, propertyBytes);
    writeBodyFrames(w, this.id, body, this.conn.frameMax);
    this.conn.scheduleFlush();
  }

  /** Flow from the client (channel.flow) and from socket backpressure both gate deliveries. */
  setClientFlow(active: boolean): void {
    this.clientFlow = active;
    this.core.setFlow(this.clientFlow && this.socketFlow);
  }

  setSocketFlow(active: boolean): void {
    this.socketFlow = active;
    if (this.state === 'open') this.core.setFlow(this.clientFlow && this.socketFlow);
  }
}

// Imported late to keep the module graph acyclic at load time.
import { dispatchPublish, PUBLISH_PLAN } from '../handlers/basic-publish.js';

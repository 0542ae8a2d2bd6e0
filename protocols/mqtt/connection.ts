import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AuthenticatedUser, Channel, Connection, Delivery } from '../../src/core/index.js';
import type { ConnectionOrigin } from '../../src/listeners/adapter.js';
import { PacketDecoder } from './codec/decode.js';
import { encodeAck, encodeConnack, encodeDisconnect, encodePublish, MAX_FRAMED_PACKET_SIZE, publishSize, PINGRESP, type OutboundPublish } from './codec/encode.js';
import { MqttProtocolError } from './codec/errors.js';
import { FrameReader } from './codec/frame-reader.js';
import { PacketType, type ConnectPacket, type InboundPacket, type ProtocolLevel, type QoS, type WillMessage } from './codec/packets.js';
import { encodeProperties } from './codec/properties.js';
import { ConnackReturnCode, ReasonCode } from './codec/reason-codes.js';
import { handleAck } from './handlers/ack.js';
import { handleAuth, type EnhancedAuth } from './handlers/auth.js';
import { handleConnect } from './handlers/connect.js';
import { handleDisconnect } from './handlers/disconnect.js';
import { handlePublish, handlePubrel } from './handlers/publish.js';
import { handleSubscribe } from './handlers/subscribe.js';
import { handleUnsubscribe } from './handlers/unsubscribe.js';
import { deliveryToMqtt } from './mapping/message-mapping.js';
import type { MqttAdapter } from './adapter.js';
import type { PublishDecisions } from './mapping/authorize.js';
import { messageKey, type MessageKey, type MqttSession } from './session.js';
import { splitMatch } from './topic.js';

type State = 'awaiting-connect' | 'connecting' | 'authenticating' | 'connected' | 'closed';

/**
 * The stream's MQTT connection. The stream events go to the shared functions below (their
 * `this` is the stream), so a connection costs no closures: idle fleets are mostly this.
 */
const CONNECTION = Symbol('mqtt.connection');
type TaggedStream = Duplex & { [CONNECTION]: MqttConnection };

function onStreamData(this: TaggedStream, chunk: Buffer): void {
  this[CONNECTION].onData(chunk);
}
function onStreamError(this: TaggedStream, err: Error): void {
  this[CONNECTION].debug({ err: err.message }, 'socket error');
}
function onStreamClose(this: TaggedStream): void {
  void this[CONNECTION].onClose();
}
function onStreamDrain(this: TaggedStream): void {
  this[CONNECTION].outputDrained();
}

/** How long a closed connection's socket is still read (and its input dropped) for the client to close its side. */
const LINGER_MS = 2000;

/** Bytes waiting in the socket past which deliveries pause until 'drain' (a client reading slower than we deliver). */
const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;
/** A tick's packets up to this size are copied into one buffer; more go as a vectored write. */
const CONCAT_MAX_BYTES = 256 * 1024;

function flushOutput(conn: MqttConnection): void {
  conn.flush();
}

/**
 * One MQTT network connection: framing, the packet loop with the connection-level rules of
 * [MQTT-3.1.0-1] / [MQTT-3.1.0-2], keepalive, writes sent once per tick, and outbound PUBLISH
 * from core deliveries. Packet semantics live in handlers/<packet>.ts.
 */
export class MqttConnection {
  state: State = 'awaiting-connect';
  level: ProtocolLevel = 4;
  readonly reader: FrameReader;
  readonly decoder = new PacketDecoder();
  clientId = '';
  username: string | undefined;
  /** The authenticated user whose permissions apply (src/core/auth). */
  user: AuthenticatedUser | null = null;
  /** Publish permission decisions by topic (mapping/authorize.ts), made at the first authorized PUBLISH. */
  publishDecisions: PublishDecisions | null = null;
  session: MqttSession | null = null;
  /** Enhanced authentication (5.0 AUTH), when the CONNECT named a method. */
  enhancedAuth: EnhancedAuth | null = null;
  core: Connection | null = null;
  channel: Channel | null = null;
  will: WillMessage | null = null;
  /** Keepalive in ms (0 = off) and when a packet last arrived (before the CONNACK: when accepted). */
  keepAliveMs = 0;
  lastPacketAt = Date.now();
  /** Client's limits (5.0 CONNECT properties). */
  clientReceiveMaximum = 65535;
  clientMaxPacketSize = 268435460;
  clientTopicAliasMaximum = 0;
  requestProblemInformation = true;
  /** Topic aliases: inbound (client → us) and outbound (us → client); made on first use (idle connections stay small). */
  inboundAliases: Map<number, string> | null = null;
  outboundAliases: Map<string, number> | null = null;
  /** Credit of the core channel: the client's Receive Maximum (5.0) or the 3.1.x window. */
  outboundWindow = 1000;
  /** Inbound QoS 1/2 PUBLISHes not yet answered (PUBACK or PUBCOMP sent), for Receive Maximum. */
  inboundUnacked = 0;
  /** A normal DISCONNECT arrived (no will), or 5.0 reason 0x04 asked for the will. */
  normalDisconnect = false;
  /**
   * Queues this connection's channel consumes (consumer tag = queue name), each with whether
   * its consumer takes deliveries without acks (all subscriptions on it QoS 0); made on first subscribe.
   */
  private consumed: Map<string, boolean> | null = null;
  get consuming(): Map<string, boolean> {
    return (this.consumed ??= new Map());
  }
  private busy = false;
  /** Reading stopped by a resource alarm. */
  private paused = false;
  /** Reading stopped until the store catches up or publisher flow control lets go (afterPublish). */
  private publishPaused = false;
  private logger: Logger | null = null;

  constructor(readonly broker: MqttAdapter, readonly stream: Duplex, readonly origin: ConnectionOrigin, readonly id: number) {
    this.reader = new FrameReader(broker.options.maxPacketSize);
    (stream as TaggedStream)[CONNECTION] = this;
    stream.on('data', onStreamData);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
    // 'drain' is listened for only while deliveries wait for it (one listener less per idle connection).
  }

  /** Debug logging without making the child logger when debug is off. */
  debug(fields: Record<string, unknown>, msg: string): void {
    if (this.broker.log.isLevelEnabled('debug')) this.log.debug(fields, msg);
  }

  /** The connection's child logger, made on first use: most connections never log. */
  get log(): Logger {
    return (this.logger ??= this.broker.log.child({ protocol: 'mqtt', connId: this.id, remote: `${this.origin.remoteAddress}:${this.origin.remotePort}`, clientId: this.clientId }));
  }

  /**
   * The core connection, opened at CONNECT (acceptConnect) so that management lists the client
   * and connection limits are refused in the CONNACK; throws the core's refusal.
   */
  ensureCore(): Connection {
    return (this.core ??= this.broker.core.connect({
      vhost: this.broker.options.vhost, protocol: 'mqtt', clientId: this.clientId, user: this.username ?? '', remote: this.origin.remoteAddress,
      clientProperties: { protocolLevel: this.level, keepAliveMs: this.keepAliveMs },
      // 0x98 Administrative action (MQTT 5 DISCONNECT reason codes).
      onCloseRequest: () => void this.kick(0x98),
    }));
  }

  /**
   * The core channel, opened on first need (publish, subscribe, a resumed
   * session's queue): an idle MQTT connection holds no channel.
   */
  ensureChannel(): Channel {
    if (this.channel) return this.channel;
    this.channel = this.ensureCore().openChannel();
    this.channel.qos(this.outboundWindow, true);
    return this.channel;
  }

  onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    // Before the CONNACK, lastPacketAt stays the accept time: the connect timeout counts from there.
    if (this.state === 'connected') this.lastPacketAt = Date.now();
    this.reader.push(chunk);
    this.pump();
  }

  /** Decodes and handles frames until the buffer is empty or an async handler runs. */
  private pump(): void {
    while (!this.busy && this.state !== 'closed') {
      let packet: InboundPacket;
      try {
        const frame = this.reader.next();
        if (!frame) return;
        if (this.state === 'awaiting-connect' && frame.type !== PacketType.CONNECT) {
          throw new MqttProtocolError(ReasonCode.ProtocolError, 'first packet is not CONNECT [MQTT-3.1.0-1]');
        }
        packet = this.decoder.decode(frame);
      } catch (e) {
        this.protocolFailure(e);
        return;
      }
      let result: void | Promise<void>;
      try {
        result = this.dispatch(packet);
      } catch (e) {
        this.protocolFailure(e);
        return;
      }
      if (result) {
        this.busy = true;
        this.stream.pause();
        result.then(
          () => {
            this.busy = false;
            if (this.state === 'closed') return;
            if (!this.paused && !this.publishPaused) this.stream.resume();
            this.pump();
          },
          (e) => {
            this.busy = false;
            this.protocolFailure(e);
          },
        );
      }
    }
  }

  private dispatch(p: InboundPacket): void | Promise<void> {
    if (this.broker.log.isLevelEnabled('trace')) this.log.trace({ cmd: p.cmd }, 'packet');
    if (this.state === 'authenticating' && p.cmd !== 'auth' && p.cmd !== 'disconnect') {
      // Until the CONNACK only AUTH and DISCONNECT may come (§4.12).
      throw new MqttProtocolError(ReasonCode.ProtocolError, `${p.cmd.toUpperCase()} before the authentication finished`);
    }
    switch (p.cmd) {
      case 'connect':
        if (this.state !== 'awaiting-connect') throw new MqttProtocolError(ReasonCode.ProtocolError, 'second CONNECT [MQTT-3.1.0-2]');
        this.state = 'connecting';
        return handleConnect(this, p as ConnectPacket);
      case 'publish': return handlePublish(this, p);
      case 'pubrel': return handlePubrel(this, p);
      case 'puback': case 'pubrec': case 'pubcomp': return handleAck(this, p);
      case 'subscribe': return handleSubscribe(this, p);
      case 'unsubscribe': return handleUnsubscribe(this, p);
      case 'pingreq': this.write(PINGRESP); return;
      case 'disconnect': return handleDisconnect(this, p);
      case 'auth': return handleAuth(this, p);
    }
  }

  /**
   * A protocol violation: 5.0 gets a DISCONNECT with the reason code once connected (a
   * CONNACK with it while connecting, sent by the connect handler); 3.1.x is just closed.
   */
  protocolFailure(e: unknown): void {
    if (this.state === 'closed') return;
    const code = e instanceof MqttProtocolError ? e.reasonCode : ReasonCode.UnspecifiedError;
    if (!(e instanceof MqttProtocolError)) this.log.warn({ err: (e as Error)?.stack ?? String(e) }, 'unexpected error, closing');
    else this.debug({ reasonCode: code, why: e.message }, 'protocol error, closing');
    if (this.level === 5 && this.state === 'connected') {
      this.write(encodeDisconnect(code, this.requestProblemInformation ? { reasonString: (e as Error).message?.slice(0, 200) } : undefined));
    } else if (this.state !== 'connected' && code === ReasonCode.UnsupportedProtocolVersion) {
      // [MQTT-3.1.2-2]: CONNACK 0x01 in the 3.1.1 format, which every version can read.
      this.write(encodeConnack(4, false, ConnackReturnCode.UnacceptableProtocolVersion));
    } else if (this.state !== 'connected' && this.decoder.protocolLevel === 5 && e instanceof MqttProtocolError) {
      this.write(encodeConnack(5, false, code));
    }
    this.close();
  }

  /** Server-initiated close: 5.0 DISCONNECT with `reasonCode` (takeover 0x8E, shutdown 0x8B, keepalive 0x8D). */
  kick(reasonCode: number): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    if (this.level === 5 && this.state === 'connected') this.write(encodeDisconnect(reasonCode));
    return this.close();
  }

  private closing: Promise<void> | null = null;

  /**
   * Ends the network connection. The session and will are handled now (onClose), and the
   * socket lingers: it half-closes after the last packet, and what the client still sends is
   * read and dropped until it closes its side or LINGER_MS pass. Closing at once with the
   * client's packets still arriving (PUBRELs for the PUBRECs before a DISCONNECT 0x93, say)
   * makes the kernel answer with a reset, which can destroy the DISCONNECT and its reason code
   * before the client reads it (HTTP's "lingering close", RFC 9112 §9.6).
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => {
        this.onClosed = resolve;
      });
      this.flush();
      this.stream.end();
      this.linger();
      void this.onClose();
    }
    return this.closing;
  }

  private linger(): void {
    const stream = this.stream;
    if (this.broker.stopping) {
      // Broker shutdown: every socket goes now.
      setImmediate(() => stream.destroy());
      return;
    }
    const timer = setTimeout(() => stream.destroy(), LINGER_MS);
    timer.unref();
    stream.once('close', () => clearTimeout(timer));
    // Input is dropped from now on (state 'closed'); reading must go on for the client's FIN.
    stream.resume();
  }

  private onClosed: (() => void) | null = null;

  async onClose(): Promise<void> {
    this.broker.connections.delete(this);
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    try {
      if (wasConnected) await this.broker.connectionEnded(this);
    } catch (e) {
      this.log.warn({ err: (e as Error).stack }, 'error while ending the session');
    } finally {
      this.onClosed?.();
      this.closing ??= Promise.resolve();
    }
  }

  // --- writing ------------------------------------------------------------------------------

  /** Packets written this tick, sent as one buffer at the end of it (one stream write, one syscall). */
  private out: Buffer[] | null = null;
  private outBytes = 0;

  /** Writes a packet; the writes of one tick go out together. */
  write(buf: Buffer): void {
    if (this.stream.writableEnded || this.stream.destroyed) return;
    if (this.out === null) {
      this.out = [buf];
      process.nextTick(flushOutput, this);
    } else this.out.push(buf);
    this.outBytes += buf.length;
    // Deliveries pause past our own mark, not when write() returns false (the stream's 16 KiB
    // highWaterMark, which one tick of deliveries passes): pausing there stopped deliveries for
    // a loop turn after nearly every flush, and after every TLS write (completed asynchronously).
    // 'drain' resumes them (the flush past the mark made write() return false).
    if (!this.outputPaused && this.outBytes + this.stream.writableLength > OUTPUT_HIGH_WATER_BYTES && this.channel) {
      this.outputPaused = true;
      this.stream.once('drain', onStreamDrain);
      this.channel.setFlow(false);
    }
  }

  /** Sends what this tick wrote: one buffer (small packets are copied together), or the parts when large. */
  flush(): void {
    const parts = this.out;
    if (parts === null) return;
    const bytes = this.outBytes;
    this.out = null;
    this.outBytes = 0;
    if (this.stream.writableEnded || this.stream.destroyed) return;
    if (parts.length === 1) this.stream.write(parts[0]!);
    else if (bytes <= CONCAT_MAX_BYTES) this.stream.write(Buffer.concat(parts, bytes));
    else {
      this.stream.cork();
      for (const part of parts) this.stream.write(part);
      this.stream.uncork();
    }
  }

  private outputPaused = false;

  outputDrained(): void {
    if (!this.outputPaused) return;
    this.outputPaused = false;
    this.channel?.setFlow(true);
  }

  /** PUBLISH packets held until the in-flight record writes before them are durable (order kept). */
  private held: Buffer[] | null = null;
  private holds = 0;

  private writePublish(parts: Buffer[]): void {
    if (this.held) this.held.push(...parts);
    else for (const part of parts) this.write(part);
  }

  /** Writes `parts` once `durable` resolves; later PUBLISHes wait behind them. */
  private writeAfter(durable: Promise<void>, parts: Buffer[]): void {
    this.holds++;
    (this.held ??= []).push(...parts);
    durable.then(
      () => {
        if (--this.holds > 0) return;
        const held = this.held!;
        this.held = null;
        for (const part of held) this.write(part);
      },
      (e: unknown) => this.protocolFailure(e),
    );
  }

  /** Stops reading (memory alarm) or resumes. */
  setReading(active: boolean): void {
    this.paused = !active;
    this.updateReading();
  }

  /** The broker does not read this connection (alarm, store backpressure, flow control): its keep alive is not judged. */
  get readingHeld(): boolean {
    return this.paused || this.publishPaused;
  }

  private updateReading(): void {
    if (this.readingHeld) this.stream.pause();
    else if (!this.busy && this.state !== 'closed') this.stream.resume();
    // The keep alive counts from when reading resumes: the client's packets waited unread.
    if (this.state === 'connected') this.lastPacketAt = Date.now();
  }

  /**
   * After a publish: stop reading while the store has too many unwritten bytes or publisher
   * flow control throttles this connection (a queue it published to waits on a consumer's socket).
   */
  afterPublish(): void {
    if (this.publishPaused) return;
    const wait = this.core?.throttled ? this.core.whenUnthrottled() : !this.broker.core.writable ? this.broker.core.whenWritable() : null;
    if (wait === null) return;
    this.publishPaused = true;
    this.updateReading();
    void wait.then(() => {
      this.publishPaused = false;
      this.afterPublish();
      if (!this.publishPaused) this.updateReading();
    });
  }

  sendAck(cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', packetId: number, reasonCode = 0): void {
    this.write(encodeAck(cmd, packetId, this.level, reasonCode));
  }

  // --- outbound PUBLISH ------------------------------------------------------------------------

  private deliveryHandler: ((d: Delivery) => void) | null = null;
  /** The consumer callback for the core, made at the first consume (idle connections have none). */
  get onDelivery(): (d: Delivery) => void {
    return (this.deliveryHandler ??= (d) => this.deliver(d));
  }

  /**
   * Which subscriptions select the last delivered topic from a queue: a stream of messages on
   * one topic is matched once, not once per message. Valid while the session and its
   * subscriptions stay the same; not kept when a No Local subscription matched (that depends on
   * the publisher of each message).
   */
  private lastMatch: {
    session: MqttSession; version: number; queue: string; topic: string; topicBytes: Buffer;
    qos: number; retainAsPublished: boolean; subIds: number[] | undefined;
  } | null = null;

  /** Core delivery from the session queue or a shared-subscription queue → PUBLISH. */
  deliver(d: Delivery): void {
    const session = this.session;
    const channel = this.channel;
    if (!session || !channel) return;
    // A consumer without acks (every subscription on its queue is QoS 0) has nothing to settle.
    const settles = this.consumed?.get(d.queue) !== true;
    const m = deliveryToMqtt(d);
    let qos = -1;
    let retainAsPublished = false;
    let subIds: number[] | undefined;
    let topicBytes: Buffer | null = null;
    const cached = this.lastMatch;
    if (cached !== null && cached.topic === m.topic && cached.queue === d.queue && cached.session === session && cached.version === session.subscriptionsVersion) {
      qos = cached.qos;
      retainAsPublished = cached.retainAsPublished;
      subIds = cached.subIds;
      topicBytes = cached.topicBytes;
    } else {
      // Which subscriptions select this message: MQTT matching, including the $ rule that the
      // topic exchange does not know [MQTT-4.7.2-1].
      const fromOwnQueue = d.queue === session.queue;
      const topicLevels = m.topic.split('/');
      let noLocal = false;
      for (const sub of session.subscriptions.values()) {
        if (fromOwnQueue ? sub.shared !== null : sub.queue !== d.queue) continue;
        if (!splitMatch(sub.levels, topicLevels)) continue;
        if (sub.noLocal && !sub.shared) {
          noLocal = true;
          // No Local: not to the connection that published it [MQTT-3.8.3-3] (not for shared ones).
          if (m.publisherClientId === this.clientId) continue;
        }
        if (sub.qos > qos) qos = sub.qos;
        if (sub.retainAsPublished) retainAsPublished = true;
        if (sub.subscriptionId !== undefined) (subIds ??= []).push(sub.subscriptionId);
      }
      if (!noLocal && qos >= 0) {
        topicBytes = Buffer.from(m.topic);
        this.lastMatch = { session, version: session.subscriptionsVersion, queue: d.queue, topic: m.topic, topicBytes, qos, retainAsPublished, subIds };
      }
    }
    if (qos < 0) {
      if (settles) channel.ack(d.deliveryTag);
      return;
    }
    // QoS downgrade to the subscription's maximum [MQTT-3.8.4-8].
    const outQos = (m.qos < qos ? m.qos : qos) as QoS;
    const retain = m.replay ? true : retainAsPublished ? m.retain : false;
    let properties: Buffer | null = null;
    if (this.level === 5) {
      const extra: { messageExpiryInterval?: number; subscriptionIdentifiers?: number[] } = {};
      if (d.expiresAt !== null) {
        const remaining = Math.ceil((d.expiresAt - Date.now()) / 1000);
        if (remaining <= 0) {
          if (settles) channel.ack(d.deliveryTag);
          return;
        }
        extra.messageExpiryInterval = remaining;
      }
      if (subIds) extra.subscriptionIdentifiers = subIds;
      const head = extra.messageExpiryInterval !== undefined || subIds ? encodeProperties(extra) : null;
      properties = head ? (m.properties ? Buffer.concat([head, m.properties]) : head) : m.properties;
    }
    let packetId = 0;
    let freshId = false;
    let key: MessageKey = 0;
    if (outQos > 0) {
      key = messageKey(session, d.queue, d.offset);
      const known = session.knownPacketId(key);
      if (known !== undefined && session.awaitingPubcomp.has(known)) {
        // The client PUBREC'd it already (its PUBREL is pending): it has the message [MQTT-4.3.3].
        session.releasePacketId(key);
        channel.ack(d.deliveryTag);
        return;
      }
      packetId = known ?? session.assignPacketId(key);
      freshId = known === undefined;
      if (packetId === 0) {
        channel.nack(d.deliveryTag, false, true);
        return;
      }
    }
    // Outbound topic alias; a new one is kept only once the packet that teaches it is sent.
    let topic = m.topic;
    let newAlias = 0;
    if (this.clientTopicAliasMaximum > 0) {
      const aliases = this.outboundAliases;
      const alias = aliases?.get(topic);
      const aliasProp = (n: number) => encodeProperties({ topicAlias: n });
      if (alias !== undefined) {
        properties = properties ? Buffer.concat([aliasProp(alias), properties]) : aliasProp(alias);
        topic = '';
        topicBytes = null;
      } else if ((aliases?.size ?? 0) < this.clientTopicAliasMaximum) {
        newAlias = (aliases?.size ?? 0) + 1;
        properties = properties ? Buffer.concat([aliasProp(newAlias), properties]) : aliasProp(newAlias);
      }
    }
    const out: OutboundPublish = { topic, topicBytes, packetId, qos: outQos, dup: outQos > 0 && d.redelivered, retain, properties, payload: m.payload };
    // Never send a packet larger than the client's Maximum Packet Size: discard it [MQTT-3.1.2-25]
    // (the default allows every packet MQTT can frame).
    if (this.clientMaxPacketSize < MAX_FRAMED_PACKET_SIZE && publishSize(out, this.level) > this.clientMaxPacketSize) {
      if (outQos > 0) session.releasePacketId(key);
      if (settles) channel.ack(d.deliveryTag);
      return;
    }
    if (newAlias > 0) (this.outboundAliases ??= new Map()).set(m.topic, newAlias);
    const parts = encodePublish(out, this.level);
    // Exactly once across a broker restart: a QoS 2 packet id is durable before the client
    // can hold the message under it, so a resend after a crash uses the same id.
    if (freshId && outQos === 2 && session.persistent) this.writeAfter(this.broker.saveInflight(session), parts);
    else this.writePublish(parts);
    this.broker.stats.messagesSent++;
    if (outQos === 0) {
      if (settles) channel.ack(d.deliveryTag);
    } else session.inflight.set(packetId, { deliveryTag: d.deliveryTag, qos: outQos, messageKey: key });
  }

  /** Resends PUBRELs of outbound QoS 2 flows that were PUBREC'd before a reconnect [MQTT-4.4.0-1]. */
  resendPubrels(): void {
    if (!this.session) return;
    for (const id of this.session.pendingPubrels()) this.sendAck('pubrel', id);
  }
}

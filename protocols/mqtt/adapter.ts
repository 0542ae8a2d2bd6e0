import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { isCoreError, type AuthenticatedUser, type Channel, type Connection, type Core, type Message, type MessageOrigin, type Vhost } from '../../src/core/index.js';
import type { AdapterContext, ConnectionOrigin, ProtocolAdapter } from '../../src/listeners/adapter.js';
import type { WillMessage } from './codec/packets.js';
import { ReasonCode } from './codec/reason-codes.js';
import { MqttConnection } from './connection.js';
import { mayPublish, publishRefusal } from './mapping/authorize.js';
import { encodeNative } from './mapping/native.js';
import { withoutPublisherIdentity } from './mapping/message-mapping.js';
import { topicToRoutingKey } from './mapping/topic-mapping.js';
import { createMessage } from '../../src/core/index.js';
import { resolveOptions, type MqttOptions } from './options.js';
import { InflightStore } from './inflight-store.js';
import { RetainedStore } from './retained-store.js';
import { MqttSession, NEVER_EXPIRES, type ActiveSubscription } from './session.js';
import { SessionStore } from './session-store.js';
import { SysTopics } from './sys-topics.js';

export interface MqttStats {
  messagesReceived: number;
  messagesSent: number;
}

/** A will and the device it speaks for (its validated identity, kept from its connection). */
export interface DeviceWill {
  will: WillMessage;
  origin: MessageOrigin | null;
  /** Whose will it is: its publish permission is checked when it goes out. Null: not checked (no authentication). */
  user: AuthenticatedUser | null;
  clientId: string;
}

interface PendingWill extends DeviceWill {
  timer: NodeJS.Timeout;
}

/**
 * The MQTT adapter: broker-wide MQTT state (live connections by client id, sessions, pending
 * wills, the retained and session stores) over one core vhost. An MQTT session is a core
 * queue `mqtt.session.<clientId>` bound to `amq.topic` (ARCHITECTURE.md, LavinMQ's model);
 * shared subscriptions are queues `mqtt.shared.<group>/<filter>` consumed by every member.
 */
export class MqttAdapter implements ProtocolAdapter {
  readonly protocol = 'mqtt' as const;
  readonly log: Logger;
  readonly options: MqttOptions;
  readonly connections = new Set<MqttConnection>();
  /** The connection currently holding each client id. */
  readonly live = new Map<string, MqttConnection>();
  /** Sessions known in memory (connected, or persistent and disconnected). */
  readonly sessions = new Map<string, MqttSession>();
  readonly pendingWills = new Map<string, PendingWill>();
  /** Sessions subscribed to each shared-subscription queue. */
  readonly sharedMembers = new Map<string, Set<string>>();
  readonly stats: MqttStats = { messagesReceived: 0, messagesSent: 0 };
  readonly startedAt = Date.now();
  readonly ready: Promise<void>;
  vhost!: Vhost;
  retained!: RetainedStore;
  sessionStore!: SessionStore;
  inflightStore!: InflightStore;
  private system!: Connection;
  private systemChannel!: Channel;
  private sys: SysTopics | null = null;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private unsubscribeAlarm: (() => void) | null = null;
  private nextConnId = 1;
  private closed = false;

  /** The adapter is shutting down: closed connections do not linger (MqttConnection.close). */
  get stopping(): boolean {
    return this.closed;
  }

  constructor(readonly core: Core, ctx: AdapterContext, overrides: Partial<MqttOptions> = {}) {
    this.log = ctx.log;
    this.options = resolveOptions(ctx.config?.mqtt, overrides);
    this.ready = this.init();
    this.ready.catch((e) => this.log.error({ err: (e as Error).stack }, 'MQTT adapter failed to start'));
  }

  private async init(): Promise<void> {
    this.system = this.core.connect({ vhost: this.options.vhost, protocol: 'mqtt', clientId: '$broker', user: '', internal: true });
    this.vhost = this.system.vhost;
    this.systemChannel = this.system.openChannel();
    this.retained = await RetainedStore.open(this.system);
    this.sessionStore = await SessionStore.open(this.system);
    this.inflightStore = await InflightStore.open(this.system);
    const now = Date.now();
    for (const record of this.sessionStore.all()) {
      const session = MqttSession.fromRecord(record);
      const inflight = this.inflightStore.get(record.clientId);
      if (inflight) session.restoreInflight(inflight);
      if (record.expiryInterval === 0) {
        await this.endSession(session);
        continue;
      }
      this.sessions.set(session.clientId, session);
      for (const sub of session.subscriptions.values()) if (sub.shared) this.addSharedMember(sub.queue, session.clientId);
      this.armExpiry(session, record.disconnectedAt ?? now);
    }
    this.keepAliveTimer = setInterval(() => this.checkKeepAlive(), this.options.keepAliveCheckMs);
    this.keepAliveTimer.unref();
    this.unsubscribeAlarm = this.core.onAlarm((e) => {
      for (const c of this.connections) c.setReading(!e.blocked);
    });
    if (this.options.sysIntervalMs > 0) this.sys = new SysTopics(this, this.options.sysIntervalMs);
  }

  accept(stream: Duplex, origin: ConnectionOrigin): void {
    if (this.closed) {
      stream.destroy();
      return;
    }
    const conn = new MqttConnection(this, stream, origin, this.nextConnId++);
    // The connection removes itself on 'close' (no per-connection closure here).
    this.connections.add(conn);
    if (this.core.blocked) conn.setReading(false);
  }

  connectionCount(): number {
    return this.connections.size;
  }

  /** limits.maxConnectionWriteBufferBytes passed: 5.0 DISCONNECT 0x97 Quota exceeded, then the socket closes. */
  closeOverfull(stream: Duplex): boolean {
    for (const c of this.connections) {
      if (c.stream !== stream) continue;
      void c.kick(ReasonCode.QuotaExceeded);
      return true;
    }
    return false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ready.catch(() => undefined);
    this.sys?.stop();
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.unsubscribeAlarm?.();
    for (const w of this.pendingWills.values()) clearTimeout(w.timer);
    for (const s of this.sessions.values()) if (s.expiryTimer) clearTimeout(s.expiryTimer);
    await Promise.all([...this.connections].map((c) => c.kick(ReasonCode.ServerShuttingDown)));
    this.retained?.close();
    this.sessionStore?.close();
    this.inflightStore?.close();
    await this.system?.close();
  }

  // --- publishing ------------------------------------------------------------------------------

  /**
   * Routes an MQTT message to `amq.topic` (and the retained store when RETAIN is set);
   * resolves when durable. Returns the core's routing status for 5.0 reason codes.
   */
  publish(channel: Channel, topic: string, message: Message, retain: boolean, delayMs?: number): { status: 'routed' | 'unroutable' | 'rejected'; durable: Promise<unknown> } {
    this.stats.messagesReceived++;
    const r = channel.publish('amq.topic', topicToRoutingKey(topic), message, delayMs !== undefined ? { delayMs } : undefined);
    // A delayed publish is not retained: it does not exist for subscribers until it is due.
    if (retain && this.options.retainAvailable && delayMs === undefined) {
      return { status: r.status, durable: Promise.all([r.durable, this.retained.set(topic, message)]) };
    }
    return r;
  }

  /**
   * Publishes a will message [MQTT-3.1.2-8] from the broker's own connection, on behalf of the
   * device that left: consumers of other protocols see its client id and user, not the broker's.
   */
  publishWill({ will, origin, user, clientId }: DeviceWill): void {
    // As a PUBLISH of the device, with its permissions as they are now (RabbitMQ checks at send too).
    if (user && !mayPublish(user, this.options.vhost, will.topic, clientId)) {
      this.log.info({ clientId, user: user.name, reason: publishRefusal(user, this.options.vhost, will.topic) }, 'will message not published: not authorized');
      return;
    }
    const p = will.properties;
    const { userProperties, raw } = withoutPublisherIdentity(p.userProperties, will.propertiesRaw);
    const message = createMessage(will.payload, {
      native: { protocol: 'mqtt', bytes: encodeNative({ qos: will.qos, retain: will.retain, replay: false, topic: null, properties: raw }) },
    });
    message.properties.persistent = will.qos > 0;
    if (p.messageExpiryInterval !== undefined) message.properties.expiration = p.messageExpiryInterval * 1000;
    if (p.contentType !== undefined) message.properties.contentType = p.contentType;
    if (p.responseTopic !== undefined) message.properties.replyTo = p.responseTopic;
    if (p.correlationData !== undefined) message.properties.correlationId = p.correlationData;
    if (userProperties) message.headers = userProperties.map(([name, value]) => ({ name, value }));
    try {
      // As publish(), with the device's identity (kept off publish() itself: the PUBLISH hot path).
      this.stats.messagesReceived++;
      this.systemChannel.publish('amq.topic', topicToRoutingKey(will.topic), message, origin ? { onBehalfOf: origin } : undefined);
      if (will.retain && this.options.retainAvailable) {
        this.retained.set(will.topic, message).catch((e: unknown) => this.log.warn({ err: (e as Error).message, topic: will.topic }, 'retained will not stored'));
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message, topic: will.topic }, 'will message not published');
    }
  }

  /** System messages ($SYS) go out retained, from the broker's connection. */
  publishSystem(topic: string, body: string): void {
    const message = createMessage(Buffer.from(body), {
      native: { protocol: 'mqtt', bytes: encodeNative({ qos: 0, retain: true, replay: false, topic: null, properties: null }) },
    });
    this.publish(this.systemChannel, topic, message, true);
    this.stats.messagesReceived--;
  }

  // --- sessions --------------------------------------------------------------------------------

  cancelPendingWill(clientId: string): DeviceWill | null {
    const w = this.pendingWills.get(clientId);
    if (!w) return null;
    clearTimeout(w.timer);
    this.pendingWills.delete(clientId);
    return { will: w.will, origin: w.origin, user: w.user, clientId: w.clientId };
  }

  /** Called once when a connected MQTT connection's network connection is gone. */
  async connectionEnded(conn: MqttConnection): Promise<void> {
    if (this.live.get(conn.clientId) === conn) this.live.delete(conn.clientId);
    const session = conn.session;
    // Outbound QoS 1/2 PUBLISHes not acknowledged are requeued by the core when the channel
    // closes, and resent with DUP on the next connection [MQTT-4.4.0-1].
    if (session) session.clearInflight();
    // Who the will speaks for, taken before the core connection goes.
    const will: DeviceWill | null = !conn.normalDisconnect && conn.will ? { will: conn.will, origin: conn.core?.origin ?? null, user: conn.user, clientId: conn.clientId } : null;
    try {
      await conn.core?.close();
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'core connection close');
    }
    conn.core = null;
    conn.channel = null;
    if (!session) {
      if (will) this.publishWill(will);
      return;
    }
    if (this.live.has(session.clientId)) {
      // Taken over: the new connection owns the session now; the old will still goes out.
      if (will) this.publishWill(will);
      return;
    }
    if (!session.persistent) {
      await this.endSession(session);
      if (will) this.publishWill(will);
      return;
    }
    const delay = will?.will.properties.willDelayInterval ?? 0;
    if (will && delay === 0) this.publishWill(will);
    else if (will) {
      // Will Delay Interval [MQTT-3.1.3-9]: sent after the delay unless the session resumes.
      const ms = Math.min(delay, session.expiryInterval) * 1000;
      const timer = setTimeout(() => {
        this.pendingWills.delete(session.clientId);
        this.publishWill(will);
      }, ms);
      timer.unref();
      this.pendingWills.set(session.clientId, { ...will, timer });
    }
    const now = Date.now();
    // Packet ids of QoS 1 messages still unacknowledged are stored here (QoS 2 ones already are).
    await Promise.all([this.sessionStore.put(session.toRecord(now)), this.saveInflight(session)]);
    this.armExpiry(session, now);
  }

  /**
   * Stores a persistent session's in-flight packet ids; resolves when durable. Changes of one
   * tick share one write. Transient sessions end with the broker: nothing to store.
   */
  saveInflight(session: MqttSession): Promise<void> {
    if (!session.persistent) return Promise.resolve();
    return (session.inflightSave ??= Promise.resolve().then(() => {
      session.inflightSave = null;
      return this.inflightStore.put(session.clientId, session.inflightRecord());
    }));
  }

  /** Session Expiry Interval [MQTT-3.1.2-23]: the session is discarded that long after the disconnect. */
  armExpiry(session: MqttSession, disconnectedAt: number): void {
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    if (session.expiryInterval === NEVER_EXPIRES) return;
    const ms = Math.max(0, disconnectedAt + session.expiryInterval * 1000 - Date.now());
    session.expiryTimer = setTimeout(() => {
      session.expiryTimer = null;
      if (this.live.has(session.clientId)) return;
      void this.endSession(session).catch((e) => this.log.warn({ err: (e as Error).message }, 'session expiry'));
    }, Math.min(ms, 2 ** 31 - 1));
    session.expiryTimer.unref();
  }

  /** Discards a session: its queue, its share memberships, its record; a delayed will goes now. */
  async endSession(session: MqttSession): Promise<void> {
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    for (const sub of session.subscriptions.values()) if (sub.shared) await this.removeSharedMember(sub, session.clientId);
    await this.deleteQueueQuietly(session.queue);
    this.sessionStore.delete(session.clientId);
    this.inflightStore.delete(session.clientId);
    const will = this.cancelPendingWill(session.clientId);
    if (will) this.publishWill(will);
  }

  async deleteQueueQuietly(queue: string): Promise<void> {
    try {
      await this.vhost.deleteQueue(queue);
    } catch (e) {
      if (!isCoreError(e) || e.code !== 'NOT_FOUND') throw e;
    }
  }

  addSharedMember(queue: string, clientId: string): void {
    let members = this.sharedMembers.get(queue);
    if (!members) this.sharedMembers.set(queue, (members = new Set()));
    members.add(clientId);
  }

  /** Leaves a shared group; the group's queue goes with its last member. */
  async removeSharedMember(sub: ActiveSubscription, clientId: string): Promise<void> {
    const members = this.sharedMembers.get(sub.queue);
    members?.delete(clientId);
    if (!members || members.size === 0) {
      this.sharedMembers.delete(sub.queue);
      await this.deleteQueueQuietly(sub.queue);
    }
  }

  subscriptionCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.subscriptions.size;
    return n;
  }

  private checkKeepAlive(): void {
    const now = Date.now();
    for (const c of this.connections) {
      // [MQTT-3.1.2-22]: nothing received for one and a half keep alive periods.
      if (c.state === 'connected' && c.keepAliveMs > 0 && !c.readingHeld && now - c.lastPacketAt > c.keepAliveMs * 1.5) {
        c.debug({}, 'keep alive expired');
        void c.kick(ReasonCode.KeepAliveTimeout);
      } else if (c.state !== 'connected' && c.state !== 'closed' && now - c.lastPacketAt > this.options.connectTimeoutMs) {
        // No completed CONNECT (or enhanced authentication) in time: a stalled or hostile client.
        c.debug({ state: c.state }, 'connect timeout');
        void c.close();
      }
    }
  }
}

/** The adapter factory registered in src/adapters.ts. */
export function createMqttAdapter(core: Core, ctx: AdapterContext): ProtocolAdapter {
  return new MqttAdapter(core, ctx);
}

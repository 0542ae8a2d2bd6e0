import { createHash } from 'node:crypto';
import type { QoS } from './codec/packets.js';
import { filterToBindingKey } from './mapping/topic-mapping.js';
import type { InflightRecord } from './inflight-store.js';
import type { SessionRecord, SubscriptionRecord } from './session-store.js';
import { parseSharedFilter, type SharedFilter } from './topic.js';

/** A subscription with what delivery needs precomputed. */
export interface ActiveSubscription extends SubscriptionRecord {
  levels: string[];
  shared: SharedFilter | null;
  /** The core queue its messages arrive in: the session queue, or the shared group's queue. */
  queue: string;
  bindingKey: string;
}

/** Outbound QoS 1/2 PUBLISH waiting for PUBACK/PUBREC: the core delivery it acks. */
export interface InflightPublish {
  deliveryTag: number;
  qos: QoS;
  messageKey: MessageKey;
}

/**
 * Which queued message a packet id was sent for: its offset when it came from the session
 * queue (no string to build per delivery), `queue:offset` when from a shared-subscription queue.
 */
export type MessageKey = number | string;

export function messageKey(session: MqttSession, queue: string, offset: number): MessageKey {
  return queue === session.queue ? offset : `${queue}:${offset}`;
}

export const NEVER_EXPIRES = 0xffffffff;

const NO_SUBSCRIPTIONS: ReadonlyMap<string, ActiveSubscription> = new Map();

const MAX_QUEUE_NAME = 200;

/** Core queue names stay short shortstrs even for 64 KiB client ids. */
function boundedName(prefix: string, id: string): string {
  const name = prefix + id;
  if (Buffer.byteLength(name) <= MAX_QUEUE_NAME) return name;
  return `${prefix}${id.slice(0, 64)}~${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

export function sessionQueueName(clientId: string): string {
  return boundedName('mqtt.session.', clientId);
}

export function sharedQueueName(share: SharedFilter): string {
  return boundedName('mqtt.shared.', `${share.shareName}/${share.filter}`);
}

export function activate(record: SubscriptionRecord, sessionQueue: string): ActiveSubscription {
  const shared = parseSharedFilter(record.filter);
  const filter = shared ? shared.filter : record.filter;
  return {
    ...record,
    levels: filter.split('/'),
    shared,
    queue: shared ? sharedQueueName(shared) : sessionQueue,
    bindingKey: filterToBindingKey(filter),
  };
}

/**
 * The state of one MQTT session (MQTT 5.0 §4.1) that outlives a network connection while the
 * broker runs. Its subscriptions and expiry are also kept durably (SessionStore); the
 * session's messages are the core queue `mqtt.session.<clientId>`.
 */
export class MqttSession {
  private queueName: string | null = null;
  /** The session queue's name (made on first use: a session that never subscribes keeps no copy). */
  get queue(): string {
    return (this.queueName ??= sessionQueueName(this.clientId));
  }
  // The collections below are made on first use: an idle session (most of a fleet) holds none.
  private subscriptionsByFilter: Map<string, ActiveSubscription> | null = null;
  private inboundQos2Ids: Set<number> | null = null;
  private inflightById: Map<number, InflightPublish> | null = null;
  private pubcompIds: Set<number> | null = null;
  private idsByMessage: Map<MessageKey, number> | null = null;
  private messagesById: Map<number, MessageKey> | null = null;
  /** Changes with every subscription added, replaced or removed (caches of matching results check it). */
  subscriptionsVersion = 0;

  /** Subscriptions by filter as the client sent it; read-only view (empty until the first SUBSCRIBE). */
  get subscriptions(): ReadonlyMap<string, ActiveSubscription> {
    return this.subscriptionsByFilter ?? NO_SUBSCRIPTIONS;
  }
  /** Adds or replaces a subscription [MQTT-3.8.4-3]. */
  setSubscription(sub: ActiveSubscription): void {
    (this.subscriptionsByFilter ??= new Map()).set(sub.filter, sub);
    this.subscriptionsVersion++;
  }
  deleteSubscription(filter: string): boolean {
    this.subscriptionsVersion++;
    return this.subscriptionsByFilter?.delete(filter) ?? false;
  }
  /** Inbound QoS 2 packet ids received and not yet released by PUBREL [MQTT-4.3.3-9]. */
  get inboundQos2(): Set<number> {
    return (this.inboundQos2Ids ??= new Set());
  }
  /** Outbound QoS 1/2 PUBLISHes awaiting PUBACK/PUBREC, by packet id. Dropped when the connection ends (the core requeues them). */
  get inflight(): Map<number, InflightPublish> {
    return (this.inflightById ??= new Map());
  }
  /** Outbound QoS 2 packet ids PUBREC'd and awaiting PUBCOMP: PUBREL is resent on reconnect [MQTT-4.4.0-1]. */
  get awaitingPubcomp(): Set<number> {
    return (this.pubcompIds ??= new Set());
  }
  /** PUBRELs to resend on a new connection (no allocation when there are none). */
  pendingPubrels(): Iterable<number> {
    return this.pubcompIds ?? [];
  }
  /**
   * The connection ended: the core requeues what was in flight. Packet ids stay reserved only
   * for those messages, which are resent with them [MQTT-4.4.0-1], and for PUBREC'd ones whose
   * core ack was still waiting for the in-flight record (they are not sent again).
   */
  clearInflight(): void {
    const inflight = this.inflightById;
    if (this.idsByMessage) {
      for (const [key, id] of this.idsByMessage) if (!inflight?.has(id) && !this.pubcompIds?.has(id)) this.releasePacketId(key);
    }
    inflight?.clear();
  }

  /** The packet id a message was first sent with, if it is still reserved. */
  knownPacketId(messageKey: MessageKey): number | undefined {
    return this.idsByMessage?.get(messageKey);
  }

  /**
   * Reserves a free packet id for a message: none in flight, awaiting PUBCOMP, or reserved
   * for another message that will be resent; 0 when all are in use. A message of the session
   * queue gets the id its offset names when that one is free, so after a broker crash (which
   * forgets unsaved QoS 1 ids) its resend carries the id it was first sent with [MQTT-4.4.0-1].
   */
  assignPacketId(messageKey: MessageKey): number {
    const byMessage = (this.idsByMessage ??= new Map());
    const byId = (this.messagesById ??= new Map());
    if (typeof messageKey === 'number') {
      const id = (messageKey % 65535) + 1;
      if (!byId.has(id) && !this.pubcompIds?.has(id)) {
        byMessage.set(messageKey, id);
        byId.set(id, messageKey);
        return id;
      }
    }
    for (let n = 0; n < 65535; n++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!byId.has(id) && !this.pubcompIds?.has(id)) {
        byMessage.set(messageKey, id);
        byId.set(id, messageKey);
        return id;
      }
    }
    return 0;
  }

  releasePacketId(messageKey: MessageKey): void {
    const id = this.idsByMessage?.get(messageKey);
    if (id === undefined) return;
    this.idsByMessage!.delete(messageKey);
    this.messagesById!.delete(id);
  }

  /** The in-flight state as stored (persistent sessions, InflightStore). */
  inflightRecord(): InflightRecord {
    return {
      received: this.inboundQos2Ids ? [...this.inboundQos2Ids] : [],
      released: this.pubcompIds ? [...this.pubcompIds] : [],
      // Stored as `queue:offset` (the form of records written before offsets were kept as numbers).
      sent: this.idsByMessage ? [...this.idsByMessage].map(([key, id]) => [typeof key === 'number' ? `${this.queue}:${key}` : key, id]) : [],
    };
  }
  restoreInflight(r: InflightRecord): void {
    if (r.received.length) this.inboundQos2Ids = new Set(r.received);
    if (r.released.length) this.pubcompIds = new Set(r.released);
    if (r.sent.length) {
      const own = `${this.queue}:`;
      const sent = r.sent.map(([key, id]): [MessageKey, number] => [key.startsWith(own) && /^\d+$/.test(key.slice(own.length)) ? Number(key.slice(own.length)) : key, id]);
      this.idsByMessage = new Map(sent);
      this.messagesById = new Map(sent.map(([key, id]) => [id, key]));
    }
  }
  /** The in-flight record write that the current tick's changes join (InflightStore, coalesced). */
  inflightSave: Promise<void> | null = null;
  private nextPacketId = 1;
  sessionQueueDeclared = false;
  expiryTimer: NodeJS.Timeout | null = null;

  constructor(readonly clientId: string, public expiryInterval: number) {}

  get persistent(): boolean {
    return this.expiryInterval > 0;
  }

  hasOwnQueueSubscriptions(): boolean {
    for (const s of this.subscriptions.values()) if (!s.shared) return true;
    return false;
  }

  toRecord(disconnectedAt: number | null): SessionRecord {
    return {
      clientId: this.clientId,
      expiryInterval: this.expiryInterval,
      disconnectedAt,
      subscriptions: [...this.subscriptions.values()].map((s) => ({
        filter: s.filter, qos: s.qos, noLocal: s.noLocal, retainAsPublished: s.retainAsPublished,
        retainHandling: s.retainHandling, ...(s.subscriptionId !== undefined ? { subscriptionId: s.subscriptionId } : {}),
      })),
    };
  }

  static fromRecord(r: SessionRecord): MqttSession {
    const s = new MqttSession(r.clientId, r.expiryInterval);
    for (const sub of r.subscriptions) s.setSubscription(activate(sub, s.queue));
    s.sessionQueueDeclared = s.hasOwnQueueSubscriptions();
    return s;
  }
}

import { createMessage, type Connection } from '../../src/core/index.js';
import type { QoS } from './codec/packets.js';
import { RecordQueue } from './record-queue.js';

/** One subscription as a session remembers it (MQTT 5.0 §3.8.3.1 subscription options). */
export interface SubscriptionRecord {
  /** The filter as the client sent it (`$share/g/a/+` included). */
  filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionId?: number;
}

/** A persistent session's durable part: what survives a broker restart. */
export interface SessionRecord {
  clientId: string;
  /** Session Expiry Interval, s; 0xFFFFFFFF = never (3.1.1 clean session 0). */
  expiryInterval: number;
  /** When the last network connection ended (ms), or null while connected. */
  disconnectedAt: number | null;
  subscriptions: SubscriptionRecord[];
}

/** Durable session records, one per client id, in the core queue `mqtt.sessions`. */
export class SessionStore {
  private constructor(private readonly records: RecordQueue) {}

  static async open(connection: Connection): Promise<SessionStore> {
    return new SessionStore(await RecordQueue.open(connection, 'mqtt.sessions'));
  }

  get(clientId: string): SessionRecord | undefined {
    const m = this.records.get(clientId);
    return m ? (JSON.parse(m.body.toString('utf8')) as SessionRecord) : undefined;
  }

  all(): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const [, m] of this.records.entries()) out.push(JSON.parse(m.body.toString('utf8')) as SessionRecord);
    return out;
  }

  put(record: SessionRecord): Promise<void> {
    return this.records.put(record.clientId, createMessage(Buffer.from(JSON.stringify(record)), { properties: { persistent: true } }));
  }

  delete(clientId: string): void {
    this.records.delete(clientId);
  }

  close(): void {
    this.records.close();
  }
}

import { createMessage, type Connection } from '../../src/core/index.js';
import { RecordQueue } from './record-queue.js';

/**
 * The packet-identifier state of a persistent session's QoS 1/2 flows (MQTT 5.0 §4.3.3,
 * §4.4): what a resumed session needs after a broker restart to continue them exactly once.
 */
export interface InflightRecord {
  /** Inbound QoS 2 packet ids PUBREC'd and not yet released by PUBREL [MQTT-4.3.3-9]. */
  received: number[];
  /** Outbound QoS 2 packet ids PUBREL'd and awaiting PUBCOMP: PUBREL is resent [MQTT-4.4.0-1]. */
  released: number[];
  /** Outbound packet id of each message sent and not yet acknowledged (key `queue:offset`), so a resend keeps it [MQTT-4.4.0-1]. */
  sent: [string, number][];
}

/**
 * Durable in-flight records, one per persistent session, in the core queue `mqtt.inflight`
 * (apart from the session records: they change with every QoS 2 message, those with every
 * SUBSCRIBE).
 */
export class InflightStore {
  private constructor(private readonly records: RecordQueue) {}

  static async open(connection: Connection): Promise<InflightStore> {
    return new InflightStore(await RecordQueue.open(connection, 'mqtt.inflight'));
  }

  get(clientId: string): InflightRecord | undefined {
    const m = this.records.get(clientId);
    return m ? (JSON.parse(m.body.toString('utf8')) as InflightRecord) : undefined;
  }

  /**
   * Stores the record; resolves when durable. An emptied record is stored too, not deleted: a
   * stale set of received ids coming back after a crash would swallow new messages that reuse them.
   */
  put(clientId: string, record: InflightRecord): Promise<void> {
    return this.records.put(clientId, createMessage(Buffer.from(JSON.stringify(record)), { properties: { persistent: true } }));
  }

  delete(clientId: string): void {
    this.records.delete(clientId);
  }

  close(): void {
    this.records.close();
  }
}

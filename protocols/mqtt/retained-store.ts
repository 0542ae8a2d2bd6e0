import type { Connection, Message } from '../../src/core/index.js';
import { RecordQueue } from './record-queue.js';
import { levelsMatch } from './topic.js';

/**
 * Retained messages ([MQTT-3.3.1-5]): one per topic, durable in the core queue
 * `mqtt.retained` (they survive restarts), and delivered to every matching subscription,
 * wildcard ones included. `$SYS` values are kept in memory only: they are rewritten every
 * few seconds and mean nothing after a restart.
 */
export class RetainedStore {
  private readonly transient = new Map<string, Message>();

  private constructor(private readonly records: RecordQueue, private readonly now: () => number) {}

  static async open(connection: Connection, now: () => number = Date.now): Promise<RetainedStore> {
    return new RetainedStore(await RecordQueue.open(connection, 'mqtt.retained'), now);
  }

  /** Stores (or, for an empty payload, clears [MQTT-3.3.1-10]) the retained message of `topic`. */
  set(topic: string, message: Message): Promise<void> {
    if (topic.startsWith('$SYS/')) {
      if (message.body.length === 0) this.transient.delete(topic);
      else this.transient.set(topic, message);
      return Promise.resolve();
    }
    if (message.body.length === 0) {
      this.records.delete(topic);
      return Promise.resolve();
    }
    return this.records.put(topic, message);
  }

  /** Unexpired retained messages whose topic matches the filter, with their remaining TTL. */
  *matching(filter: string): Generator<{ topic: string; message: Message; remainingMs: number | null }> {
    const levels = filter.split('/');
    const now = this.now();
    for (const source of [this.records.entries(), this.transient.entries()]) {
      for (const [topic, message] of source) {
        if (!levelsMatch(levels, topic)) continue;
        const ttl = message.properties.expiration;
        let remainingMs: number | null = null;
        if (ttl !== undefined) {
          remainingMs = message.timestamp + ttl - now;
          if (remainingMs <= 0) {
            // [MQTT-3.3.2-5]: an expired retained message is no longer delivered.
            if (!topic.startsWith('$SYS/')) this.records.delete(topic);
            continue;
          }
        }
        yield { topic, message, remainingMs };
      }
    }
  }

  get size(): number {
    return this.records.size + this.transient.size;
  }

  close(): void {
    this.records.close();
  }
}

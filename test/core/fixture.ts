/**
 * Core test fixture: a core on the in-memory store with a hand-driven clock, and helpers to
 * collect deliveries. `restart()` closes the core and opens a new one on the same disk;
 * `crash()` abandons it and opens a new one on a copy of the disk as it was (no close).
 */
import { createCore, createMessage, type Channel, type Connection, type Core, type CoreOptions, type Delivery, type Message, type MessageProperties, type Header } from '../../src/core/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore } from '../../storage/log-store.js';
import type { Store } from '../../storage/types.js';
import { MemoryDisk, MemoryStore } from './memory-store.js';

export class Clock {
  t = 1_700_000_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Fixture {
  core: Core;
  clock: Clock;
  disk: MemoryDisk;
  /** The in-memory store (kind 'memory') — appends counted for store-once checks. */
  store: MemoryStore;
  restart(): Promise<void>;
  crash(): Promise<void>;
  close(): Promise<void>;
}

/**
 * kind 'memory': the in-memory double; kind 'log': the real LogStore in a fresh temp dir
 * (`sync` durability), where crash() abandons the old store without closing it.
 */
export async function openCore(options: CoreOptions = {}, kind: 'memory' | 'log' = 'memory'): Promise<Fixture> {
  const dir = kind === 'log' ? mkdtempSync(join(tmpdir(), 'pb-core-')) : '';
  const clock = new Clock();
  const f: Fixture = {
    core: null as unknown as Core,
    clock,
    disk: new MemoryDisk(),
    store: null as unknown as MemoryStore,
    async restart() {
      await f.core.close();
      await start(f.disk);
    },
    async crash() {
      // Memory: a copy of the disk as it is. Log: the old store is closed under the core (no
      // core close: no snapshot, no journal flush), then reopened.
      if (kind === 'log') await current.close();
      await start(f.disk.crashCopy());
    },
    async close() {
      await f.core.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  let current: Store;
  async function start(disk: MemoryDisk): Promise<void> {
    f.disk = disk;
    let store: Store;
    if (kind === 'log') store = new LogStore({ dir, segmentBytes: 1 << 20, durability: 'sync', intervalMs: 100 });
    else store = f.store = new MemoryStore(disk);
    current = store;
    f.core = createCore(store, { now: clock.now, sweepIntervalMs: 0, alarmCheckIntervalMs: 0, dataDir: dir || undefined, ...options });
    await f.core.open();
  }
  await start(f.disk);
  return f;
}

export function msg(body: string, properties: MessageProperties = {}, headers: Header[] = []): Message {
  return createMessage(Buffer.from(body), { properties, headers });
}

/** Lets scheduled dispatch (microtasks) and journal flushes (setImmediate) run. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export interface Collector {
  deliveries: Delivery[];
  bodies(): string[];
  onDelivery: (d: Delivery) => void;
}

export function collector(): Collector {
  const c: Collector = {
    deliveries: [],
    bodies: () => c.deliveries.map((d) => d.message.body.toString()),
    onDelivery: (d) => c.deliveries.push(d),
  };
  return c;
}

export function session(core: Core, vhost = '/'): { conn: Connection; ch: Channel } {
  const conn = core.connect({ vhost, protocol: 'amqp', clientId: 'test', user: 'guest' });
  return { conn, ch: conn.openChannel() };
}

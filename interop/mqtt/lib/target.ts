import { startBroker, type RunningBroker } from '../../../test/helpers/broker.js';
import { startMqtt, type MqttHarness } from '../../../test/protocols/mqtt/harness.js';

/** A broker the scenarios talk to: host/port, and restart for polybroker only. */
export interface MqttTarget {
  name: string;
  host: string;
  port: number;
  /** Restarts the broker keeping its data (polybroker); absent for peers. */
  restart?(): Promise<void>;
  stop(): Promise<void>;
  /** Unique per run, so retained messages of earlier runs on a peer never interfere. */
  prefix: string;
  /** MQTT over WebSocket, when the broker has it. */
  wsUrl?: string;
}

function adaptersOf(readyLine: string): string[] {
  try {
    const parsed = JSON.parse(readyLine) as { adapters?: string[] };
    return parsed.adapters ?? [];
  } catch {
    return [];
  }
}

let runCounter = 0;
export function uniquePrefix(): string {
  return `it${process.pid.toString(36)}${Date.now().toString(36)}${(runCounter++).toString(36)}`;
}

/**
 * polybroker as a user runs it (startBroker: the CLI child process). While the broker does
 * not yet wire the core to its listeners (its ready line lists no mqtt adapter), the same
 * adapter runs in process on the real core with the memory store, and `name` says so.
 */
export async function startPolybroker(): Promise<MqttTarget> {
  let broker: RunningBroker | null = await startBroker();
  if (adaptersOf(broker.readyLine).includes('mqtt')) {
    const b = broker;
    const t: MqttTarget = {
      name: 'polybroker',
      host: '127.0.0.1',
      port: b.ports.mqtt,
      prefix: uniquePrefix(),
      wsUrl: `ws://127.0.0.1:${b.ports.http}/mqtt`,
      async restart() {
        await b.restart();
        t.port = b.ports.mqtt;
        t.wsUrl = `ws://127.0.0.1:${b.ports.http}/mqtt`;
      },
      async stop() {
        await b.stop();
      },
    };
    return t;
  }
  await broker.stop();
  broker = null;
  let h: MqttHarness = await startMqtt({ sysIntervalMs: 10_000 });
  const t: MqttTarget = {
    name: 'polybroker (in-process core: broker process not integrated yet)',
    host: '127.0.0.1',
    port: h.port,
    prefix: uniquePrefix(),
    async restart() {
      h = await h.restart();
      t.port = h.port;
    },
    async stop() {
      await h.stop();
    },
  };
  return t;
}

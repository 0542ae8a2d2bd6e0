import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';

export interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

/** mqtt.js connected and collecting messages as they come. */
export interface TestClient {
  client: MqttClient;
  received: Received[];
  /** Resolves once `n` messages have arrived in total (waits for events, no polling). */
  waitFor(n: number): Promise<Received[]>;
  end(): Promise<void>;
}

export async function connectClient(url: string, options: IClientOptions = {}): Promise<TestClient> {
  // Listen before the CONNACK: a resumed session's messages can arrive in the same read.
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const received: Received[] = [];
  let waiters: (() => void)[] = [];
  client.on('message', (topic, payload, packet) => {
    received.push({ topic, payload: payload.toString(), packet });
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return {
    client,
    received,
    async waitFor(n: number) {
      while (received.length < n) await new Promise<void>((r) => waiters.push(r));
      return received.slice(0, n);
    },
    async end() {
      await client.endAsync();
    },
  };
}

import mqtt from 'mqtt';
import type { Endpoints } from './endpoints.js';

/** A reading as devices publish it (JSON): the device id travels in the body as well. */
export interface Reading {
  device: string;
  seq: number;
  celsius: number;
  at: number;
}

/**
 * Simulated devices: each an MQTT 5 client publishing QoS 1 readings to
 * `sensors/<device>/temperature`. Every 10th reading is a spike (85 °C: an alert), every 25th a
 * faulty sensor (120 °C: the worker refuses it, so it is dead-lettered).
 */
export async function runDevices(ep: Endpoints, count: number, readings: number, intervalMs: number, stop: AbortSignal): Promise<number> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const device = `device-${n + 1}`;
      const client = await mqtt.connectAsync(`mqtt://${ep.host}:${ep.mqtt}`, { protocolVersion: 5, clientId: device, username: 'guest', password: 'guest', reconnectPeriod: 0 });
      for (let seq = 0; readings === 0 || seq < readings; seq++) {
        if (stop.aborted) break;
        const celsius = seq % 25 === 24 ? 120 : seq % 10 === 9 ? 85 : Math.round((20 + 5 * Math.sin(seq / 5 + n)) * 10) / 10;
        const reading: Reading = { device, seq, celsius, at: Date.now() };
        await client.publishAsync(`sensors/${device}/temperature`, JSON.stringify(reading), { qos: 1, properties: { contentType: 'application/json' } });
        sent++;
        if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
      }
      await client.endAsync();
    }),
  );
  return sent;
}

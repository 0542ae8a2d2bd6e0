import amqplib from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import type { Reading } from './devices.js';
import type { Endpoints } from './endpoints.js';

export const ALERT_CELSIUS = 80;

export interface DeviceStats {
  count: number;
  mean: number;
  max: number;
}

/**
 * A Kafka consumer group (`aggregators`, two members sharing the three partitions of `sensors`)
 * keeps per-device statistics and publishes an alert to the AMQP exchange `alerts`
 * (routing key `alert.<device>`) for every reading above ALERT_CELSIUS. The device is the
 * record's `x-pb-origin-client-id` header: the MQTT client id the broker stamped.
 */
export async function startAggregator(ep: Endpoints, onReading: () => void) {
  const kafka = new Kafka({ brokers: [`${ep.host}:${ep.kafka}`], clientId: 'aggregator', logLevel: logLevel.NOTHING });
  const amqp = await amqplib.connect(`amqp://guest:guest@${ep.host}:${ep.amqp}`, { clientProperties: { connection_name: 'aggregator' } });
  const ch = await amqp.createConfirmChannel();
  const stats = new Map<string, DeviceStats>();
  let alerts = 0;
  const members = await Promise.all(
    [1, 2].map(async () => {
      const consumer = kafka.consumer({ groupId: 'aggregators' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'sensors', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const reading = JSON.parse(message.value!.toString()) as Reading;
          // Who sent it, as the broker stamped it (the MQTT client id), not the device's own claim.
          const stamped = message.headers?.['x-pb-origin-client-id'];
          const r = { ...reading, device: stamped ? stamped.toString() : reading.device };
          const s = stats.get(r.device) ?? { count: 0, mean: 0, max: -Infinity };
          s.count++;
          s.mean += (r.celsius - s.mean) / s.count;
          s.max = Math.max(s.max, r.celsius);
          stats.set(r.device, s);
          if (r.celsius > ALERT_CELSIUS) {
            ch.publish('alerts', `alert.${r.device}`, Buffer.from(JSON.stringify({ ...r, mean: s.mean })), { persistent: true, contentType: 'application/json' });
            await ch.waitForConfirms();
            alerts++;
          }
          onReading();
        },
      });
      return consumer;
    }),
  );
  return {
    stats,
    alerts: () => alerts,
    async close() {
      await Promise.all(members.map((m) => m.disconnect()));
      await amqp.close();
    },
  };
}

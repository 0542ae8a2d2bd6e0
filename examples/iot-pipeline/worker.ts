import amqplib from 'amqplib';
import type { Endpoints } from './endpoints.js';

/**
 * Workers take alerts from the durable queue `alerts.work` (prefetch 10, manual acks). An alert
 * from a faulty sensor (>= 100 °C) is rejected without requeue: the queue dead-letters it to
 * `alerts.dlx` → `alerts.dead`, where a watcher reads it with its `x-death` reason.
 */
export async function startWorker(ep: Endpoints, onSettled: (kind: 'handled' | 'dead', alert: { device: string; celsius: number }, why?: string) => void) {
  const conn = await amqplib.connect(`amqp://guest:guest@${ep.host}:${ep.amqp}`, { clientProperties: { connection_name: 'worker' } });
  const work = await conn.createChannel();
  await work.prefetch(10);
  await work.consume('alerts.work', (m) => {
    if (!m) return;
    const alert = JSON.parse(m.content.toString()) as { device: string; celsius: number };
    if (alert.celsius >= 100) work.reject(m, false);
    else {
      work.ack(m);
      onSettled('handled', alert);
    }
  });
  const dead = await conn.createChannel();
  await dead.consume('alerts.dead', (m) => {
    if (!m) return;
    const deaths = m.properties.headers?.['x-death'] as Array<{ reason: string }> | undefined;
    dead.ack(m);
    onSettled('dead', JSON.parse(m.content.toString()) as { device: string; celsius: number }, deaths?.[0]?.reason);
  });
  return { close: () => conn.close() };
}

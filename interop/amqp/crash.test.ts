import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { startTarget, type Target } from './target.js';

describe('crash: SIGKILL under confirmed persistent load', () => {
  let target: Target | undefined;
  afterAll(async () => {
    await target?.stop();
  });

  it('delivers every confirmed message after restart and redelivers the unacked ones', async () => {
    target = await startTarget();
    const url = () => `amqp://guest:guest@${target!.host}:${target!.port}`;
    const conn = await amqp.connect(url());
    conn.on('error', () => {});
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => {});
    const q = 'crash-durable';
    await ch.assertQueue(q, { durable: true });

    const confirmed = new Set<number>();
    let inFlight = 0;
    let next = 0;
    let stopped = false;
    let reachedTarget!: () => void;
    const enough = new Promise<void>((r) => (reachedTarget = r));
    // Keep up to 500 publishes unconfirmed, as a real producer would.
    const pump = () => {
      while (!stopped && inFlight < 500) {
        const id = next++;
        inFlight++;
        ch.publish('', q, Buffer.from(String(id)), { persistent: true }, (err) => {
          inFlight--;
          if (!err) confirmed.add(id);
          if (confirmed.size >= 3000) reachedTarget();
          if (!stopped) pump();
        });
      }
    };
    pump();
    await enough;

    // Take a few without acking: they must come back redelivered.
    const reader = await conn.createChannel();
    reader.on('error', () => {});
    const unacked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await reader.get(q, { noAck: false });
      if (m) unacked.push(m.content.toString());
    }
    expect(unacked.length).toBe(5);
    // The core writes delivery marks in the tick after the delivery (without fsync; a SIGKILL
    // keeps what reached the OS). One more confirmed publish makes sure that tick has passed.
    stopped = true;
    await new Promise<void>((resolve, reject) => ch.publish('', q, Buffer.from('-1'), { persistent: true }, (err) => (err ? reject(err) : resolve())));

    await target.crashRestart();
    const conn2 = await amqp.connect(url());
    const ch2 = await conn2.createChannel();
    const depth = (await ch2.checkQueue(q)).messageCount;
    const received = new Map<number, boolean>();
    for (let i = 0; i < depth; i++) {
      const m = await ch2.get(q, { noAck: true });
      if (!m) break;
      received.set(Number(m.content.toString()), m.fields.redelivered);
    }
    const missing = [...confirmed].filter((id) => !received.has(id));
    expect(missing).toEqual([]);
    for (const id of unacked) expect(received.get(Number(id))).toBe(true);
    await conn2.close();
  });
});

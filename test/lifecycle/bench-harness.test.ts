import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BenchHarness, fmt, median } from '../../bench/harness.js';
import { cpuSeconds, meterCpu } from '../../bench/harness-cpu.js';
import { pidListeningOn } from '../../bench/peers.js';

describe('bench harness', () => {
  it('median of odd and even sample counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('runs a workload --runs times and keeps median, min and max per figure', async () => {
    const h = new BenchHarness('t', 3, []);
    const runs: number[] = [];
    const [rate] = await h.measure(
      'w',
      async (ctx) => {
        runs.push(ctx.run);
        return { 'msgs/s': [10, 30, 20][ctx.run - 1]! };
      },
      { units: 'msgs/s', warmupRuns: 1 },
    );
    expect(runs).toEqual([0, 1, 2, 3]); // one warm-up, then three measured runs
    expect(rate).toMatchObject({ workload: 'w', figure: 'msgs/s', subject: 'polybroker', unit: 'msgs/s', samples: [10, 30, 20], median: 20, min: 10, max: 30 });
  });

  it('puts a peer figure of the same workload beside ours with the ratio', async () => {
    const h = new BenchHarness('t', 1, []);
    await h.measure('amqp', async () => ({ 'msgs/s': 300 }));
    await h.measure('amqp', async () => ({ 'msgs/s': 100 }), { subject: 'rabbitmq' });
    await h.measure('raw', async () => ({ 'MB/s': 1000 }));
    await h.measure('append', async () => ({ 'MB/s': 600 }), { reference: 'raw' });
    const rows = h.table();
    expect(rows[0]).toEqual(['workload', 'figure', 'median', 'min', 'max', 'unit', 'runs', 'vs', 'vs median', 'ratio']);
    expect(rows.find((r) => r[0] === 'amqp')).toEqual(['amqp', 'msgs/s', '300.0', '300.0', '300.0', '', '1', 'rabbitmq', '100.0', '3.00×']);
    expect(rows.find((r) => r[0] === 'append')).toEqual(['append', 'MB/s', '600.0', '600.0', '600.0', '', '1', 'raw', '1,000', '0.60×']);
    // The peer's own row is not repeated once shown beside ours.
    expect(rows.filter((r) => r[0].includes('rabbitmq'))).toEqual([]);
  });

  it('runs cleanups in reverse order even after a failure', async () => {
    const h = new BenchHarness('t', 1, []);
    const order: string[] = [];
    h.onCleanup(() => void order.push('first'));
    h.onCleanup(() => {
      order.push('second');
      throw new Error('cleanup failure is reported, not thrown');
    });
    await h.cleanup();
    expect(order).toEqual(['second', 'first']);
  });

  it('formats numbers for the table', () => {
    expect(fmt(123456.7)).toBe('123,457');
    expect(fmt(12.345)).toBe('12.35');
    expect(fmt(0.01234)).toBe('0.0123');
  });
});

describe('CPU meter and peer lookup', () => {
  it('reads a process CPU time from /proc and measures a busy loop near one core', () => {
    expect(cpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(cpuSeconds(4_194_305)).toBeUndefined();
    const meter = meterCpu(process.pid);
    const until = Date.now() + 300;
    while (Date.now() < until); // busy: this process uses one core
    const share = meter.read();
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(200);
  });

  it('finds the pid listening on a port', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(pidListeningOn(port)).toBe(process.pid);
    } finally {
      server.close();
    }
  });
});

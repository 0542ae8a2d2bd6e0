import { fileURLToPath } from 'node:url';
import type { Harness } from './harness.js';
import { waitForIdle } from './harness-cpu.js';
import { runGenerator } from './generator-run.js';
import type { Workload } from './amqp-load.js';

/**
 * `npm run bench -- amqp [--seconds N] [--stock] [--only a,b,c]`: the three workloads of issue 5 against
 * polybroker and RabbitMQ (../shared/peers) in one invocation, driven by the lean generator
 * (bench/amqp-load.ts, a separate process). Figures: delivered msgs/s end to end (fan-out:
 * published/s, each delivered to 10 queues), generator CPU and broker CPU in % of one core.
 * With `--stock` every workload is also run with amqplib as the generator.
 */
const WORKLOADS: { workload: Workload; label: string }[] = [
  { workload: 'confirms', label: '(a) 1 KiB persistent + confirms, durable, manual ack, prefetch 1000' },
  { workload: 'transient', label: '(b) 1 KiB transient, no confirms, auto-ack' },
  { workload: 'fanout', label: '(c) 1 KiB fanout to 10 queues, 10 consumers (published/s)' },
];

const generatorScript = fileURLToPath(new URL('./amqp-load.js', import.meta.url));

interface LoadResult { published: number; delivered: number; seconds: number }


export async function run(h: Harness): Promise<void> {
  const secondsArg = h.args.indexOf('--seconds');
  const seconds = secondsArg >= 0 ? Number(h.args[secondsArg + 1]) : 5;
  const stock = h.args.includes('--stock');
  const onlyArg = h.args.indexOf('--only');
  const only = onlyArg >= 0 ? new Set(h.args[onlyArg + 1]!.split(',')) : null;
  const workloads = WORKLOADS.filter((w) => !only || only.has(w.workload) || only.has(w.label[1]!));
  const broker = await h.startBroker();
  const rabbit = await h.startPeer('rabbitmq');
  const targets = [
    { subject: 'polybroker', port: broker.ports.amqp, pid: broker.pid },
    { subject: 'rabbitmq', port: rabbit.ports.amqp!, pid: rabbit.pid },
  ];
  const clients: ('raw' | 'amqplib')[] = stock ? ['raw', 'amqplib'] : ['raw'];
  for (const client of clients) {
    for (const w of workloads) {
      const label = client === 'raw' ? w.label : `${w.label} [amqplib generator]`;
      for (const t of targets) {
        await h.measure(
          label,
          async (ctx) => {
            // Both brokers idle first: the other one's clean-up must not load this run.
            await waitForIdle(targets.map((x) => x.pid).filter((pid): pid is number => pid !== undefined));
            ctx.progress(`${t.subject} ${w.workload} ${client}`);
            const { r, genCpu, brokerCpu } = await runGenerator<LoadResult>(h, generatorScript, { port: t.port, workload: w.workload, seconds, warmupSeconds: 1, client }, t.pid);
            const rate = w.workload === 'fanout' ? r.delivered / 10 / r.seconds : r.delivered / r.seconds;
            return { 'msgs/s': Math.round(rate), 'gen cpu': Math.round(genCpu), 'broker cpu': Math.round(brokerCpu) };
          },
          { subject: t.subject, units: { 'msgs/s': 'msgs/s', 'gen cpu': '%', 'broker cpu': '%' } },
        );
      }
    }
  }
  h.note('msgs/s = delivered per second end to end (fan-out: published/s, each delivered to 10 queues); medians of the runs.');
  h.note('gen cpu / broker cpu = CPU share of the generator process and of the broker process over the measured window (100 % = one core).');
  h.note('before each run the bench waits until both brokers use < 10 % CPU (at most 20 s), so one broker\'s clean-up does not load the other\'s run.');
  h.note(`publishers are closed-loop: at most 1,000 unconfirmed (a), 20,000 (b) or 5,000 (c) messages ahead of the consumers; ${seconds} s windows after 1 s warm-up.`);
}

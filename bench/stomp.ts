import { fileURLToPath } from 'node:url';
import type { Harness } from './harness.js';
import { waitForIdle } from './harness-cpu.js';
import { runGenerator } from './generator-run.js';
import { pidListeningOn } from './peers.js';
import type { Workload } from './stomp-load.js';

/**
 * `npm run bench -- stomp [--seconds N] [--only WORDS] [--stock] [--rabbit-ws URL] [--rabbit-port PORT]`: issue 7's workloads
 * against polybroker and RabbitMQ's STOMP plugin (../shared/peers) in one invocation, driven by
 * the lean generator (bench/stomp-load.ts, a separate process), over TCP and over WebSocket.
 * Figures: msgs/s (queues: delivered per second; topic: published per second, each delivered
 * to 10 subscribers), generator CPU and broker CPU in % of one core. `--stock` adds the queue
 * workloads driven by stompit. RabbitMQ's WebSocket rows need Web-STOMP, which the shared peer
 * does not enable: pass its URL with `--rabbit-ws ws://127.0.0.1:15674/ws` when it has it.
 * bench/stomp-rabbitmq-ws.sh starts a private RabbitMQ node with Web-STOMP for that:
 *   bash bench/stomp-rabbitmq-ws.sh && npm run bench -- stomp --rabbit-port 62623 --rabbit-ws ws://127.0.0.1:15694/ws
 */
const WORKLOADS: { workload: Workload; label: string }[] = [
  { workload: 'queue-client-individual', label: 'STOMP 1 KiB /queue 1 → 1, client-individual acks' },
  { workload: 'queue-auto', label: 'STOMP 1 KiB /queue 1 → 1, ack auto' },
  { workload: 'topic-fanout', label: 'STOMP 1 KiB /topic 1 → 10 subscribers (published/s)' },
];

const generatorScript = fileURLToPath(new URL('./stomp-load.js', import.meta.url));

interface LoadResult {
  published: number;
  delivered: number;
  seconds: number;
  cpu: number;
}


interface Target {
  subject: string;
  port: number;
  wsUrl: string | undefined;
  pid: number | undefined;
}

export async function run(h: Harness): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = h.args.indexOf(name);
    return i >= 0 ? h.args[i + 1] : undefined;
  };
  const seconds = Number(arg('--seconds') ?? 5);
  const stock = h.args.includes('--stock');
  // `--only auto,topic`: the workloads whose name contains one of the words (all by default).
  const only = arg('--only')?.split(',');
  const selected = (w: Workload) => only === undefined || only.some((word) => w.includes(word));
  const broker = await h.startBroker();
  // `--rabbit-port`: a RabbitMQ STOMP listener already running (one with Web-STOMP too, or one
  // no other bench stops midway); otherwise the shared peer.
  const rabbitPort = arg('--rabbit-port');
  const rabbit =
    rabbitPort === undefined
      ? await h.startPeer('rabbitmq')
      : { ports: { stomp: Number(rabbitPort) }, pid: pidListeningOn(Number(rabbitPort)) };
  const targets: Target[] = [
    { subject: 'polybroker', port: broker.ports.stomp, wsUrl: `ws://127.0.0.1:${broker.ports.http}/ws`, pid: broker.pid },
    { subject: 'rabbitmq', port: rabbit.ports.stomp!, wsUrl: arg('--rabbit-ws'), pid: rabbit.pid },
  ];
  const units = { 'msgs/s': 'msgs/s', 'gen cpu': '%', 'broker cpu': '%' };
  const measure = async (label: string, t: Target, options: Record<string, unknown>, workload: Workload) => {
    await h.measure(
      label,
      async (ctx) => {
        // Both brokers idle first: the other one's clean-up must not load this run.
        await waitForIdle(targets.map((x) => x.pid).filter((pid): pid is number => pid !== undefined));
        ctx.progress(`${t.subject} ${label}`);
        const { r, genCpu, brokerCpu } = await runGenerator<LoadResult>(h, generatorScript, { port: t.port, workload, seconds, warmupSeconds: 1, ...options }, t.pid);
        const rate = workload === 'topic-fanout' ? r.delivered / 10 / r.seconds : r.delivered / r.seconds;
        return { 'msgs/s': Math.round(rate), 'gen cpu': Math.round(genCpu), 'broker cpu': Math.round(brokerCpu) };
      },
      { subject: t.subject, units },
    );
  };
  for (const w of WORKLOADS.filter((x) => selected(x.workload))) {
    for (const t of targets) await measure(w.label, t, {}, w.workload);
  }
  for (const w of WORKLOADS.filter((x) => selected(x.workload))) {
    for (const t of targets) {
      if (t.wsUrl === undefined) continue;
      await measure(`${w.label} [WebSocket]`, t, { wsUrl: t.wsUrl }, w.workload);
    }
  }
  if (stock) {
    for (const w of WORKLOADS.filter((x) => x.workload !== 'topic-fanout' && selected(x.workload))) {
      for (const t of targets) await measure(`${w.label} [stompit generator]`, t, { client: 'stompit' }, w.workload);
    }
  }
  h.note('msgs/s = delivered per second end to end (topic: published/s, each delivered to 10 subscribers); medians of the runs.');
  h.note('gen cpu / broker cpu = CPU share of the generator process and of the broker process over the measured window (100 % = one core).');
  h.note(`the producer is closed-loop (at most 2,000 messages ahead of the slowest consumer), no prefetch-count (RabbitMQ's default, unlimited); ${seconds} s windows after 1 s warm-up.`);
  if (targets[1]!.wsUrl === undefined) h.note('RabbitMQ over WebSocket not measured: the shared peer has no Web-STOMP listener (pass --rabbit-ws URL).');
}

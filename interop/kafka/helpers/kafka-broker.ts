/**
 * A broker with a Kafka listener for the interop tests. It runs the real broker process
 * (test/helpers/broker.ts) when that process serves Kafka; until the broker wires adapters to the
 * core, it runs the same adapter on the same store and core in a child process of its own
 * (test/protocols/kafka/helpers/serve-kafka.ts). Either way it is a separate process that can
 * be stopped, SIGKILLed and restarted on the same data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startBroker, type RunningBroker } from '../../../test/helpers/broker.js';
import type { KafkaOptions } from '../../../protocols/kafka/options.js';

export interface KafkaBroker {
  port: number;
  bootstrap: string;
  /** The AMQP listener of the same broker (0 when the Kafka adapter runs alone). */
  amqpPort: number;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

let brokerServesKafka: boolean | null = null;

/** `config`: other sections of the broker's config (e.g. small `storage.segmentBytes`). */
export async function startKafkaBroker(options: Partial<KafkaOptions> = {}, config: Record<string, unknown> = {}): Promise<KafkaBroker> {
  if (brokerServesKafka !== false) {
    const b = await startBroker({ config: { ...config, kafka: options } });
    brokerServesKafka = /"adapters":\[[^\]]*"kafka"/.test(b.readyLine);
    if (brokerServesKafka) return fromRunningBroker(b);
    await b.stop();
  }
  return startServeKafka(options);
}

function fromRunningBroker(b: RunningBroker): KafkaBroker {
  const k: KafkaBroker = {
    port: b.ports.kafka,
    bootstrap: `127.0.0.1:${b.ports.kafka}`,
    amqpPort: b.ports.amqp,
    dataDir: b.dataDir,
    output: () => b.output(),
    async stop() {
      await b.stop();
    },
    async kill() {
      await b.kill();
    },
    async restart() {
      await b.restart();
      k.port = b.ports.kafka;
      k.amqpPort = b.ports.amqp;
      k.bootstrap = `127.0.0.1:${b.ports.kafka}`;
    },
  };
  return k;
}

async function startServeKafka(options: Partial<KafkaOptions>): Promise<KafkaBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pb-kafka-interop-'));
  let child: ChildProcess;
  let out = '';
  const launch = async (): Promise<number> => {
    child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/protocols/kafka/helpers/serve-kafka.ts'), dataDir, JSON.stringify(options)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise<number>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /kafka ready (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => reject(new Error(`kafka server exited (${code}): ${out}`)));
    });
  };
  const exited = () => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  const port = await launch();
  const k: KafkaBroker = {
    port,
    bootstrap: `127.0.0.1:${port}`,
    amqpPort: 0,
    dataDir,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exited();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async kill() {
      child.kill('SIGKILL');
      await exited();
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited();
      }
      out = '';
      k.port = await launch();
      k.bootstrap = `127.0.0.1:${k.port}`;
    },
  };
  return k;
}

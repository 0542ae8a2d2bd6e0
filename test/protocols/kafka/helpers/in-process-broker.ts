/**
 * A Kafka listener in this process on a real LogStore and core (temp dir, port 0): what the
 * broker process will run, minus the CLI. Used by the Kafka tests that need to look inside
 * (core state) or to run before the broker wires adapters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createStore } from '../../../../storage/index.js';
import { createCore, type Core } from '../../../../src/core/index.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../../protocols/kafka/adapter.js';
import type { KafkaOptions } from '../../../../protocols/kafka/options.js';

export interface InProcessKafka {
  port: number;
  core: Core;
  adapter: KafkaAdapter;
  dir: string;
  /** Log lines written by the adapter (JSON objects). */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startInProcessKafka(options: Partial<KafkaOptions> = {}, dir?: string): Promise<InProcessKafka> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'pb-kafka-'));
  const store = createStore({ dir: dataDir, segmentBytes: 64 * 1024 * 1024, durability: 'sync', intervalMs: 100 });
  const core = createCore(store, { durability: 'sync', alarmCheckIntervalMs: 0 });
  await core.open();
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: process.env.KAFKA_TEST_LOG ? 'debug' : 'info' },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
        if (process.env.KAFKA_TEST_LOG) process.stderr.write(line);
      },
    },
  );
  const adapter = createKafkaAdapter(core, { log }, options);
  const server: Server = createServer((socket) => {
    adapter.accept(socket, {
      listener: 'kafka',
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
      tls: false,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    core,
    adapter,
    dir: dataDir,
    logs,
    async stop() {
      await adapter.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.close();
      if (!dir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

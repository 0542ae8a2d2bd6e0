import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startBroker, type RunningBroker } from '../helpers/broker.js';
import { eventually, managementClient } from './mgmt-client.js';

interface Family {
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const here = dirname(fileURLToPath(import.meta.url));

/** Parsed by Prometheus's reference parser (python3-prometheus-client), not by our own code. */
function parse(text: string): Record<string, Family> {
  const r = spawnSync('/usr/bin/python3', [join(here, 'python/parse_metrics.py')], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prometheus parser rejected /metrics: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, Family>;
}

function value(f: Record<string, Family>, family: string, labels: Record<string, string> = {}, sample?: string): number | undefined {
  return f[family]?.samples.find((s) => (sample === undefined || s.name === sample) && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

let broker: RunningBroker;
const scrape = async () => parse(await (await fetch(`http://127.0.0.1:${broker.ports.http}/metrics`)).text());

beforeAll(async () => {
  broker = await startBroker({ config: { vhosts: { '/': { queues: [{ name: 'work', durable: true }], streams: [{ name: 'events', partitions: 1 }] } } } });
}, 60_000);
afterAll(async () => {
  await broker?.stop();
});

describe('/metrics', () => {
  it('parses with the Prometheus text-format parser and carries the broker families', async () => {
    const f = await scrape();
    for (const name of [
      'polybroker_connections',
      'polybroker_messages_published',
      'polybroker_messages_delivered',
      'polybroker_network_received_bytes',
      'polybroker_network_sent_bytes',
      'polybroker_queue_messages_ready',
      'polybroker_queue_messages_unacked',
      'polybroker_queue_consumers',
      'polybroker_stream_messages',
      'polybroker_consumer_group_lag',
      'polybroker_storage_append_write_seconds',
      'polybroker_storage_fsync_seconds',
      'polybroker_alarm',
      'nodejs_eventloop_lag_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(f, name).toHaveProperty([name]);
    }
    // The parser strips `_total` from counter family names; the samples keep it.
    expect(f.polybroker_messages_published!.type).toBe('counter');
    expect(f.polybroker_storage_fsync_seconds!.type).toBe('histogram');
    expect(value(f, 'polybroker_alarm', { kind: 'memory' })).toBe(0);
  });

  it('counts AMQP and Kafka traffic, bytes, queue depth, consumer lag and storage timings', async () => {
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const ch = await conn.createConfirmChannel();
    for (let i = 0; i < 20; i++) ch.sendToQueue('work', Buffer.from(`job ${i}`), { persistent: true });
    await ch.waitForConfirms();
    const got: amqplib.ConsumeMessage[] = [];
    await ch.prefetch(5);
    await ch.consume('work', (m) => m && got.push(m));
    await eventually(async () => got.length === 5, '5 deliveries');

    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'metrics-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'events', messages: Array.from({ length: 12 }, (_, i) => ({ value: `e${i}` })) });
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'reporting', topic: 'events', partitions: [{ partition: 0, offset: '4' }] });

    try {
      const f = await eventually(async () => {
        const m = await scrape();
        return value(m, 'polybroker_queue_messages_unacked', { queue: 'work' }) === 5 ? m : null;
      }, 'unacked 5 in /metrics');
      expect(value(f, 'polybroker_messages_published', { protocol: 'amqp' }, 'polybroker_messages_published_total')).toBeGreaterThanOrEqual(20);
      expect(value(f, 'polybroker_messages_published', { protocol: 'kafka' }, 'polybroker_messages_published_total')).toBeGreaterThanOrEqual(12);
      expect(value(f, 'polybroker_messages_delivered', { protocol: 'amqp' }, 'polybroker_messages_delivered_total')).toBeGreaterThanOrEqual(5);
      expect(value(f, 'polybroker_queue_messages_ready', { vhost: '/', queue: 'work' })).toBe(15);
      expect(value(f, 'polybroker_queue_consumers', { queue: 'work' })).toBe(1);
      expect(value(f, 'polybroker_connections', { protocol: 'amqp' })).toBe(1);
      expect(value(f, 'polybroker_connections', { protocol: 'kafka' })).toBeGreaterThanOrEqual(1);
      expect(value(f, 'polybroker_network_received_bytes', { protocol: 'amqp' }, 'polybroker_network_received_bytes_total')).toBeGreaterThan(20 * 5);
      expect(value(f, 'polybroker_network_sent_bytes', { protocol: 'kafka' }, 'polybroker_network_sent_bytes_total')).toBeGreaterThan(0);
      expect(value(f, 'polybroker_stream_messages', { stream: 'events', partition: '0' })).toBe(12);
      expect(value(f, 'polybroker_consumer_group_lag', { group: 'reporting', stream: 'events', partition: '0' })).toBe(8);
      expect(value(f, 'polybroker_storage_append_write_seconds', {}, 'polybroker_storage_append_write_seconds_count')).toBeGreaterThan(0);
      expect(value(f, 'polybroker_storage_append_write_seconds', { le: '+Inf' }, 'polybroker_storage_append_write_seconds_bucket')).toBeGreaterThan(0);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
      await conn.close();
    }
    // Closed connections keep counting in the byte totals.
    const after = await scrape();
    expect(value(after, 'polybroker_network_received_bytes', { protocol: 'amqp' }, 'polybroker_network_received_bytes_total')).toBeGreaterThan(100);
  });

  it('is served without authentication while the API needs it', async () => {
    expect((await fetch(`http://127.0.0.1:${broker.ports.http}/metrics`)).status).toBe(200);
    expect((await managementClient(broker.ports.http, 'nobody', 'x').get('/api/queues')).status).toBe(401);
  });
});

describe('/metrics with management.metricsAuthentication', () => {
  const all = { configure: '.*', write: '.*', read: '.*' };
  let secured: RunningBroker;
  const get = (user?: string, password = 'pw') =>
    fetch(`http://127.0.0.1:${secured.ports.http}/metrics`, { headers: user ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {} });

  beforeAll(async () => {
    secured = await startBroker({
      config: {
        management: { metricsAuthentication: true },
        auth: { failedLoginDelayMs: 0 },
        users: [
          { name: 'watcher', password: 'pw', tags: ['monitoring'] },
          { name: 'boss', password: 'pw', tags: ['administrator'], permissions: { '/': all } },
          { name: 'manager', password: 'pw', tags: ['management'], permissions: { '/': all } },
          { name: 'app', password: 'pw', permissions: { '/': all } },
        ],
      },
    });
  }, 60_000);
  afterAll(async () => {
    await secured?.stop();
  });

  it('answers 401 with a Basic challenge without valid credentials, 403 to a user without the monitoring or administrator tag', async () => {
    for (const res of [await get(), await get('watcher', 'wrong'), await get('nobody')]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
    for (const user of ['manager', 'app']) {
      const res = await get(user);
      expect(res.status, user).toBe(403);
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(((await res.json()) as { reason: string }).reason).toMatch(/monitoring or administrator tag/);
    }
  });

  it('serves monitoring and administrator users output that the Prometheus parser parses', async () => {
    for (const user of ['watcher', 'boss']) {
      const res = await get(user);
      expect(res.status, user).toBe(200);
      const f = parse(await res.text());
      expect(f.polybroker_messages_published!.type).toBe('counter');
      expect(value(f, 'polybroker_alarm', { kind: 'disk' })).toBe(0);
    }
  });

  it('is switched off by a reload, at once', async () => {
    writeFileSync(secured.configFile, readFileSync(secured.configFile, 'utf8').replace('"metricsAuthentication": true', '"metricsAuthentication": false'));
    const r = await runCli(['ctl', '--data-dir', secured.dataDir, 'reload']);
    expect(r.stdout).toContain('applied management settings');
    expect((await get()).status).toBe(200);
  });
});

/**
 * examples/iot-pipeline runs as its README says, against a broker started with its YAML: every
 * reading is aggregated by the Kafka group, every alert is handled or dead-lettered, and the
 * page's STOMP-over-WebSocket subscriptions (made here with stompjs, as the page does) see the
 * readings with the broker-stamped device id and the alerts. Then the page itself (index.html,
 * served by the example's page server) runs in headless Debian Chromium driven by
 * playwright-core, with the stompjs browser bundle, and shows a run live.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Client, type IMessage } from '@stomp/stompjs';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot, startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { startPageServer } from '../../examples/iot-pipeline/page-server.js';

/** Debian's chromium (scripts/ensure-debian-clients.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';

const dir = join(repoRoot, 'examples', 'iot-pipeline');
let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ config: readFileSync(join(dir, 'polybroker.yaml'), 'utf8') });
});

afterAll(async () => {
  await broker?.stop();
});

function exampleEnv(devices: number, readings: number): Record<string, string> {
  const p = broker.ports;
  return {
    PB_HOST: '127.0.0.1',
    PB_AMQP_PORT: String(p.amqp),
    PB_MQTT_PORT: String(p.mqtt),
    PB_KAFKA_PORT: String(p.kafka),
    PB_HTTP_PORT: String(p.http),
    PAGE_PORT: '0',
    IOT_DEVICES: String(devices),
    IOT_READINGS: String(readings),
    IOT_INTERVAL_MS: '0',
  };
}

function runExample(env: Record<string, string>): Promise<string> {
  const tsx = createRequire(join(repoRoot, 'package.json')).resolve('tsx');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, join(dir, 'run.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`run.ts exited ${code}\n${out}\n${err}`))));
  });
}

it('devices → Kafka group → AMQP work queue + DLQ → STOMP over WebSocket, nothing lost', async () => {
  const p = broker.ports;
  const seen = { readings: [] as IMessage[], alerts: [] as IMessage[] };
  // Resolves once the subscriptions saw n readings and m alerts (checked on every arrival).
  let waiter: { n: number; m: number; resolve: () => void } | null = null;
  const arrived = () => {
    if (waiter && seen.readings.length >= waiter.n && seen.alerts.length >= waiter.m) waiter.resolve();
  };
  const seenAll = (n: number, m: number) => new Promise<void>((resolve) => {
    waiter = { n, m, resolve };
    arrived();
  });
  const stomp = new Client({
    brokerURL: `ws://127.0.0.1:${p.http}/ws`,
    connectHeaders: { login: 'guest', passcode: 'guest' },
    webSocketFactory: () => new WebSocket(`ws://127.0.0.1:${p.http}/ws`, ['v12.stomp']),
    reconnectDelay: 0,
  });
  await new Promise<void>((resolve) => {
    stomp.onConnect = () => {
      stomp.subscribe('/topic/sensors.#', (m) => {
        seen.readings.push(m);
        arrived();
      });
      stomp.subscribe('/exchange/alerts/alert.#', (m) => {
        seen.alerts.push(m);
        arrived();
      }, { receipt: 'subscribed' });
      stomp.watchForReceipt('subscribed', () => resolve());
    };
    stomp.activate();
  });

  const devices = 3;
  const readings = 30;
  const out = await runExample(exampleEnv(devices, readings));
  const summary = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
  // Per device: readings 9, 19, 29 spike (85 °C), reading 24 is a fault (120 °C).
  expect(summary).toEqual({ sent: devices * readings, aggregated: devices * readings, alerts: devices * 4, handled: devices * 3, dead: devices, deadReasons: ['rejected'] });

  // The page's view: every reading (stamped with the MQTT client id) and every alert.
  await seenAll(devices * readings, devices * 4);
  expect(seen.readings).toHaveLength(devices * readings);
  expect(new Set(seen.readings.map((m) => m.headers['x-pb-origin-client-id']))).toEqual(new Set(['device-1', 'device-2', 'device-3']));
  expect(seen.readings.every((m) => m.headers['x-pb-origin-protocol'] === 'mqtt')).toBe(true);
  expect(seen.alerts).toHaveLength(devices * 4);
  expect(seen.alerts[0]!.headers['x-pb-origin-client-id']).toBe('aggregator');
  await stomp.deactivate();
});

it('the live page in headless Chromium shows every device (by its broker-stamped client id) and every alert', async () => {
  const p = broker.ports;
  const server = await startPageServer({ host: '127.0.0.1', amqp: p.amqp, mqtt: p.mqtt, kafka: p.kafka, http: p.http }, 0);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    // Subscribed once the status line says so (the page subscribes in onConnect).
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('connected to ws://'));

    const devices = 2;
    const readings = 30;
    const summary = JSON.parse((await runExample(exampleEnv(devices, readings))).trim().split('\n').pop()!) as { alerts: number };
    // Readings 9, 19, 29 spike and 24 is a fault, per device: four alerts each.
    expect(summary.alerts).toBe(devices * 4);

    // The page's own tables, as a person would see them: one row per device with its count.
    await page.waitForFunction(
      ({ n, per, alerts }) =>
        document.querySelectorAll('#readings tr').length === n &&
        [...document.querySelectorAll('#readings tr')].every((r) => r.children[1]?.textContent === String(per)) &&
        document.querySelectorAll('#alerts li').length === alerts,
      { n: devices, per: readings, alerts: devices * 4 },
    );
    const rows = await page.$$eval('#readings tr', (trs) => trs.map((r) => [...r.children].map((c) => c.textContent)));
    expect(rows.map((r) => r[0]).sort()).toEqual(['device-1', 'device-2']);
    const alerts = await page.$$eval('#alerts li', (lis) => lis.map((l) => l.textContent ?? ''));
    expect(alerts.filter((a) => a.includes('device-1:'))).toHaveLength(4);
    expect(alerts.every((a) => / °C \(mean \d+\.\d\)$/.test(a))).toBe(true);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
}, 120_000);

import amqplib from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, tempDir, type RunningBroker } from '../helpers/broker.js';

/** Debian's chromium (scripts/ensure-debian-clients.sh installs it), driven by playwright-core. */
const CHROMIUM = '/usr/bin/chromium';

let broker: RunningBroker;
let browser: Browser;
let amqp: amqplib.ChannelModel;
let publishing: NodeJS.Timeout | null = null;

beforeAll(async () => {
  broker = await startBroker({
    config: {
      auth: { failedLoginDelayMs: 0 },
      users: [{ name: 'watcher', password: 'w-pw', tags: ['monitoring'], permissions: {} }],
      vhosts: { '/': { queues: [{ name: 'ui-orders', durable: true }], streams: [{ name: 'ui-clicks', partitions: 2 }] } },
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  // Live traffic so the overview has rates and depth to draw.
  amqp = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`, { clientProperties: { connection_name: 'ui-publisher' } });
  const ch = await amqp.createChannel();
  let n = 0;
  publishing = setInterval(() => {
    for (let i = 0; i < 20; i++) ch.sendToQueue('ui-orders', Buffer.from(`order ${n++}`));
  }, 100);
  const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'ui-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'ui-clicks', messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `c${i}` })) });
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId: 'ui-readers', topic: 'ui-clicks', partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] });
  await admin.disconnect();
}, 90_000);

afterAll(async () => {
  if (publishing) clearInterval(publishing);
  await amqp?.close().catch(() => {});
  await browser?.close();
  await broker?.stop();
});

async function login(page: Page, user: string, password: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${broker.ports.http}/`);
  await page.fill('#login input[name=username]', user);
  await page.fill('#login input[name=password]', password);
  await page.click('#login button[type=submit]');
}

/** Counts pixels of a PNG (decoded by the browser) that are close to an RGB colour. */
async function colouredPixels(page: Page, png: Buffer, rgb: [number, number, number]): Promise<number> {
  return page.evaluate(
    async ({ b64, rgb }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - rgb[0]) < 40 && Math.abs(d[i + 1]! - rgb[1]) < 40 && Math.abs(d[i + 2]! - rgb[2]) < 40) n++;
      return n;
    },
    { b64: png.toString('base64'), rgb },
  );
}

describe('web UI in headless Chromium', () => {
  it('logs in and renders the overview with live numbers and charts (screenshot check)', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await login(page, 'guest', 'guest');
      await page.waitForSelector('#overview:not([hidden])');
      // Numbers rendered from the API: published count and a non-zero publish rate.
      await page.waitForFunction(() => Number(document.querySelector('[data-stat="published"] b')?.textContent?.replace(/,/g, '')) > 0);
      await page.waitForFunction(() => Number(document.querySelector('[data-stat="publish-rate"] b')?.textContent?.replace(/,/g, '')) > 0, undefined, { timeout: 20_000 });
      // The rate history needs a few samples before the line has points to join.
      await page.waitForFunction(() => Number(document.querySelector('[data-stat="messages"] b')?.textContent?.replace(/,/g, '')) > 100, undefined, { timeout: 20_000 });
      const shot = await page.screenshot({ fullPage: true });
      writeFileSync(process.env.POLYBROKER_UI_SCREENSHOT ?? join(tempDir(), 'overview.png'), shot);
      expect(shot.length).toBeGreaterThan(10_000);
      const rateChart = await page.locator('#rate-chart').screenshot();
      const depthChart = await page.locator('#depth-chart').screenshot();
      // Publish line (#1c7ed6) and queue-depth line (#e8590c) drawn with data.
      expect(await colouredPixels(page, rateChart, [0x1c, 0x7e, 0xd6])).toBeGreaterThan(50);
      expect(await colouredPixels(page, depthChart, [0xe8, 0x59, 0x0c])).toBeGreaterThan(50);
      const amqpRow = page.locator('#by-protocol tr', { hasText: 'amqp' });
      await expect.poll(async () => (await amqpRow.locator('td').nth(1).textContent())?.trim()).toBe('1');
    } finally {
      await page.close();
    }
  }, 90_000);

  it('shows connections, queues with depth, streams, consumer groups with lag; publishes and gets messages', async () => {
    const page = await browser.newPage();
    try {
      await login(page, 'guest', 'guest');
      await page.waitForSelector('#overview:not([hidden])');
      await page.click('a[href="#connections"]');
      await page.waitForSelector('#connections-table td:has-text("ui-publisher")');
      await page.click('a[href="#queues"]');
      const row = page.locator('#queues-table tr', { hasText: 'ui-orders' });
      await row.waitFor();
      expect(Number((await row.locator('td').nth(3).textContent())!.replace(/,/g, ''))).toBeGreaterThan(0);
      await page.click('a[href="#streams"]');
      await page.waitForSelector('#streams-table td:has-text("ui-clicks")');
      await page.click('a[href="#groups"]');
      await page.waitForSelector('#groups-list h3:has-text("ui-readers")');
      expect(await page.locator('#groups-list h3', { hasText: 'ui-readers' }).textContent()).toMatch(/lag 30/);

      await page.click('a[href="#messages"]');
      await page.fill('#publish input[name=routing_key]', 'ui-manual');
      await page.fill('#publish textarea[name=payload]', 'typed in the browser');
      // The queue must exist for the message to route: declare it through the API as the UI user.
      await page.evaluate(async () => {
        await fetch('/api/queues/%2F/ui-manual', { method: 'PUT', headers: { authorization: `Basic ${btoa('guest:guest')}`, 'content-type': 'application/json' }, body: '{"durable":true}' });
      });
      await page.click('#publish button');
      await page.waitForSelector('#publish-result:has-text("Message published.")');
      await page.fill('#get input[name=queue]', 'ui-manual');
      await page.selectOption('#get select[name=ackmode]', 'ack_requeue_false');
      await page.click('#get button');
      await page.waitForSelector('#get-result:has-text("ui-manual: typed in the browser")');
    } finally {
      await page.close();
    }
  }, 90_000);

  it('applies the API permissions: a bad password is refused, a monitoring user has no definitions tab', async () => {
    const page = await browser.newPage();
    try {
      await login(page, 'guest', 'wrong');
      await page.waitForSelector('#login-error:has-text("Login failed")');
      await login(page, 'watcher', 'w-pw');
      await page.waitForSelector('#overview:not([hidden])');
      expect(await page.locator('a[href="#definitions"]').isHidden()).toBe(true);
      const status = await page.evaluate(async () => (await fetch('/api/definitions', { headers: { authorization: `Basic ${btoa('watcher:w-pw')}` } })).status);
      expect(status).toBe(403);
    } finally {
      await page.close();
    }
  }, 60_000);
});

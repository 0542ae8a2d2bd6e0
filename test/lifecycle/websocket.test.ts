import { execFileSync } from 'node:child_process';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startBroker, type RunningBroker } from '../helpers/broker.js';

// The http listener hands WebSocket connections to the real adapters (MQTT on /mqtt, STOMP on /ws).
let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.stop();
});

describe('WebSocket listeners with the real adapters', () => {
  it('carries MQTT over ws://host/mqtt (MQTT.js): subscribe, publish, receive', async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${broker.ports.http}/mqtt`, { clientId: 'ws-test', protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await client.subscribeAsync('ws/t', { qos: 1 });
      const received = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
      await client.publishAsync('ws/t', 'over websocket', { qos: 1 });
      expect(await received).toBe('over websocket');
    } finally {
      await client.endAsync();
    }
  });

  it('carries STOMP over ws://host/ws: CONNECT answered by CONNECTED with the negotiated version', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${broker.ports.http}/ws`, ['v10.stomp', 'v11.stomp', 'v12.stomp']);
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      expect(ws.protocol).toBe('v12.stomp');
      const frame = new Promise<{ text: string; isBinary: boolean }>((resolve) =>
        ws.once('message', (data, isBinary) => resolve({ text: (data as Buffer).toString('utf8'), isBinary })),
      );
      ws.send('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
      const reply = await frame;
      expect(reply.text.startsWith('CONNECTED\n')).toBe(true);
      expect(reply.text).toContain('version:1.2');
      expect(reply.isBinary).toBe(false);
    } finally {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close();
      await closed;
    }
  });

  it('turns TCP keepalive on for WebSocket connections (a vanished client is found without heart-beats)', async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${broker.ports.http}/mqtt`, { clientId: 'ws-keepalive', protocolVersion: 4, reconnectPeriod: 0, keepalive: 0 });
    try {
      // ss shows the broker side of the connection (source port = the http listener) with its
      // timer; while sent bytes wait for a (delayed) ACK the retransmit timer is shown instead,
      // so look until the connection is quiet.
      const show = () => execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${broker.ports.http} )`], { encoding: 'utf8' });
      let out = show();
      for (const deadline = Date.now() + 5000; /timer:\(on,/.test(out) && Date.now() < deadline; out = show()) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(out).toMatch(/timer:\(keepalive,/);
    } finally {
      await client.endAsync();
    }
  });
});

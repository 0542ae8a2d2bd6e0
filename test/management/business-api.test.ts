import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startBroker, type RunningBroker } from '../helpers/broker.js';
import { managementClient } from './mgmt-client.js';

let broker: RunningBroker;
let api: ReturnType<typeof managementClient>;

beforeAll(async () => {
  broker = await startBroker({
    config: {
      vhosts: {
        '/': {
          exchanges: [{ name: 'later', type: 'x-delayed-message', arguments: { 'x-delayed-type': 'direct' } }],
          queues: [
            { name: 'work', durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work.dlq' } },
            { name: 'work.dlq', durable: true },
            { name: 'scheduled', durable: true },
          ],
          bindings: [{ source: 'later', destination: 'scheduled', routingKey: 'go' }],
        },
      },
    },
  });
  api = managementClient(broker.ports.http);
}, 60_000);
afterAll(async () => {
  await broker?.stop();
});

const publish = (exchange: string, routingKey: string, payload: string, properties: Record<string, unknown> = {}) =>
  api.post(`/api/exchanges/%2F/${exchange}/publish`, { routing_key: routingKey, payload, payload_encoding: 'string', properties });

describe('management API: delayed messages, dead letters, lookup', () => {
  it('lists and cancels delayed messages', async () => {
    expect((await publish('later', 'go', 'in a minute', { headers: { 'x-delay': 60_000 } })).status).toBe(200);
    expect((await api.get('/api/delayed')).body).toEqual([{ vhost: '/', delayed: 1 }]);
    const pending = (await api.get('/api/delayed/%2F')).body;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ exchange: 'later', routing_key: 'go', payload_bytes: 11, retry: 0 });
    expect(pending[0].due_at).toBeGreaterThan(Date.now());
    expect((await api.get('/api/overview')).body.polybroker.delayed).toBe(1);
    expect((await api.del(`/api/delayed/%2F/${encodeURIComponent(pending[0].id)}`)).status).toBe(204);
    expect((await api.get('/api/delayed')).body).toEqual([{ vhost: '/', delayed: 0 }]);
    expect((await api.del(`/api/delayed/%2F/${encodeURIComponent(pending[0].id)}`)).status).toBe(404);
  });

  it('counts dead-lettered messages and redrives them back (API and ctl)', async () => {
    for (const p of ['a', 'b', 'c']) await publish('amq.default', 'work', p);
    const rejected = await api.post('/api/queues/%2F/work/get', { count: 3, ackmode: 'reject_requeue_false', encoding: 'auto' });
    expect(rejected.body).toHaveLength(3);
    expect((await api.get('/api/queues/%2F/work.dlq')).body.messages).toBe(3);
    expect((await api.get('/api/queues/%2F/work')).body.message_stats.polybroker_dead_lettered).toBe(3);
    expect((await api.get('/api/dead-letters')).body).toContainEqual({ vhost: '/', queue: 'work', dead_lettered: 3, dead_letter_exchange: '' });
    const metrics = await (await fetch(`http://127.0.0.1:${broker.ports.http}/metrics`)).text();
    expect(metrics).toMatch(/polybroker_queue_dead_lettered_total\{vhost="\/",queue="work"\} 3/);
    expect(metrics).toMatch(/polybroker_delayed_messages\{vhost="\/"\} 0/);
    expect((await api.post('/api/queues/%2F/work.dlq/redrive', { limit: 1 })).body).toEqual({ moved: 1, skipped: 0 });
    const ctl = await runCli(['ctl', '--data-dir', broker.dataDir, 'redrive', 'work.dlq'], { timeoutMs: 60_000 });
    expect(ctl.stdout).toBe('moved 2 message(s), skipped 0 (no origin queue)\n');
    expect((await api.get('/api/queues/%2F/work')).body.messages).toBe(3);
    expect((await api.get('/api/queues/%2F/work.dlq')).body.messages).toBe(0);
  });

  it('looks a message up by its message id, with where it went', async () => {
    await publish('amq.default', 'scheduled', 'find me', { message_id: 'order-42', delivery_mode: 2 });
    const found = (await api.get('/api/messages/%2F?key=order-42')).body;
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatchObject({ payload: 'find me', properties: { message_id: 'order-42' } });
    expect(found[0].routes).toContainEqual(expect.objectContaining({ kind: 'queue', name: 'scheduled', state: 'ready' }));
    expect((await api.get('/api/messages/%2F')).status).toBe(400);
  });
});

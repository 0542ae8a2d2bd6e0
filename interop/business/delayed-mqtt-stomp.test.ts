/**
 * Delayed delivery over MQTT (EMQX's `$delayed/{seconds}/{topic}`) and STOMP (ActiveMQ's
 * AMQ_SCHEDULED_DELAY / PERIOD / REPEAT) with stock clients: mqtt.js, mosquitto_pub,
 * stompit and stomp.py. Timing is checked one way only: never early.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import stompit from 'stompit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

const exec = promisify(execFile);
let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

async function mqttClient(id: string, version: 4 | 5 = 5): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: id, protocolVersion: version, reconnectPeriod: 0 });
}

describe('MQTT $delayed/{seconds}/{topic}', () => {
  it('mqtt.js: the subscriber of the topic gets it after the delay, on the plain topic', async () => {
    const sub = await mqttClient('delayed-sub');
    const got: { topic: string; at: number; body: string }[] = [];
    sub.on('message', (topic, payload) => got.push({ topic, at: Date.now(), body: payload.toString() }));
    await sub.subscribeAsync('orders/#', { qos: 1 });
    const pub = await mqttClient('delayed-pub');
    const sent = Date.now();
    await pub.publishAsync('$delayed/1/orders/eu', 'in a second', { qos: 1 });
    await pub.publishAsync('orders/now', 'now', { qos: 1 });
    while (got.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(got.map((g) => [g.topic, g.body])).toEqual([['orders/now', 'now'], ['orders/eu', 'in a second']]);
    expect(got[1]!.at - sent).toBeGreaterThanOrEqual(1000);
    await pub.endAsync();
    await sub.endAsync();
  });

  it('mosquitto_pub (3.1.1): $delayed/2/... arrives after two seconds', async () => {
    const sub = await mqttClient('delayed-sub2', 4);
    let at = 0;
    const got = new Promise<string>((resolve) => sub.on('message', (t, p) => { at = Date.now(); resolve(`${t} ${p.toString()}`); }));
    await sub.subscribeAsync('mosq/+', { qos: 1 });
    const sent = Date.now();
    await exec('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.ports.mqtt), '-V', 'mqttv311', '-q', '1', '-t', '$delayed/2/mosq/t', '-m', 'later']);
    expect(await got).toBe('mosq/t later');
    expect(at - sent).toBeGreaterThanOrEqual(2000);
    await sub.endAsync();
  });

  it('MQTT 5: a malformed $delayed topic ends the connection with DISCONNECT 0x90 (topic name invalid)', async () => {
    const pub = await mqttClient('delayed-bad');
    const reason = new Promise<number>((resolve) => pub.on('disconnect', (packet) => resolve(packet.reasonCode ?? -1)));
    pub.publish('$delayed/soon/x', 'x', { qos: 0 });
    expect(await reason).toBe(0x90);
    pub.end(true);
  });
});

function stompConnect(): Promise<stompit.Client> {
  return new Promise((resolve, reject) =>
    stompit.connect({ host: '127.0.0.1', port: broker.ports.stomp, connectHeaders: { host: '/', login: 'guest', passcode: 'guest', 'accept-version': '1.2' } }, (err, c) => (err ? reject(err) : resolve(c))),
  );
}

function send(c: stompit.Client, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const f = c.send({ ...headers, receipt: 'r' + Math.random() }, { onReceipt: () => resolve(), onError: reject });
    f.end(body);
  });
}

describe('STOMP AMQ_SCHEDULED_*', () => {
  it('stompit: AMQ_SCHEDULED_DELAY delays; PERIOD and REPEAT deliver REPEAT+1 copies at DELAY + i x PERIOD', async () => {
    const c = await stompConnect();
    const got: { body: string; at: number }[] = [];
    c.subscribe({ destination: '/queue/sched', ack: 'auto' }, (err, m) => {
      if (err) return;
      m.readString('utf8', (_e, body) => got.push({ body: body ?? '', at: Date.now() }));
    });
    const sent = Date.now();
    await send(c, { destination: '/queue/sched', persistent: 'true', AMQ_SCHEDULED_DELAY: '500' }, 'delayed');
    await send(c, { destination: '/queue/sched', persistent: 'true', AMQ_SCHEDULED_DELAY: '200', AMQ_SCHEDULED_PERIOD: '400', AMQ_SCHEDULED_REPEAT: '2' }, 'repeat');
    while (got.length < 4) await new Promise((r) => setTimeout(r, 10));
    const repeats = got.filter((g) => g.body === 'repeat').map((g) => g.at - sent);
    expect(repeats).toHaveLength(3);
    [200, 600, 1000].forEach((due, i) => expect(repeats[i]).toBeGreaterThanOrEqual(due));
    expect(got.find((g) => g.body === 'delayed')!.at - sent).toBeGreaterThanOrEqual(500);
    c.disconnect();
  });

  it('stomp.py: AMQ_SCHEDULED_DELAY; AMQ_SCHEDULED_CRON is refused with an ERROR frame', async () => {
    const script = `
import stomp, time, json, sys, threading
got = []
ev = threading.Event()
errors = []
err_ev = threading.Event()
class L(stomp.ConnectionListener):
    def on_message(self, frame):
        got.append((frame.body, time.time())); ev.set()
    def on_error(self, frame):
        errors.append(frame.headers.get('message')); err_ev.set()
c = stomp.Connection12([('127.0.0.1', int(sys.argv[1]))])
c.set_listener('', L())
c.connect('guest', 'guest', wait=True, headers={'host': '/'})
c.subscribe('/queue/pysched', id='1', ack='auto')
t0 = time.time()
c.send('/queue/pysched', 'py', headers={'AMQ_SCHEDULED_DELAY': '600', 'persistent': 'true'})
ev.wait(10)
c.send('/queue/pysched', 'cron', headers={'AMQ_SCHEDULED_CRON': '* * * * *'})
err_ev.wait(10)
print(json.dumps({'body': got[0][0], 'elapsed_ok': (got[0][1] - t0) * 1000 >= 600, 'cron': errors}))
`;
    const { stdout } = await exec('/usr/bin/python3', ['-c', script, String(broker.ports.stomp)]);
    expect(JSON.parse(stdout)).toEqual({ body: 'py', elapsed_ok: true, cron: ['Not supported'] });
  });
});

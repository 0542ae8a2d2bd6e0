/**
 * Non-JS clients across protocols, every protocol on both ends: mosquitto_pub (MQTT 5) →
 * kcat (Kafka, librdkafka), kcat → mosquitto_sub, stomp.py (STOMP 1.2) → pika (AMQP 0-9-1) and
 * pika → stomp.py, with a non-UTF-8 body, the mapped properties the pair carries
 * (docs/mapping.md) and the order of 100 messages.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, tempDir, type RunningBroker } from '../../test/helpers/broker.js';
import { ensureTopic } from './lib/endpoints.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

function run(cmd: string, args: string[], input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'buffer', timeout: 40_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr.toString()}`));
      resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

const PROBE = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc0, 0x80, 0x41]);

describe('non-JS clients across protocols', () => {
  it('mosquitto_pub (MQTT 5, QoS 1) → kcat: body bytes, user properties as Kafka headers, order', async () => {
    const t = 'nj.mosq.kcat';
    await ensureTopic(broker.ports, t);
    const file = join(tempDir('mx-mosq-'), 'probe.bin');
    writeFileSync(file, PROBE);
    const mqtt = ['-V', 'mqttv5', '-h', '127.0.0.1', '-p', String(broker.ports.mqtt), '-t', 'nj/mosq/kcat/eu', '-q', '1'];
    await run('mosquitto_pub', [...mqtt, '-f', file, '-D', 'publish', 'user-property', 'x-h1', 'v1', '-D', 'publish', 'user-property', 'x-kafka-key', 'dev-7', '-D', 'publish', 'content-type', 'application/x-matrix']);
    // -l: one message per stdin line, published in order at QoS 1.
    await run('mosquitto_pub', [...mqtt, '-l'], Array.from({ length: 100 }, (_, i) => `seq-${i}\n`).join(''));

    const kcat = ['-C', '-b', `127.0.0.1:${broker.ports.kafka}`, '-t', t, '-o', 'beginning', '-e', '-q'];
    const body = await run('kcat', [...kcat, '-c', '1', '-f', '%s']);
    expect(body.equals(PROBE)).toBe(true);
    const headers = await run('kcat', [...kcat, '-c', '1', '-f', '%h']);
    expect(headers.toString('latin1')).toContain('x-h1=v1');
    // The x-kafka-key user property is the record key (docs/mapping.md "Kafka key").
    expect((await run('kcat', [...kcat, '-c', '1', '-f', '%k'])).toString()).toBe('dev-7');
    const lines = (await run('kcat', [...kcat, '-o', '1', '-c', '100', '-f', '%s\n'])).toString().trim().split('\n');
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => `seq-${i}`));
  });

  it('kcat (Kafka, acks=all) → mosquitto_sub (MQTT 5, persistent session): body bytes, order', async () => {
    const t = 'nj.kcat.mosq';
    await ensureTopic(broker.ports, t);
    const sub = ['-V', 'mqttv5', '-h', '127.0.0.1', '-p', String(broker.ports.mqtt), '-i', 'nj-mosq-sub', '-c', '-x', '600', '-q', '1', '-t', 'nj/kcat/mosq/#'];
    // -E: exit once the SUBACK came; the session (and its queue) stays for 600 s.
    await run('mosquitto_sub', [...sub, '-E']);
    const file = join(tempDir('mx-kcat-'), 'probe.bin');
    writeFileSync(file, PROBE);
    const kcat = ['-P', '-b', `127.0.0.1:${broker.ports.kafka}`, '-t', t, '-X', 'acks=all'];
    await run('kcat', [...kcat, '-H', 'x-h1=v1', file]);
    await run('kcat', kcat, Array.from({ length: 100 }, (_, i) => `seq-${i}\n`).join(''));

    // The session resumes with what was queued; -F '%p' prints each payload and a newline.
    const out = await run('mosquitto_sub', [...sub, '-C', '101', '-F', '%p', '-W', '20']);
    expect(out.subarray(0, PROBE.length).equals(PROBE)).toBe(true);
    const rest = out.subarray(PROBE.length + 1).toString().trim().split('\n');
    expect(rest).toEqual(Array.from({ length: 100 }, (_, i) => `seq-${i}`));
  });

  it('pika (AMQP) → stomp.py (STOMP 1.2): body bytes, every mapped property, publisher identity, order', async () => {
    const rk = 'nj.pika.stomppy';
    const out = await run('/usr/bin/python3', [join(import.meta.dirname, 'clients', 'pika_to_stomppy.py'), String(broker.ports.stomp), String(broker.ports.amqp), rk, '101']);
    const got = out.toString().trim().split('\n').map((l) => JSON.parse(l) as { headers: Record<string, string>; body: string });
    expect(got).toHaveLength(101);
    expect(got[0]!.body).toBe(Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]).toString('hex'));
    expect(got[0]!.headers).toMatchObject({
      destination: `/topic/${rk}`,
      'content-type': 'application/x-matrix',
      'content-encoding': 'identity-x',
      'correlation-id': 'corr-py',
      'reply-to': 'matrix.replies',
      'amqp-message-id': 'mid-py',
      priority: '4',
      persistent: 'true',
      expiration: '600000',
      type: 't-py',
      'app-id': 'pika',
      'x-h1': 'v1',
      'x-n': '7',
      'x-pb-origin-protocol': 'amqp',
      'x-pb-origin-user': 'guest',
      // AMQP timestamp (s) as STOMP's epoch ms (docs/mapping.md "timestamp").
      timestamp: '1700000000000',
    });
    expect(got.slice(1).map((m) => Buffer.from(m.body, 'hex').toString())).toEqual(Array.from({ length: 100 }, (_, i) => `seq-${i}`));
  });

  it('stomp.py (STOMP 1.2) → pika (AMQP): body bytes, every mapped property, order', async () => {
    const rk = 'nj.stomppy.pika';
    const out = await run('/usr/bin/python3', [join(import.meta.dirname, 'clients', 'stomppy_to_pika.py'), String(broker.ports.stomp), String(broker.ports.amqp), rk, '101']);
    const got = out.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(got).toHaveLength(101);
    expect(got[0]).toMatchObject({
      routingKey: rk,
      body: Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]).toString('hex'),
      contentType: 'application/x-matrix',
      correlationId: 'corr-py',
      replyTo: 'matrix.replies',
      messageId: 'mid-py',
      priority: 4,
      deliveryMode: 2,
      expiration: '600000',
      timestamp: 1_700_000_000,
      headers: { 'x-h1': 'v1', 'x-kafka-key': 'dev-py' },
    });
    expect(got.slice(1).map((m) => Buffer.from(m.body as string, 'hex').toString())).toEqual(Array.from({ length: 100 }, (_, i) => `seq-${i}`));
  });
});


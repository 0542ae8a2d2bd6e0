/**
 * SASL on the Kafka listener (KIP-43, KIP-84, KIP-152): PLAIN and SCRAM-SHA-256/512 from kafkajs,
 * kcat (librdkafka) and kafka-python (raw tokens after SaslHandshake v0); a wrong password is
 * SASL_AUTHENTICATION_FAILED, and requests before authentication close the connection.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';
import { runPython } from './helpers/python.js';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafkaBroker({
    sasl: { mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], required: true, users: [{ name: 'alice', password: 'alice-secret' }] },
  });
});

afterAll(async () => {
  await broker?.stop();
});

function client(mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', password: string): Kafka {
  return new Kafka({
    brokers: [broker.bootstrap],
    clientId: `sasl-${mechanism}`,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    sasl: { mechanism, username: 'alice', password } as never,
  });
}

function kcat(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kcat', ['-b', broker.bootstrap, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

describe('Kafka SASL', () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`kafkajs authenticates with ${mechanism.toUpperCase()} and produces`, async () => {
      const producer = client(mechanism, 'alice-secret').producer();
      await producer.connect();
      const [r] = await producer.send({ topic: 'sasl-topic', messages: [{ value: mechanism }] });
      expect(r!.errorCode).toBe(0);
      await producer.disconnect();
    });

    it(`kafkajs with a wrong ${mechanism.toUpperCase()} password gets SASL_AUTHENTICATION_FAILED`, async () => {
      const producer = client(mechanism, 'wrong').producer();
      await expect(producer.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    });
  }

  it('kcat (librdkafka) authenticates with SCRAM-SHA-512 and PLAIN; no credentials get nothing', async () => {
    const scram = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret'];
    expect((await kcat(['-P', '-t', 'sasl-kcat', ...scram], 'one\n')).code).toBe(0);
    const plain = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret'];
    const read = await kcat(['-C', '-t', 'sasl-kcat', '-o', 'beginning', '-e', '-f', '%s\n', ...plain]);
    expect(read.stdout).toBe('one\n');
    const anonymous = await kcat(['-L', '-m', '5']);
    expect(anonymous.code).toBe(1);
  });

  it('kafka-python authenticates with PLAIN (raw tokens after SaslHandshake v0) and is refused with a wrong password', async () => {
    expect(await runPython('kafka_python_client.py', [broker.bootstrap, 'sasl', 'PLAIN', 'alice', 'alice-secret'])).toMatchObject({ ok: true });
    expect(await runPython('kafka_python_client.py', [broker.bootstrap, 'sasl', 'PLAIN', 'alice', 'nope'])).toEqual({ ok: false, error: 'NoBrokersAvailable' });
  });
});

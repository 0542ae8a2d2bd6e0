/**
 * kcat (librdkafka) over the SSL listener with large requests: TLS sockets are read into reused
 * memory as plain ones are (protocols/kafka/codec/direct-socket-reads.ts), with each decrypted
 * TLS record (at most 16 KiB) copied into the request it belongs to. A record torn or repeated at
 * a TLS record or request boundary would show in the read-back.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { makeTestCerts } from '../../test/helpers/certs.js';

let broker: RunningBroker;

beforeAll(async () => {
  const certs = makeTestCerts();
  broker = await startBroker({ config: { listeners: { kafkas: { enabled: true } }, tls: { cert: certs.serverCert, key: certs.serverKey } } });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

function kcat(ssl: boolean, args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const target = ssl ? ['-b', `127.0.0.1:${broker.ports.kafkas}`, '-X', 'security.protocol=ssl', '-X', 'enable.ssl.certificate.verification=false'] : ['-b', `127.0.0.1:${broker.ports.kafka}`];
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', [...target, ...args], { timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('kcat over SSL', () => {
  it('-P of 1 MB requests and of small ones stores every record intact; read back over SSL and over plain TCP', async () => {
    const records = Array.from({ length: 6000 }, (_, i) => `${String(i).padStart(6, '0')}-${'zyxwvutsrqponmlkjihgfedcba'.repeat(40)}`.slice(0, 1023));
    await kcat(true, ['-P', '-t', 'ssl-big-requests', '-X', 'acks=1', '-X', 'linger.ms=100', '-X', 'batch.size=1000000'], records.join('\n') + '\n');
    // Small requests too (one record each, at most 5 in flight): several frames per TLS record.
    const small = Array.from({ length: 300 }, (_, i) => `small-${i}`);
    await kcat(true, ['-P', '-t', 'ssl-big-requests', '-X', 'acks=1', '-X', 'linger.ms=0', '-X', 'batch.num.messages=1'], small.join('\n') + '\n');
    const overSsl = await kcat(true, ['-C', '-t', 'ssl-big-requests', '-o', 'beginning', '-e', '-q', '-X', 'fetch.max.bytes=52428800']);
    expect(lines(overSsl.stdout)).toEqual([...records, ...small]);
    const overPlain = await kcat(false, ['-C', '-t', 'ssl-big-requests', '-o', 'beginning', '-e', '-q']);
    expect(lines(overPlain.stdout)).toEqual([...records, ...small]);
  });
});

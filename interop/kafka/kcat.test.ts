/**
 * kcat 1.7 (librdkafka 2.0.2, Debian) against polybroker: metadata (-L), produce (-P) with every
 * codec librdkafka writes, consume (-C) from offsets and timestamps, and a group consumer (-G)
 * that resumes from its committed offset. librdkafka opens with ApiVersions v3 (flexible request,
 * v0 response header) and negotiates Produce v7 / Fetch v11 here.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, type KafkaBroker } from './helpers/kafka-broker.js';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafkaBroker();
});

afterAll(async () => {
  await broker?.stop();
});

function kcat(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', ['-b', broker.bootstrap, ...args], { timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('kcat', () => {
  it('-P with every codec, then -C reads every record back at consecutive offsets', async () => {
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    let n = 0;
    for (const codec of codecs) {
      const input = [1, 2, 3].map((i) => `${codec}-${i}`).join('\n') + '\n';
      await kcat(['-P', '-t', 'kcat-codecs', '-z', codec, '-X', 'acks=all'], input);
      n += 3;
    }
    const { stdout } = await kcat(['-C', '-t', 'kcat-codecs', '-o', 'beginning', '-e', '-f', '%o %s\n']);
    expect(lines(stdout)).toEqual(codecs.flatMap((c, ci) => [1, 2, 3].map((i) => `${ci * 3 + i - 1} ${c}-${i}`)));
    expect(lines(stdout)).toHaveLength(n);
  });

  it('-L lists the broker as controller and the topic with its partitions', async () => {
    await kcat(['-P', '-t', 'kcat-meta'], 'x\n');
    const { stdout } = await kcat(['-L', '-t', 'kcat-meta']);
    expect(stdout).toMatch(/1 brokers:\n\s+broker 1 at [^\n]+ \(controller\)/);
    expect(stdout).toContain('topic "kcat-meta" with 1 partitions:');
    expect(stdout).toMatch(/partition 0, leader 1, replicas: 1, isrs: 1/);
  });

  it('-C from an absolute offset, a relative offset from the end, and a timestamp; keys and headers', async () => {
    await kcat(['-P', '-t', 'kcat-offsets', '-K', ':', '-H', 'h1=v1'], 'k0:a\nk1:b\nk2:c\n');
    const marker = Date.now() + 1;
    // The next records are stamped after `marker`, so the timestamp lookup lands exactly on them.
    while (Date.now() <= marker) await new Promise((r) => setImmediate(r));
    await kcat(['-P', '-t', 'kcat-offsets', '-K', ':'], 'k3:d\nk4:e\n');
    const fromOffset = await kcat(['-C', '-t', 'kcat-offsets', '-o', '2', '-e', '-f', '%o %k %s %h\n']);
    expect(lines(fromOffset.stdout)).toEqual(['2 k2 c h1=v1', '3 k3 d ', '4 k4 e ']);
    const fromEnd = await kcat(['-C', '-t', 'kcat-offsets', '-o', '-2', '-e', '-f', '%o %s\n']);
    expect(lines(fromEnd.stdout)).toEqual(['3 d', '4 e']);
    const fromTime = await kcat(['-C', '-t', 'kcat-offsets', '-o', `s@${marker}`, '-e', '-f', '%o %s\n']);
    expect(lines(fromTime.stdout)).toEqual(['3 d', '4 e']);
  });

  it('-G consumes as a group and a second run resumes after the committed offset', async () => {
    await kcat(['-P', '-t', 'kcat-group'], 'g1\ng2\ng3\n');
    const first = await kcat(['-C', '-G', 'kcat-g', 'kcat-group', '-o', 'beginning', '-e', '-f', '%o %s\n', '-X', 'enable.auto.commit=true', '-X', 'auto.commit.interval.ms=100']);
    expect(lines(first.stdout)).toEqual(['0 g1', '1 g2', '2 g3']);
    await kcat(['-P', '-t', 'kcat-group'], 'g4\n');
    const second = await kcat(['-C', '-G', 'kcat-g', 'kcat-group', '-e', '-f', '%o %s\n']);
    expect(lines(second.stdout)).toEqual(['3 g4']);
  });

  it('-P of 1 MB requests (joined from many socket reads into reused buffers) stores every record intact, in memory and on disk', async () => {
    // Distinct 1 KiB lines: a request buffer reused too early would show up as repeated or
    // torn records in the read-back.
    const records = Array.from({ length: 6000 }, (_, i) => `${String(i).padStart(6, '0')}-${'abcdefghijklmnopqrstuvwxyz'.repeat(40)}`.slice(0, 1023));
    await kcat(['-P', '-t', 'kcat-big-requests', '-X', 'acks=1', '-X', 'linger.ms=100', '-X', 'batch.size=1000000'], records.join('\n') + '\n');
    const { stdout } = await kcat(['-C', '-t', 'kcat-big-requests', '-o', 'beginning', '-e', '-q']);
    expect(lines(stdout)).toEqual(records);
    // Read again from the segment files (the restart empties the in-memory tail cache).
    await broker.restart();
    const again = await kcat(['-C', '-t', 'kcat-big-requests', '-o', 'beginning', '-e', '-q']);
    expect(lines(again.stdout)).toEqual(records);
  });
});

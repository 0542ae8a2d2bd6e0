import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Shared by the Kafka benches (bench/kafka.ts, bench/kafka-eos.ts): timing kcat and its input. */

export const RECORD_BYTES = 1024;

export interface Timed {
  seconds: number;
  cpu: number;
}

/** Runs a command under /usr/bin/time; resolves with wall seconds and its CPU share. */
export function timed(cmd: string, args: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => {
      const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err}`));
      const seconds = Number(m[1]);
      resolve({ seconds, cpu: ((Number(m[2]) + Number(m[3])) / Math.max(seconds, 0.001)) * 100 });
    });
  });
}

/** A file of n newline-terminated records of RECORD_BYTES each (kcat -P reads one per line). */
export function recordFile(dir: string, n: number): string {
  const file = join(dir, `records-${n}.txt`);
  const line = RECORD_BYTES - 1;
  const buf = Buffer.allocUnsafe(n * RECORD_BYTES);
  const text = randomBytes(Math.ceil((n * line * 3) / 4) + 3).toString('base64');
  for (let i = 0; i < n; i++) {
    buf.write(text.slice(i * line, (i + 1) * line), i * RECORD_BYTES, 'latin1');
    buf[i * RECORD_BYTES + line] = 0x0a;
  }
  writeFileSync(file, buf);
  return file;
}

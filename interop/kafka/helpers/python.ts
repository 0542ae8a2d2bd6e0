import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** Runs one of ./python's scenario scripts with Debian's python3 and parses the JSON line it prints. */
export function runPython(script: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [join(import.meta.dirname, '..', 'python', script), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${script} ${args.join(' ')}: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

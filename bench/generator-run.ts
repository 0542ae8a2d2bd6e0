import { spawn } from 'node:child_process';
import type { Harness } from './harness.js';

export interface GeneratorRun<R> {
  /** What the generator printed as JSON on stdout. */
  r: R;
  /** CPU share of the generator and of the broker over the measured window (after warm-up). */
  genCpu: number;
  brokerCpu: number;
}

/**
 * Runs a load-generator script in its own process (`node <script> '<options JSON>'`), so its
 * CPU is measured apart from the broker's, and samples both CPU shares over the measured window
 * only: after `options.warmupSeconds` (default 1), for `options.seconds` (default 5).
 */
export function runGenerator<R>(h: Harness, script: string, options: Record<string, unknown>, brokerPid: number | undefined): Promise<GeneratorRun<R>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const gen = h.meterCpu(child.pid);
    const broker = brokerPid ? h.meterCpu(brokerPid) : undefined;
    let genCpu = 0;
    let brokerCpu = 0;
    const warmupMs = Number(options.warmupSeconds ?? 1) * 1000;
    const windowMs = Number(options.seconds ?? 5) * 1000;
    const t1 = setTimeout(() => {
      gen.reset();
      broker?.reset();
    }, warmupMs);
    const t2 = setTimeout(() => {
      genCpu = gen.read();
      brokerCpu = broker?.read() ?? 0;
    }, warmupMs + windowMs - 50);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => {
      clearTimeout(t1);
      clearTimeout(t2);
      if (code !== 0) return reject(new Error(`generator failed (${code}): ${err}`));
      resolve({ r: JSON.parse(out.trim()) as R, genCpu, brokerCpu });
    });
  });
}

import { readFileSync } from 'node:fs';

/**
 * CPU share of a process, read from /proc/<pid>/stat (utime + stime, fields 14 and 15).
 * 100 % means one full core, so on 2 cores a busy broker can show up to 200 %.
 */

// USER_HZ is 100 on every Linux architecture Node supports (sysconf(_SC_CLK_TCK)).
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

export interface CpuMeter {
  readonly pid: number;
  /** CPU share since start (or the last reset) in percent of one core. */
  read(): number;
  reset(): void;
}

/** Starts measuring a process's CPU share; `read()` gives the share since the start. */
export function meterCpu(pid: number = process.pid): CpuMeter {
  let startCpu = cpuSeconds(pid) ?? 0;
  let startWall = performance.now();
  let lastCpu = startCpu;
  return {
    pid,
    read() {
      // A process that exited keeps its last reading rather than dropping to zero.
      const now = cpuSeconds(pid);
      if (now !== undefined) lastCpu = now;
      const wallSeconds = (performance.now() - startWall) / 1000;
      return wallSeconds > 0 ? ((lastCpu - startCpu) / wallSeconds) * 100 : 0;
    },
    reset() {
      startCpu = cpuSeconds(pid) ?? lastCpu;
      lastCpu = startCpu;
      startWall = performance.now();
    },
  };
}

/**
 * Waits until every process uses less than `thresholdPercent` of a core over a `windowMs`
 * window (or `maxMs` passed), so one broker's background work after its run (RabbitMQ
 * flushing and deleting a persistent queue, say) does not slow the next subject's run.
 * Returns the ms waited.
 */
export async function waitForIdle(pids: readonly number[], thresholdPercent = 10, windowMs = 500, maxMs = 20_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const meters = pids.map((pid) => meterCpu(pid));
    await new Promise((r) => setTimeout(r, windowMs));
    if (meters.every((m) => m.read() < thresholdPercent)) break;
    if (performance.now() - started >= maxMs) break;
  }
  return Math.round(performance.now() - started);
}

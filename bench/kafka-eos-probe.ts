import { spawn } from 'node:child_process';

/**
 * What librdkafka itself says about its produce requests (`-d protocol`): how many it sent, how
 * big they were, how many were in flight at once and their round-trip times. Used by
 * `npm run bench -- kafka-eos --probe` to see whether the idempotent producer serialises its
 * requests (librdkafka limits a partition's in-flight *messages* to 5 when idempotent, so a
 * batch of 5+ records holds back the next request) and what one round trip costs.
 */
export interface ProduceProbe {
  requests: number;
  meanBytes: number;
  maxInFlight: number;
  meanInFlight: number;
  meanRttMs: number;
  p50RttMs: number;
  seconds: number;
}

const SENT = /Sent ProduceRequest \(v\d+, (\d+) bytes @ \d+, CorrId (\d+)\)/;
const RECEIVED = /Received ProduceResponse \(v\d+, \d+ bytes, CorrId (\d+), rtt ([\d.]+)ms\)/;

export function probeKcat(args: string[]): Promise<ProduceProbe> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('kcat', [...args, '-d', 'protocol'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let rest = '';
    let requests = 0;
    let bytes = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let inFlightSum = 0;
    const rtts: number[] = [];
    const open = new Set<string>();
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const s = SENT.exec(line);
        if (s) {
          requests++;
          bytes += Number(s[1]);
          open.add(s[2]!);
          inFlight = open.size;
          inFlightSum += inFlight;
          if (inFlight > maxInFlight) maxInFlight = inFlight;
          continue;
        }
        const r = RECEIVED.exec(line);
        if (r && open.delete(r[1]!)) rtts.push(Number(r[2]));
      }
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`kcat ${args.join(' ')} exited with ${code}`));
      const sorted = [...rtts].sort((a, b) => a - b);
      resolve({
        requests,
        meanBytes: requests ? bytes / requests : 0,
        maxInFlight,
        meanInFlight: requests ? inFlightSum / requests : 0,
        meanRttMs: rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : 0,
        p50RttMs: sorted.length ? sorted[sorted.length >> 1]! : 0,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

export function describeProbe(name: string, p: ProduceProbe, messages: number): string {
  return (
    `${name}: ${p.requests} produce requests, ${(p.meanBytes / 1024).toFixed(0)} KiB each on average, ` +
    `in flight max ${p.maxInFlight} (mean ${p.meanInFlight.toFixed(1)} at send), rtt mean ${p.meanRttMs.toFixed(2)} ms / median ${p.p50RttMs.toFixed(2)} ms, ` +
    `${Math.round(messages / p.seconds)} msgs/s with debug logging`
  );
}

/** Round trips per request type from librdkafka's `debug=protocol` lines (any client on librdkafka). */
export function requestRtts(debugLog: string): Map<string, { count: number; meanMs: number }> {
  const sums = new Map<string, { count: number; total: number }>();
  for (const m of debugLog.matchAll(/Received (\w+)Response \(v\d+, \d+ bytes, CorrId \d+, rtt ([\d.]+)ms\)/g)) {
    const e = sums.get(m[1]!) ?? { count: 0, total: 0 };
    e.count++;
    e.total += Number(m[2]);
    sums.set(m[1]!, e);
  }
  return new Map([...sums].map(([k, v]) => [k, { count: v.count, meanMs: v.total / v.count }]));
}

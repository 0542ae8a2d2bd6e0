import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { meterCpu, type CpuMeter } from './harness-cpu.js';
import { startPeer, type Peer, type PeerName } from './peers.js';
import { startBroker, type BrokerOptions, type RunningBroker } from '../test/helpers/broker.js';

/**
 * The benchmark harness every `bench/<name>.ts` receives. A bench measures named workloads
 * several times; the harness keeps the samples and, at the end, prints one table row per
 * figure (median, min, max, and beside it the peer's or reference's median and the ratio)
 * and writes them as JSON when asked (`--json FILE`), to compare between commits.
 *
 *   export async function run(h: Harness) {
 *     const broker = await h.startBroker();
 *     await h.measure('amqp 1KiB transient', async () => ({ 'msgs/s': rate, 'broker cpu': cpu }),
 *       { units: { 'msgs/s': 'msgs/s', 'broker cpu': '%' } });
 *     const rabbit = await h.startPeer('rabbitmq');
 *     await h.measure('amqp 1KiB transient', async () => ({ ... }), { subject: 'rabbitmq' });
 *   }
 */

export const SELF = 'polybroker';

/**
 * The figures one run of a workload produced, by name: `{ 'msgs/s': 51234, 'gen cpu': 35 }`.
 * A figure left undefined in a run is not sampled in that run.
 */
export type Figures = Record<string, number | undefined>;

export interface MeasureOptions {
  /** Who is measured: `polybroker` (default) or a peer; a peer's figures are shown beside ours. */
  subject?: string;
  /** Runs for this workload; defaults to `--runs` (3). */
  runs?: number;
  /** Unmeasured runs before the measured ones (JIT warm-up, page cache). */
  warmupRuns?: number;
  /** Unit per figure name, or one unit for every figure. */
  units?: Record<string, string> | string;
  /**
   * Compare each figure with the same-named figure of another workload (e.g. a raw disk
   * bandwidth), when no peer measured this workload.
   */
  reference?: string;
}

export interface RunContext {
  /** 1-based index of this run (warm-up runs count from 1 - warmupRuns). */
  run: number;
  runs: number;
  warmup: boolean;
  /** Replaces the progress line's detail while this run goes. */
  progress(detail: string): void;
}

export interface FigureResult {
  workload: string;
  figure: string;
  subject: string;
  unit: string;
  samples: number[];
  median: number;
  min: number;
  max: number;
  reference?: string;
}

export interface Harness {
  /** The bench's name (`npm run bench -- <name>`). */
  readonly name: string;
  /** Default number of measured runs per workload (`--runs N`, default 3). */
  readonly runs: number;
  /** Arguments after the bench name that the harness did not consume. */
  readonly args: readonly string[];
  measure(workload: string, fn: (ctx: RunContext) => Promise<Figures>, options?: MeasureOptions): Promise<FigureResult[]>;
  /** Adds samples measured some other way (e.g. several figures sampled inside one long run). */
  record(workload: string, figure: string, samples: number[], options?: Omit<MeasureOptions, 'runs' | 'warmupRuns'>): FigureResult;
  /** Shows a transient progress line on stderr. */
  progress(message: string): void;
  /** A line printed under the table (and kept in the JSON). */
  note(message: string): void;
  /** Starts polybroker (built, from dist/) on port-0 listeners in a fresh data dir; stopped at the end. */
  startBroker(options?: BrokerOptions): Promise<RunningBroker>;
  /** Starts a peer through ../shared/peers/; stopped at the end. */
  startPeer(name: PeerName): Promise<Peer>;
  /** Measures a process's CPU share (percent of one core) from /proc/<pid>/stat. */
  meterCpu(pid?: number): CpuMeter;
  /** Runs `fn` when the bench ends, even on failure (LIFO). */
  onCleanup(fn: () => Promise<void> | void): void;
  readonly results: readonly FigureResult[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function unitOf(units: MeasureOptions['units'], figure: string): string {
  if (units === undefined) return '';
  return typeof units === 'string' ? units : (units[figure] ?? '');
}

export class BenchHarness implements Harness {
  readonly results: FigureResult[] = [];
  private readonly notes: string[] = [];
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private readonly tty = process.stderr.isTTY === true;
  private progressShown = false;
  private readonly startedAt = new Date();

  constructor(
    readonly name: string,
    readonly runs: number,
    readonly args: readonly string[],
  ) {}

  async measure(workload: string, fn: (ctx: RunContext) => Promise<Figures>, options: MeasureOptions = {}): Promise<FigureResult[]> {
    const subject = options.subject ?? SELF;
    const runs = options.runs ?? this.runs;
    const warmupRuns = options.warmupRuns ?? 0;
    const samples = new Map<string, number[]>();
    for (let i = 1 - warmupRuns; i <= runs; i++) {
      const warmup = i < 1;
      const label = `${subject} · ${workload} · ${warmup ? `warm-up ${i + warmupRuns}/${warmupRuns}` : `run ${i}/${runs}`}`;
      this.progress(label);
      const figures = await fn({ run: i, runs, warmup, progress: (detail) => this.progress(`${label} · ${detail}`) });
      if (warmup) continue;
      for (const [figure, value] of Object.entries(figures)) {
        if (value === undefined) continue;
        if (!samples.has(figure)) samples.set(figure, []);
        samples.get(figure)!.push(value);
      }
    }
    this.clearProgress();
    const out = [...samples].map(([figure, values]) =>
      this.record(workload, figure, values, { subject, units: options.units, reference: options.reference }),
    );
    process.stderr.write(`done: ${subject} · ${workload} (${out.map((r) => `${r.figure} ${fmt(r.median)}${r.unit ? ' ' + r.unit : ''}`).join(', ')})\n`);
    return out;
  }

  record(workload: string, figure: string, samples: number[], options: Omit<MeasureOptions, 'runs' | 'warmupRuns'> = {}): FigureResult {
    if (samples.length === 0) throw new Error(`no samples for ${workload} / ${figure}`);
    const result: FigureResult = {
      workload,
      figure,
      subject: options.subject ?? SELF,
      unit: unitOf(options.units, figure),
      samples,
      median: median(samples),
      min: Math.min(...samples),
      max: Math.max(...samples),
      ...(options.reference ? { reference: options.reference } : {}),
    };
    this.results.push(result);
    return result;
  }

  progress(message: string): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[K… ${message}`);
      this.progressShown = true;
    } else {
      process.stderr.write(`… ${message}\n`);
    }
  }

  private clearProgress(): void {
    if (this.tty && this.progressShown) process.stderr.write('\r\x1b[K');
    this.progressShown = false;
  }

  note(message: string): void {
    this.notes.push(message);
  }

  async startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
    this.progress('starting polybroker');
    const broker = await startBroker(options);
    this.onCleanup(async () => {
      await broker.stop();
    });
    return broker;
  }

  async startPeer(name: PeerName): Promise<Peer> {
    this.progress(`starting peer ${name}`);
    const peer = await startPeer(name);
    this.onCleanup(() => peer.stop());
    return peer;
  }

  meterCpu(pid?: number): CpuMeter {
    return meterCpu(pid);
  }

  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    this.clearProgress();
    while (this.cleanups.length) {
      const fn = this.cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`cleanup failed: ${(err as Error).message}\n`);
      }
    }
  }

  /** The table rows: our figures with the peer's (or reference's) median beside them, then peer-only rows. */
  table(): string[][] {
    const rows: string[][] = [['workload', 'figure', 'median', 'min', 'max', 'unit', 'runs', 'vs', 'vs median', 'ratio']];
    const ours = this.results.filter((r) => r.subject === SELF);
    const shown = new Set<FigureResult>(ours);
    for (const r of ours) {
      const others = this.results.filter((o) => o.subject !== SELF && o.workload === r.workload && o.figure === r.figure);
      const refs = r.reference
        ? this.results.filter((o) => o.subject === SELF && o.workload === r.reference && o.figure === r.figure)
        : [];
      const base = [r.workload, r.figure, fmt(r.median), fmt(r.min), fmt(r.max), r.unit, String(r.samples.length)];
      const comparisons = [...others, ...refs];
      if (comparisons.length === 0) rows.push([...base, '', '', '']);
      for (const o of comparisons) {
        shown.add(o);
        const vs = o.subject === SELF ? o.workload : o.subject;
        rows.push([...base, vs, fmt(o.median), o.median === 0 ? '' : `${(r.median / o.median).toFixed(2)}×`]);
      }
    }
    for (const r of this.results) {
      if (shown.has(r)) continue;
      rows.push([`${r.workload} (${r.subject})`, r.figure, fmt(r.median), fmt(r.min), fmt(r.max), r.unit, String(r.samples.length), '', '', '']);
    }
    return rows;
  }

  printTable(): void {
    const rows = this.table();
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
    const numeric = new Set([2, 3, 4, 6, 8, 9]);
    const line = (row: string[]) =>
      row.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
    process.stdout.write(`\n${this.name}: medians of runs on ${cpus().length} cores, node ${process.version}\n`);
    process.stdout.write(`${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
    for (const row of rows.slice(1)) process.stdout.write(`${line(row)}\n`);
    for (const n of this.notes) process.stdout.write(`note: ${n}\n`);
  }

  writeJson(file: string): void {
    let commit: string | undefined;
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      commit = undefined;
    }
    const doc = {
      bench: this.name,
      startedAt: this.startedAt.toISOString(),
      commit,
      node: process.version,
      cpus: cpus().length,
      runs: this.runs,
      results: this.results,
      notes: this.notes,
    };
    writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  }
}

/** Three significant digits for big numbers, up to three decimals for small ones. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

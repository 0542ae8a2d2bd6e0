import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Runs the real broker as a child process, as a user would, for lifecycle, interop and
 * crash tests and for benches. Every listener is on port 0 (the ready line says which port
 * it got) and data goes to a fresh temp dir unless one is given.
 *
 *   const broker = await startBroker();
 *   try { connect to 127.0.0.1:broker.ports.amqp ... } finally { await broker.stop(); }
 *
 * From vitest (TypeScript sources) the broker runs as `node --import tsx src/cli.ts`, so tests
 * need no build; compiled into dist/ (benches) it runs `node dist/src/cli.js`.
 */

export const LISTENER_NAMES = ['amqp', 'mqtt', 'stomp', 'kafka', 'http', 'amqps', 'mqtts', 'stomps', 'kafkas', 'https'] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];
/** The listeners on by default (the TLS ones are off until a test enables them). */
export const PLAIN_LISTENER_NAMES = ['amqp', 'mqtt', 'stomp', 'kafka', 'http'] as const;

/** Actual ports from the ready line; 0 for a listener that is disabled. */
export type BrokerPorts = Record<ListenerName, number>;

export interface BrokerOptions {
  /** YAML text, or an object written out as YAML (JSON is YAML). Default: empty (embedded defaults). */
  config?: string | Record<string, unknown>;
  /** Data dir to use (e.g. to reopen another broker's data); default a fresh temp dir. */
  dataDir?: string;
  /** Extra environment; `POLYBROKER_<NAME>_PORT` defaults to 0 for every listener unless given here. */
  env?: Record<string, string | undefined>;
  /** How long to wait for the ready line (ms). */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before it kills the broker and throws (ms). */
  stopTimeoutMs?: number;
  /** Copy the broker's output to this process's stderr (also when POLYBROKER_TEST_LOG=1). */
  echo?: boolean;
}

export interface RunningBroker {
  ports: BrokerPorts;
  /** Host each listener bound, as the ready line states it. */
  hosts: Record<ListenerName, string>;
  dataDir: string;
  configFile: string;
  /** pid of the current broker process (changes on restart). */
  pid: number;
  /** Every line the current process wrote to stdout and stderr so far. */
  output(): string;
  /** The parsed ready line (a pino JSON object when the log format is json). */
  readyLine: string;
  /** SIGTERM and wait for exit; resolves to the exit code (null if killed by a signal); throws if it hangs. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Stops the broker if it runs (SIGTERM), then starts a new process on the same data dir and config. */
  restart(): Promise<void>;
  /** Resolves when the current process exits by itself, with its exit code. */
  exited(): Promise<number | null>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const compiled = import.meta.url.endsWith('.js');

/** The checkout root: nearest directory above this file with a package.json. */
export const repoRoot = (() => {
  let dir = here;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** argv (after `node`) that runs the polybroker CLI. */
export function cliArgv(): string[] {
  if (compiled) return [join(repoRoot, 'dist/src/cli.js')];
  // Resolved from the checkout, not the child's working directory (a temp dir without node_modules).
  const tsx = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href;
  return ['--import', tsx, join(repoRoot, 'src/cli.ts')];
}

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();

// Safety net: a failed test must not leave brokers or temp dirs behind.
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Removes every temp dir made so far (run after each test file by test/helpers/cleanup.ts:
 * vitest ends its workers without an 'exit' event, so the hook above alone leaves them behind).
 */
export function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A fresh temp dir, removed after the test file (or when this process exits). */
export function tempDir(prefix = 'polybroker-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Do not inherit overrides from the test runner's own environment.
  for (const key of Object.keys(env)) if (key.startsWith('POLYBROKER_')) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs the CLI to completion (e.g. `check-config`, `--version`, or a start that must fail). */
export function runCli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...cliArgv(), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`polybroker ${args.join(' ')} did not exit within ${options.timeoutMs ?? 30_000} ms\n${stdout}${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

interface ReadyInfo {
  line: string;
  ports: BrokerPorts;
  hosts: Record<ListenerName, string>;
}

/**
 * Parses the broker's ready line, either a pino JSON line with a `listeners` field or the
 * human form of its message: `polybroker ready: amqp [::]:5672, mqtt ..., kafka off (data ./data)`.
 */
export function parseReadyLine(line: string): ReadyInfo | undefined {
  const ports = Object.fromEntries(LISTENER_NAMES.map((n) => [n, 0])) as BrokerPorts;
  const hosts = Object.fromEntries(LISTENER_NAMES.map((n) => [n, ''])) as Record<ListenerName, string>;
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    let obj: { msg?: unknown; listeners?: Record<string, { host: string; port: number } | undefined> };
    try {
      obj = JSON.parse(trimmed);
    } catch {
      return undefined;
    }
    if (typeof obj.msg !== 'string' || !obj.msg.startsWith('polybroker ready') || !obj.listeners) return undefined;
    for (const name of LISTENER_NAMES) {
      const l = obj.listeners[name];
      if (l) {
        ports[name] = l.port;
        hosts[name] = l.host;
      }
    }
    return { line: trimmed, ports, hosts };
  }
  const at = trimmed.indexOf('polybroker ready:');
  if (at < 0) return undefined;
  const text = trimmed.slice(at);
  for (const m of text.matchAll(/\b(amqps?|mqtts?|stomps?|kafkas?|https?) (\[[^\]]*\]|[^\s,:]+):(\d+)/g)) {
    const name = m[1] as ListenerName;
    ports[name] = Number(m[3]);
    hosts[name] = m[2]!.replace(/^\[|\]$/g, '');
  }
  return { line: trimmed, ports, hosts };
}

/** Starts a broker and resolves once its ready line is out. */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const workDir = tempDir();
  const dataDir = options.dataDir ?? join(workDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const configFile = join(workDir, 'polybroker.yaml');
  const config = options.config ?? '';
  writeFileSync(configFile, typeof config === 'string' ? config : JSON.stringify(config, null, 2) + '\n');
  const env = childEnv({
    ...Object.fromEntries(LISTENER_NAMES.map((n) => [`POLYBROKER_${n.toUpperCase()}_PORT`, '0'])),
    ...options.env,
  });
  const echo = options.echo ?? process.env.POLYBROKER_TEST_LOG === '1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;

  let child!: ChildProcess;
  let out: string[] = [];
  let exit!: Promise<number | null>;

  const launch = () =>
    new Promise<ReadyInfo>((resolveReady, rejectReady) => {
      out = [];
      child = spawn(process.execPath, [...cliArgv(), 'start', '--config', configFile, '--data-dir', dataDir], {
        cwd: workDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      liveChildren.add(child);
      const current = child;
      let ready = false;
      exit = new Promise((resolveExit) => {
        current.on('close', (code) => {
          liveChildren.delete(current);
          resolveExit(code);
          if (!ready) {
            clearTimeout(timer);
            rejectReady(new Error(`polybroker exited with code ${code} before it was ready:\n${out.join('\n')}`));
          }
        });
      });
      const timer = setTimeout(() => {
        if (!ready) {
          current.kill('SIGKILL');
          rejectReady(new Error(`polybroker was not ready within ${readyTimeoutMs} ms:\n${out.join('\n')}`));
        }
      }, readyTimeoutMs);
      const onLines = (stream: NodeJS.ReadableStream) => {
        let partial = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            out.push(line);
            // Keep memory bounded for long runs (benches, trace logging): the recent lines matter.
            if (out.length > 20_000) out.splice(0, 10_000);
            if (echo) process.stderr.write(`[broker ${current.pid}] ${line}\n`);
            if (!ready) {
              const info = parseReadyLine(line);
              if (info) {
                ready = true;
                clearTimeout(timer);
                resolveReady(info);
              }
            }
          }
        });
      };
      onLines(current.stdout!);
      onLines(current.stderr!);
      current.on('error', (err) => {
        clearTimeout(timer);
        rejectReady(err);
      });
    });

  const first = await launch();
  const broker: RunningBroker = {
    ports: first.ports,
    hosts: first.hosts,
    dataDir,
    configFile,
    pid: child.pid!,
    readyLine: first.line,
    output: () => out.join('\n'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // A broker that does not stop is a failure to report, not a test that hangs.
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((resolveHung) => (timer = setTimeout(() => resolveHung('hung'), stopTimeoutMs)));
      const outcome = await Promise.race([exit, hung]);
      clearTimeout(timer);
      if (outcome === 'hung') {
        child.kill('SIGKILL');
        await exit;
        throw new Error(`polybroker did not exit within ${stopTimeoutMs} ms of SIGTERM:\n${out.slice(-50).join('\n')}`);
      }
      return outcome;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
    async restart() {
      // A running broker is stopped gracefully first; after kill() this just starts again.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exit;
      const info = await launch();
      broker.ports = info.ports;
      broker.hosts = info.hosts;
      broker.readyLine = info.line;
      broker.pid = child.pid!;
    },
    exited: () => exit,
  };
  return broker;
}

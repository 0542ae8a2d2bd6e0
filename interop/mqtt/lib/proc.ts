import { spawn, type ChildProcess } from 'node:child_process';

/** A child process with its output collected and a way to wait for a line. */
export interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout (or stderr) has a line matching `re`. */
  waitForLine(re: RegExp): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function run(cmd: string, args: string[], input?: string): Proc {
  // Line-buffered stdout (stdbuf): a piped C client otherwise prints nothing until it exits.
  const child = spawn('stdbuf', ['-oL', '-eL', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  child.stdout!.on('data', (d) => { out += d; wake(); });
  child.stderr!.on('data', (d) => { err += d; wake(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => { wake(); resolve(code); }));
  let done = false;
  void exited.then(() => { done = true; });
  if (input !== undefined) child.stdin!.end(input);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForLine(re: RegExp) {
      while (!re.test(out) && !re.test(err)) {
        if (done) throw new Error(`${cmd} exited before printing ${re}: ${out} ${err}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    exited,
  };
}

/** Runs to completion; rejects on a non-zero exit. */
export async function runToEnd(cmd: string, args: string[], input?: string): Promise<string> {
  const p = run(cmd, args, input);
  const code = await p.exited;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${p.stderr()}`);
  return p.stdout();
}

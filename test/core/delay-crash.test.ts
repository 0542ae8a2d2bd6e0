/**
 * Crash tests of delayed delivery and redrive: a child process (delay-crash-child.ts) on a
 * real LogStore in `sync` mode is SIGKILLed while delayed messages fall due, and while a
 * redrive moves messages. After reopening, nothing confirmed is lost and nothing is there twice.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/core/index.js';
import { LogStore } from '../../storage/log-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the child; `kill(line)` decides (per stdout line) when to SIGKILL it. Resolves with every line. */
function runAndKill(args: string[], kill: (line: string) => boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'delay-crash-child.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (!killed && kill(line)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lines);
      else reject(new Error(`child exited (code ${code}, signal ${signal}) before it was killed: ${stderr}`));
    });
  });
}

async function reopen(dir: string): Promise<Core> {
  const core = createCore(new LogStore({ dir, segmentBytes: 1 << 20, durability: 'sync', intervalMs: 100 }), { sweepIntervalMs: 0 });
  await core.open();
  return core;
}

/** Every body left in `queue` (taken with noAck). */
function drain(core: Core, queue: string): string[] {
  const ch = core.connect({ vhost: '/', protocol: 'amqp' }).openChannel();
  const out: string[] = [];
  for (let d = ch.get(queue, { noAck: true }); d; d = ch.get(queue, { noAck: true })) out.push(d.message.body.toString());
  return out;
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SIGKILL during delayed delivery and redrive', () => {
  for (const fraction of [0.1, 0.6]) {
    it(`delayed messages falling due (killed with ~${fraction * 100}% routed): each confirmed one is delivered exactly once`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pb-delay-kill-'));
      dirs.push(dir);
      const n = 2000;
      const lines = await runAndKill(['delays', dir, String(n)], (l) => l.startsWith('Q ') && Number(l.slice(2)) >= n * fraction);
      const confirmed = lines.filter((l) => l.startsWith('C ')).map((l) => l.slice(2));
      expect(confirmed).toHaveLength(n);
      const core = await reopen(dir);
      try {
        const vh = core.vhost('/');
        await until(() => vh.delayedCount() === 0 && vh.queue('due')!.messageCount >= n);
        // Let any straggler (a duplicate would be one) arrive.
        await new Promise((r) => setTimeout(r, 300));
        const bodies = drain(core, 'due');
        expect(bodies.length).toBe(n);
        expect(new Set(bodies).size).toBe(n);
        expect(new Set(bodies)).toEqual(new Set(confirmed));
      } finally {
        await core.close();
      }
    }, 120_000);
  }

  it('killed while scheduling (half the publishes confirmed, timer units written lazily): each confirmed one is delivered exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-delay-kill-'));
    dirs.push(dir);
    const n = 2000;
    let seen = 0;
    const lines = await runAndKill(['delays', dir, String(n)], (l) => l.startsWith('C ') && ++seen >= n / 2);
    const confirmed = lines.filter((l) => l.startsWith('C ')).map((l) => l.slice(2));
    expect(confirmed.length).toBeGreaterThanOrEqual(n / 2);
    const core = await reopen(dir);
    try {
      const vh = core.vhost('/');
      await until(() => vh.delayedCount() === 0 && vh.queue('due')!.messageCount >= confirmed.length);
      await new Promise((r) => setTimeout(r, 300));
      const bodies = drain(core, 'due');
      expect(new Set(bodies).size).toBe(bodies.length);
      const got = new Set(bodies);
      expect(confirmed.filter((id) => !got.has(id))).toEqual([]);
      expect(bodies.filter((b) => !/^d\d+$/.test(b))).toEqual([]);
    } finally {
      await core.close();
    }
  }, 120_000);

  it('a redrive of all messages killed at its first move resumes by itself after the restart: each message moved once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-redrive-kill-'));
    dirs.push(dir);
    const n = 3000;
    await runAndKill(['redrive-all', dir, String(n)], (l) => l === 'MOVING');
    const core = await reopen(dir);
    try {
      const vh = core.vhost('/');
      // Nothing was moved before the kill: the work queue fills only through the resumed redrive.
      await until(() => vh.queue('dlq')!.messageCount === 0 && vh.queue('work')!.messageCount >= n);
      const inWork = drain(core, 'work');
      expect(inWork).toHaveLength(n);
      expect(new Set(inWork).size).toBe(n);
    } finally {
      await core.close();
    }
  }, 120_000);

  for (const afterMoves of [1, 6]) {
    it(`a redrive killed after ${afterMoves} chunk(s): every message is in exactly one of the dead-letter and origin queues`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pb-redrive-kill-'));
      dirs.push(dir);
      const n = 3000;
      let moves = 0;
      await runAndKill(['redrive', dir, String(n)], (l) => l.startsWith('M ') && ++moves >= afterMoves);
      const core = await reopen(dir);
      try {
        const inDlq = drain(core, 'dlq');
        const inWork = drain(core, 'work');
        expect(inWork.length).toBeGreaterThanOrEqual(afterMoves * 200);
        expect(inDlq.length + inWork.length).toBe(n);
        const all = new Set([...inDlq, ...inWork]);
        expect(all.size).toBe(n);
      } finally {
        await core.close();
      }
    }, 120_000);
  }
});

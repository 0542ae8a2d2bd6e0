/**
 * Durability across SIGKILL (issue 4 "Tests"): definitions, confirmed messages, unacked
 * messages (redelivered) and committed offsets survive a kill -9 of a child process running
 * the core on the real LogStore in `sync` mode, while it is publishing.
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

/** Runs the child until it has confirmed `confirms` publishes after setup, then SIGKILLs it. */
function runAndKill(dir: string, confirms: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'durability-child.ts'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const confirmed: string[] = [];
    let ready = false;
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith('READY')) ready = true;
      else if (line.startsWith('C ')) {
        confirmed.push(line.slice(2));
        if (confirmed.length === confirms) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && ready) resolve(confirmed);
      else reject(new Error(`child exited early (code ${code}, signal ${signal}): ${stderr}`));
    });
  });
}

describe('durability across SIGKILL (sync mode, LogStore)', () => {
  it('keeps definitions, confirmed and unacked messages and committed offsets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-core-kill-'));
    dirs.push(dir);
    const confirmed = await runAndKill(dir, 300);
    const core: Core = createCore(new LogStore({ dir, segmentBytes: 1 << 20, durability: 'sync', intervalMs: 100 }), { sweepIntervalMs: 0 });
    await core.open();
    try {
      const vh = core.vhost('/');
      expect(vh.exchange('orders')).toMatchObject({ type: 'topic', durable: true });
      expect(vh.queue('work')).toMatchObject({ durable: true, arguments: { 'x-max-length': 100_000 } });
      expect(vh.bindings().filter((b) => b.source === 'orders')).toHaveLength(1);
      expect(vh.stream('events')!.partitions).toBe(2);
      expect(vh.committedOffset('group-1', 'events', 1)).toMatchObject({ offset: 1, metadata: 'meta-1' });
      expect(vh.partitionOffsets('events', 1).highWatermark).toBe(2);

      const ch = core.connect({ vhost: '/', protocol: 'amqp' }).openChannel();
      const got: { id: string; redelivered: boolean }[] = [];
      for (let d = ch.get('work', { noAck: true }); d; d = ch.get('work', { noAck: true })) got.push({ id: d.message.body.toString(), redelivered: d.redelivered });
      // a1 was acked; a2/a3 were unacked (redelivered); a4/a5 never delivered.
      expect(got.slice(0, 4)).toEqual([
        { id: 'a2', redelivered: true },
        { id: 'a3', redelivered: true },
        { id: 'a4', redelivered: false },
        { id: 'a5', redelivered: false },
      ]);
      // Every confirmed publish is there, in order (a publish in flight at the kill may be too).
      const ids = got.slice(4).map((g) => g.id);
      expect(ids.slice(0, confirmed.length)).toEqual(confirmed);
    } finally {
      await core.close();
    }
  }, 60_000);
});

/**
 * SIGKILL during compaction (issue 9): a child appends keyed records to a compacted partition
 * (and some to a plain stream partition in the same entries) while it compacts continuously;
 * the test kills it at random moments after compaction passes have run, reopens the store and
 * checks that nothing acknowledged is lost: every key's latest record is at or after its last
 * acknowledged offset (and is that value when it is the same offset), every acknowledged record
 * of the plain partition is there, and offsets only grow. The next round appends on the same
 * directory, so every round also recovers from the previous round's kill.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { LogStore } from '../../storage/log-store.js';
import { decodeRecordBatch } from '../../storage/record-batch.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'compaction-crash-child.ts');
const KILLS = 6;
const KEYS = 40;
const dir = mkdtempSync(join(tmpdir(), 'pb-compact-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Round {
  acked: Map<number, { seq: number; offset1: number; offset2: number | null }>;
  lastSeq: number;
  compactions: number;
}

function runAndKill(firstSeq: number, killAfterCompactions: number, extraAcks: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(firstSeq)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const round: Round = { acked: new Map(), lastSeq: firstSeq - 1, compactions: 0 };
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let acksAfter = -1;
    let killed = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parts = line.split(' ');
      if (parts[0] === 'ack') {
        const seq = Number(parts[1]);
        round.acked.set(seq, { seq, offset1: Number(parts[2]), offset2: parts[3] === undefined ? null : Number(parts[3]) });
        round.lastSeq = Math.max(round.lastSeq, seq);
        if (acksAfter >= 0 && --acksAfter <= 0 && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      } else if (parts[0] === 'compacted') {
        round.compactions++;
        if (round.compactions === killAfterCompactions) acksAfter = extraAcks;
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(round);
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

describe('compaction crash safety', () => {
  it(`loses nothing acknowledged across ${KILLS} SIGKILLs during compaction`, { timeout: 300_000 }, async () => {
    const lastAck = new Map<string, { seq: number; offset: number }>();
    const plain = new Map<number, number>(); // offset in 2 -> seq
    let nextSeq = 0;
    for (let k = 0; k < KILLS; k++) {
      const round = await runAndKill(nextSeq, 2 + (k % 3), 1 + Math.floor(Math.random() * 300));
      expect(round.compactions).toBeGreaterThanOrEqual(2);
      for (const a of round.acked.values()) {
        const key = `k${a.seq % KEYS}`;
        const cur = lastAck.get(key);
        if (cur === undefined || a.offset1 > cur.offset) lastAck.set(key, { seq: a.seq, offset: a.offset1 });
        if (a.offset2 !== null) plain.set(a.offset2, a.seq);
      }
      nextSeq = round.lastSeq + 1000;

      const store = new LogStore({ dir, segmentBytes: 64 * 1024, durability: 'sync', intervalMs: 50 });
      await store.open();
      const latest = new Map<string, { offset: number; value: string }>();
      let prev = -1;
      for (let off = store.startOffset(1); off < store.endOffset(1); ) {
        const batches = await store.read(1, off, 1 << 20);
        if (batches.length === 0) break;
        for (const b of batches) {
          for (const r of decodeRecordBatch(b.batch).records) {
            const o = b.baseOffset + r.offsetDelta;
            expect(o).toBeGreaterThan(prev);
            prev = o;
            latest.set(r.key!.toString(), { offset: o, value: r.value!.toString().replace(/\.+$/, '') });
          }
          off = b.baseOffset + b.recordCount;
        }
      }
      for (const [key, want] of lastAck) {
        const got = latest.get(key);
        expect(got, key).toBeDefined();
        expect(got!.offset).toBeGreaterThanOrEqual(want.offset);
        if (got!.offset === want.offset) expect(got!.value).toBe(`v${want.seq}`);
      }
      const plainGot = new Map<number, string>();
      for (let off = store.startOffset(2); off < store.endOffset(2); ) {
        const batches = await store.read(2, off, 1 << 20);
        if (batches.length === 0) break;
        for (const b of batches) {
          plainGot.set(b.baseOffset, decodeRecordBatch(b.batch).records[0]!.value!.toString().replace(/\.+$/, ''));
          off = b.baseOffset + b.recordCount;
        }
      }
      for (const [offset, seq] of plain) expect(plainGot.get(offset)).toBe(`v${seq}`);
      await store.close();
    }
    expect(readdirSync(join(dir, 'compacted')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

/**
 * After a restart the store knows only a queue's persisted released head; the core must
 * re-apply its cursor (head + individually settled offsets) so segments whose messages were
 * all acked before the restart can be reclaimed.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, createMessage, type Core } from '../../src/core/index.js';
import { LogStore } from '../../storage/log-store.js';
import type { AppendRequest, AppendResult, Store } from '../../storage/types.js';

const SEGMENT_BYTES = 4096;
const BODY = 1000;
const COUNT = 30;

/** Segment files on disk: base position -> size. */
function segmentFiles(dir: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const f of readdirSync(dir)) if (f.endsWith('.log')) m.set(Number(f.slice(0, -4)), statSync(join(dir, f)).size);
  return m;
}

/** The segment (by base) that holds a commit-log position. */
function segmentOf(bases: number[], position: number): number {
  let base = bases[0]!;
  for (const b of bases) if (b <= position) base = b;
  return base;
}

async function openCore(dir: string, positions?: number[]): Promise<{ core: Core; store: LogStore }> {
  const inner = new LogStore({ dir, segmentBytes: SEGMENT_BYTES, durability: 'sync', intervalMs: 100 });
  // Records each append's commit-log position (one message per append here).
  const store: Store = positions
    ? new Proxy(inner, {
        get(target, prop, receiver) {
          if (prop === 'append')
            return (req: AppendRequest): AppendResult => {
              const r = target.append(req);
              positions.push(r.position);
              return r;
            };
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      })
    : inner;
  const core = createCore(store, { sweepIntervalMs: 0, alarmCheckIntervalMs: 0, dataDir: dir });
  await core.open();
  return { core, store: inner };
}

describe('recovery re-applies a queue cursor to the store', () => {
  let dir = '';
  let core: Core | null = null;
  afterEach(async () => {
    await core?.close();
    core = null;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const variant of ['plain', 'store head mid-segment, passed', 'store head mid-segment, inside at restart'] as const) {
    const reclaimBefore = variant !== 'plain';
    // 'inside at restart': the run holding the store's persisted head has no release bits
    // below that head; the store's released-head walk must kill runs it passes.
    it(`segments acked out of order before a restart are reclaimed after it (${variant})`, async () => {
      dir = mkdtempSync(join(tmpdir(), 'pb-core-reclaim-'));
      const positions: number[] = [];
      let store: LogStore;
      ({ core, store } = await openCore(dir, positions));
      const conn = core.connect({ vhost: '/', protocol: 'amqp', clientId: 't', user: 'guest' });
      const ch = conn.openChannel();
      await conn.vhost.declareQueue('q', { durable: true });
      const body = (i: number) => Buffer.from(String(i).padStart(BODY, '.'));
      const confirms = [];
      for (let i = 0; i < COUNT; i++) confirms.push(ch.publish('', 'q', createMessage(body(i), { properties: { persistent: true } })).durable);
      await Promise.all(confirms);
      expect(positions).toHaveLength(COUNT);

      const bases = [...segmentFiles(dir).keys()].sort((a, b) => a - b);
      expect(bases.length).toBeGreaterThanOrEqual(6);
      const seg = positions.map((p) => segmentOf(bases, p));
      const inSegment = (b: number) => [...seg.keys()].filter((i) => seg[i] === b);

      const tags = new Map<number, number>();
      for (let i = 0; i < COUNT; i++) {
        const g = ch.get('q')!;
        tags.set(Number(g.message.body.toString().replace(/^\.+/, '')), g.deliveryTag);
      }
      const acked = new Set<number>();
      const ack = (is: number[]) => {
        for (const i of is) {
          ch.ack(tags.get(i)!);
          acked.add(i);
        }
      };
      const [s0, s1, s2, s3, s4] = bases.map(inSegment) as [number[], number[], number[], number[], number[]];
      if (!reclaimBefore) {
        // Out of order: the first two segments backwards (the head moves), the fourth wholly,
        // one message of the fifth (settled beyond the head).
        ack([...s0, ...s1].reverse());
        ack([...s3].reverse());
        ack([s4[1]!]);
      } else {
        // The store's head is persisted in the middle of segment 4; the core's head moves
        // further into it before the restart, out of order.
        ack([...s3, ...s2, ...s1, ...s0].reverse());
        ack([s4[0]!]);
        await core.flush();
        await store.reclaim();
        // Passed: the core's head leaves segment 4 before the restart; inside: it is still in
        // it, and the rest of segment 4 is acked after the restart (the drain below).
        ack(variant === 'store head mid-segment, passed' ? [s4[2]!, s4[1]!] : [s4[1]!]);
      }
      await core.flush();
      await core.close();

      ({ core, store } = await openCore(dir));
      await store.reclaim();

      // Every segment that held only acked messages is gone; the others stay whole.
      const unacked = [...Array(COUNT).keys()].filter((i) => !acked.has(i));
      const keep = new Set(unacked.map((i) => seg[i]!));
      keep.add(bases[bases.length - 1]!); // the active segment is never reclaimed
      const files = segmentFiles(dir);
      expect([...files.keys()].sort((a, b) => a - b)).toEqual(
        bases.filter((b) => keep.has(b)),
      );

      // Nothing unacked is lost, in order, flagged redelivered (they had been delivered).
      const conn2 = core.connect({ vhost: '/', protocol: 'amqp', clientId: 't', user: 'guest' });
      const ch2 = conn2.openChannel();
      const got: number[] = [];
      for (let g = ch2.get('q', { noAck: true }); g; g = ch2.get('q', { noAck: true })) {
        expect(g.redelivered).toBe(true);
        got.push(Number(g.message.body.toString().replace(/^\.+/, '')));
      }
      expect(got).toEqual(unacked);

      // Drained after the restart: every segment but the active one goes.
      await core.flush();
      await store.reclaim();
      expect([...segmentFiles(dir).keys()]).toEqual([bases[bases.length - 1]!]);
      expect(got).toEqual(unacked);
    });
  }
});

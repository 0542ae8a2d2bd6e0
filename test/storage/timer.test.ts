import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, TimerStore, type DueTimer } from '../../storage/timer/index.js';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pb-timer-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;

/** Opens a timer on `dir` whose fired timers are recorded (with the clock's time) and finished. */
function openTimer(dir: string, clock: ManualClock, opts: { wheelSlots?: number; slotMs?: number; autoDone?: boolean; segmentBytes?: number; durability?: 'sync' | 'none' } = {}) {
  const fired: (DueTimer & { at: number })[] = [];
  const t = TimerStore.open({ dir, durability: opts.durability ?? 'sync', clock, slotMs: opts.slotMs ?? 1000, wheelSlots: opts.wheelSlots ?? 64, segmentBytes: opts.segmentBytes });
  t.start((d) => {
    fired.push({ ...d, at: clock.now() });
    if (opts.autoDone !== false) t.done(d.position);
  });
  return { t, fired };
}


describe('TimerStore (timer log + time wheel)', () => {
  it('fires every timer at its exact due time, in due order, across the wheel and beyond it', async () => {
    const clock = new ManualClock(T0);
    const { t, fired } = openTimer(freshDir(), clock, { wheelSlots: 16 });
    // 1 ms up to 10x the wheel's reach (16 s): the far ones are rolled.
    const delays = [1, 5, 999, 1000, 1001, 2500, 15_999, 16_000, 45_000, 160_000, 3_000];
    const durables = delays.map((d, i) => t.schedule(T0 + d, 7, i).durable);
    await Promise.all(durables);
    expect(t.count()).toBe(delays.length);
    clock.advance(200_000);
    expect(fired.map((f) => f.offset)).toEqual(delays.map((d, i) => [d, i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i));
    for (const f of fired) expect(f.at).toBe(f.dueAt);
    expect(t.count()).toBe(0);
    await t.close();
  });

  it('keeps far timers out of memory: a year-long timer is rolled, not held', async () => {
    const clock = new ManualClock(T0);
    // One-minute slots, a one-day wheel: a year is 365 rolls.
    const { t, fired } = openTimer(freshDir(), clock, { wheelSlots: 1440, slotMs: 60_000, durability: 'none' });
    const year = 365 * 86_400_000;
    for (let i = 0; i < 1000; i++) t.schedule(T0 + year - i, 1, i);
    await t.flush();
    const inMemory = () => (t as unknown as { inMemory: Map<number, unknown> }).inMemory.size;
    for (let day = 1; day < 365; day++) {
      clock.advanceTo(T0 + day * 86_400_000);
      expect(inMemory()).toBe(0);
      await t.flush();
    }
    expect(t.count(1)).toBe(1000);
    expect(t.list(1, 3).map((p) => p.offset)).toEqual([999, 998, 997]);
    clock.advanceTo(T0 + year);
    expect(fired).toHaveLength(1000);
    for (const f of fired) expect(f.at).toBe(f.dueAt);
    await t.close();
  });

  it('recovers pending timers after a crash and fires those that fell due while it was down', async () => {
    const dir = freshDir();
    const clock = new ManualClock(T0);
    const a = openTimer(dir, clock);
    const rs = [100, 2000, 30_000, 500_000].map((d, i) => a.t.schedule(T0 + d, 3, i));
    await Promise.all(rs.map((r) => r.durable));
    clock.advance(150);
    expect(a.fired.map((f) => f.offset)).toEqual([0]);
    await a.t.flush();
    // Crash: the first process stops without close(); the clock moves on while "down".
    await a.t.halt();
    const clock2 = new ManualClock(T0 + 40_000);
    const b = TimerStore.open({ dir, durability: 'sync', clock: clock2, slotMs: 1000, wheelSlots: 64 });
    expect(b.count(3)).toBe(3);
    expect(b.takeRecoveredOffsets()?.get(3)).toEqual([1, 2, 3]);
    const fired: DueTimer[] = [];
    b.start((d) => {
      fired.push(d);
      b.done(d.position);
    });
    clock2.advance(0);
    expect(fired.map((f) => f.offset)).toEqual([1, 2]);
    clock2.advanceTo(T0 + 500_000);
    expect(fired.map((f) => f.offset)).toEqual([1, 2, 3]);
    await b.close();
  });

  it('fires again a timer whose done was not recorded before a crash', async () => {
    const dir = freshDir();
    const clock = new ManualClock(T0);
    const a = openTimer(dir, clock, { autoDone: false });
    await a.t.schedule(T0 + 10, 1, 42).durable;
    clock.advance(20);
    expect(a.fired).toHaveLength(1);
    await a.t.halt();
    const b = openTimer(dir, new ManualClock(T0 + 30));
    // start() ran in openTimer: the recovered, overdue timer fired at once and was finished.
    expect(b.fired.map((f) => f.offset)).toEqual([42]);
    expect(b.t.count()).toBe(0);
    await b.t.close();
  });

  it('cancels: a cancelled timer never fires, also after a restart', async () => {
    const dir = freshDir();
    const clock = new ManualClock(T0);
    const a = openTimer(dir, clock);
    await Promise.all([a.t.schedule(T0 + 5000, 2, 0).durable, a.t.schedule(T0 + 6000, 2, 1).durable, a.t.schedule(T0 + 900, 2, 2).durable]);
    clock.advance(100); // slot 0 and 1 are loaded: offset 2 is in memory
    await a.t.cancel(2, 0, T0 + 5000);
    await a.t.cancel(2, 2, T0 + 900);
    expect(a.t.count(2)).toBe(1);
    expect(a.t.list(2, 10).map((p) => p.offset)).toEqual([1]);
    await a.t.flush();
    await a.t.halt();
    const clock2 = new ManualClock(T0 + 200);
    const b = openTimer(dir, clock2);
    expect(b.t.count(2)).toBe(1);
    clock2.advance(10_000);
    expect(b.fired.map((f) => f.offset)).toEqual([1]);
    await b.t.close();
  });

  it('reopens after a clean close with nothing pending and drops finished segments', async () => {
    const dir = freshDir();
    const clock = new ManualClock(T0);
    const a = openTimer(dir, clock, { segmentBytes: 48 * 100 });
    for (let i = 0; i < 1000; i++) a.t.schedule(T0 + 1 + (i % 50) * 100, 1, i);
    await a.t.flush();
    clock.advance(10_000);
    expect(a.fired).toHaveLength(1000);
    await a.t.flush();
    clock.advance(2000); // the checkpoint is written at most once a second
    await a.t.close();
    const segs = readdirSync(dir).filter((f) => f.endsWith('.tlog'));
    expect(segs.length).toBeLessThan(5);
    const b = openTimer(dir, new ManualClock(T0 + 20_000));
    expect(b.t.count()).toBe(0);
    expect(b.fired).toHaveLength(0);
    await b.t.close();
  });

  it('property: any schedule/cancel/crash sequence fires each uncancelled timer once, never early', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delay: fc.integer({ min: 1, max: 120_000 }), cancel: fc.boolean(), step: fc.integer({ min: 0, max: 20_000 }), crash: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        async (ops) => {
          const dir = freshDir();
          let clock = new ManualClock(T0);
          const firedOnce = new Map<number, number>();
          const due = new Map<number, number>();
          const cancelled = new Set<number>();
          const open = () => {
            // `none`: a simulated crash in-process keeps what was written to the OS; no fsync needed.
            const t = TimerStore.open({ dir, durability: 'none', clock, slotMs: 1000, wheelSlots: 16, segmentBytes: 48 * 64 });
            t.start((d) => {
              expect(clock.now()).toBeGreaterThanOrEqual(d.dueAt);
              firedOnce.set(d.offset, (firedOnce.get(d.offset) ?? 0) + 1);
              t.done(d.position);
            });
            return t;
          };
          let t = open();
          for (let i = 0; i < ops.length; i++) {
            const op = ops[i]!;
            const dueAt = clock.now() + op.delay;
            due.set(i, dueAt);
            await t.schedule(dueAt, 1, i).durable;
            if (op.cancel && dueAt > clock.now()) {
              await t.cancel(1, i, dueAt);
              cancelled.add(i);
            }
            clock.advance(op.step);
            await t.flush();
            if (op.crash) {
              await t.halt();
              clock = new ManualClock(clock.now());
              t = open();
            }
          }
          clock.advance(200_000);
          await t.flush();
          for (let i = 0; i < ops.length; i++) expect(firedOnce.get(i) ?? 0).toBe(cancelled.has(i) ? 0 : 1);
          expect(t.count()).toBe(0);
          await t.close();
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000);

  it('property: recoverable timers lost with the page cache are scheduled again by their owner; each fires once, never early', async () => {
    interface LogView {
      log: { segments: { path: string; written: number; synced: number }[] };
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delay: fc.integer({ min: 1, max: 60_000 }), step: fc.integer({ min: 0, max: 4000 }), turns: fc.integer({ min: 0, max: 3 }), crash: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        async (ops) => {
          const dir = freshDir();
          let clock = new ManualClock(T0);
          // The owner's durable record (the core's delay partition): due time by offset.
          const source: number[] = [];
          // The owner's durable "fired" records (the core's markers), dropped once done is durable.
          const markers = new Set<number>();
          const delivered = new Map<number, number>();
          let durableAtOpen = new Map<string, number>();
          const open = (): TimerStore => {
            const t = TimerStore.open({ dir, durability: 'sync', clock, slotMs: 1000, wheelSlots: 16, segmentBytes: 48 * 32 });
            // What survived the crash is on disk: only bytes written after this are at risk.
            durableAtOpen = new Map((t as unknown as LogView).log.segments.map((sg) => [sg.path, sg.written]));
            for (let off = t.rebuildFrom(1); off < source.length; off++) if (!t.hadUnit(1, off)) t.schedule(source[off]!, 1, off, true);
            t.rebuilt(1, source.length);
            t.start((d) => {
              expect(clock.now()).toBeGreaterThanOrEqual(d.dueAt);
              expect(d.dueAt).toBe(source[d.offset]);
              if (!markers.has(d.offset)) {
                markers.add(d.offset);
                delivered.set(d.offset, (delivered.get(d.offset) ?? 0) + 1);
              }
              void t.done(d.position).then(() => markers.delete(d.offset));
            });
            return t;
          };
          let t = open();
          for (const op of ops) {
            const offset = source.length;
            source.push(clock.now() + op.delay);
            // Confirmed at once: no fsync of the timer log is waited for.
            await t.schedule(source[offset]!, 1, offset, true).durable;
            clock.advance(op.step);
            for (let k = 0; k < op.turns; k++) await new Promise((r) => setImmediate(r));
            if (op.crash) {
              // Power loss: every byte of the timer log not fsynced since it was opened is gone.
              await t.halt();
              for (const sg of (t as unknown as LogView).log.segments) {
                if (!existsSync(sg.path)) continue;
                truncateSync(sg.path, Math.min(statSync(sg.path).size, Math.max(sg.synced, durableAtOpen.get(sg.path) ?? 0)));
              }
              clock = new ManualClock(clock.now());
              t = open();
            }
          }
          clock.advance(200_000);
          for (let off = 0; off < source.length; off++) expect(delivered.get(off) ?? 0).toBe(1);
          expect(t.count()).toBe(0);
          await t.close();
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000);

  it('a recoverable schedule resolves before any fsync; the checkpoint fsyncs it within a second and records the mark', async () => {
    const dir = freshDir();
    const clock = new ManualClock(T0);
    const { t } = openTimer(dir, clock);
    for (let i = 0; i < 10; i++) await t.schedule(T0 + 3_600_000, 4, i, true).durable;
    clock.advance(1000);
    await t.flush();
    await t.halt();
    const b = TimerStore.open({ dir, durability: 'sync', clock: new ManualClock(T0 + 1000), slotMs: 1000, wheelSlots: 64 });
    expect(b.rebuildFrom(4)).toBe(10);
    expect(b.rebuildFrom(5)).toBe(0);
    expect(b.count(4)).toBe(10);
    await b.close();
  });
});

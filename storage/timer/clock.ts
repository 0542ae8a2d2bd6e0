/**
 * The timer's notion of time, injectable so tests move a clock instead of waiting.
 * `wakeAt` asks to be called at or after a moment; the system clock uses setTimeout
 * (unref'd: a pending timer never keeps the process alive).
 */
export interface TimerClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once at or after `at` (ms since the epoch); returns a function that cancels it. */
  wakeAt(at: number, fn: () => void): () => void;
}

/** setTimeout caps delays at 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMEOUT_MS = 0x7fffffff;

/** The wall clock, optionally shifted by `offsetMs` (a broker started with a test clock offset). */
export function systemClock(offsetMs = 0): TimerClock {
  const now = offsetMs === 0 ? Date.now : () => Date.now() + offsetMs;
  return {
    now,
    wakeAt(at, fn) {
      let handle: NodeJS.Timeout | null = null;
      const arm = (): void => {
        const wait = at - now();
        if (wait <= 0) {
          handle = null;
          fn();
          return;
        }
        handle = setTimeout(arm, Math.min(wait, MAX_TIMEOUT_MS));
        handle.unref();
      };
      handle = setTimeout(arm, Math.max(0, Math.min(at - now(), MAX_TIMEOUT_MS)));
      handle.unref();
      return () => {
        if (handle) clearTimeout(handle);
        handle = null;
      };
    },
  };
}

/**
 * A clock that moves only when told: `advance(ms)` runs every wake that falls due, in time
 * order, setting `now()` to each one's moment as it runs.
 */
export class ManualClock implements TimerClock {
  private wakes: { at: number; fn: () => void; seq: number }[] = [];
  private seq = 0;

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  wakeAt(at: number, fn: () => void): () => void {
    const w = { at, fn, seq: this.seq++ };
    this.wakes.push(w);
    return () => {
      const i = this.wakes.indexOf(w);
      if (i >= 0) this.wakes.splice(i, 1);
    };
  }

  /** Moves the clock forward by `ms`, running due wakes (including ones they arm) in order. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      let next: (typeof this.wakes)[number] | null = null;
      for (const w of this.wakes) if (w.at <= target && (next === null || w.at < next.at || (w.at === next.at && w.seq < next.seq))) next = w;
      if (next === null) break;
      this.wakes.splice(this.wakes.indexOf(next), 1);
      if (next.at > this.current) this.current = next.at;
      next.fn();
    }
    if (target > this.current) this.current = target;
  }

  /** Wakes armed and not yet run. */
  get pendingWakes(): number {
    return this.wakes.length;
  }
}

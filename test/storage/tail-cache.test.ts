import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TailCache } from '../../storage/tail-cache.js';

describe('TailCache', () => {
  it('returns the exact bytes of recent batches, stays within its bound, and keeps handed-out views intact (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 4 }),
        (sizes, mib) => {
          const max = mib * 1024 * 1024;
          const cache = new TailCache(max);
          let position = 0;
          const puts: { position: number; fill: number; size: number }[] = [];
          const views: { view: Buffer; fill: number }[] = [];
          sizes.forEach((size, i) => {
            const fill = i & 0xff;
            cache.put(position, Buffer.alloc(size, fill));
            puts.push({ position, fill, size });
            const v = cache.get(position);
            if (v) views.push({ view: v, fill });
            position += size + 48;
          });
          expect(cache.size).toBeLessThanOrEqual(max);
          // The newest batch is always cached; any cached batch has its own bytes.
          expect(cache.get(puts.at(-1)!.position)?.length).toBe(puts.at(-1)!.size);
          for (const p of puts) {
            const got = cache.get(p.position);
            if (got) expect(got.equals(Buffer.alloc(p.size, p.fill))).toBe(true);
          }
          for (const { view, fill } of views) expect(view.every((b) => b === fill)).toBe(true);
          expect(cache.get(position + 1)).toBeUndefined();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('forgets entries before a position', () => {
    const cache = new TailCache(4 * 1024 * 1024);
    for (let i = 0; i < 10; i++) cache.put(i * 100, Buffer.alloc(50, i));
    cache.dropBefore(500);
    expect(cache.get(400)).toBeUndefined();
    expect(cache.get(500)!.equals(Buffer.alloc(50, 5))).toBe(true);
  });
});

describe('TailCache memory reuse', () => {
  it('hands out copies, so a batch read before its chunk is reused keeps its bytes', () => {
    const cache = new TailCache(2 * 1024 * 1024);
    const first = Buffer.alloc(600 * 1024, 1);
    cache.put(0, first);
    const read = cache.get(0)!;
    expect(read.buffer).not.toBe(first.buffer);
    // Enough newer batches to wrap the two-chunk ring and overwrite the first chunk.
    for (let i = 1; i <= 6; i++) cache.put(i * first.length, Buffer.alloc(first.length, 2));
    expect(cache.get(0)).toBeUndefined();
    expect(read.equals(first)).toBe(true);
  });
});

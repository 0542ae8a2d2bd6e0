import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameOutput } from '../../../protocols/stomp/frame-output.js';

describe('FrameOutput', () => {
  it('hands out everything appended, in order, across region boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 20_000 }), fc.nat({ max: 2 ** 40 }), fc.string({ maxLength: 50 })), { maxLength: 40 }), fc.integer({ min: 1, max: 5 }), (items, takeEvery) => {
        const out = new FrameOutput();
        const got: Buffer[] = [];
        const want: Buffer[] = [];
        items.forEach((item, i) => {
          if (typeof item === 'number') {
            out.decimal(item);
            want.push(Buffer.from(String(item)));
          } else if (typeof item === 'string') {
            out.utf8(item);
            want.push(Buffer.from(item, 'utf8'));
          } else {
            out.bytes(Buffer.from(item));
            want.push(Buffer.from(item));
          }
          if (i % takeEvery === 0) got.push(...out.take());
        });
        got.push(...out.take());
        expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
      }),
    );
  });

  it('passes large bodies through without copying them', () => {
    const out = new FrameOutput();
    const body = Buffer.alloc(100_000, 1);
    out.ascii('MESSAGE\n');
    out.bytes(body);
    out.byte(0);
    const pieces = out.take();
    expect(pieces).toHaveLength(3);
    expect(pieces[1]).toBe(body);
  });

  it('never rewrites bytes it already handed out', () => {
    const out = new FrameOutput();
    out.ascii('a'.repeat(5000));
    const [first] = out.take();
    const copy = Buffer.from(first!);
    for (let i = 0; i < 100; i++) out.ascii('b'.repeat(1000));
    out.take();
    expect(first!.equals(copy)).toBe(true);
  });
});

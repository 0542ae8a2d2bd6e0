import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32cCombine } from '../../storage/crc32c-combine.js';

describe('crc32cCombine', () => {
  it('equals the CRC32C of the concatenation, for any two parts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const A = Buffer.from(a);
        const B = Buffer.from(b);
        expect(crc32cCombine(crc32c(A), crc32c(B), B.length)).toBe(crc32c(Buffer.concat([A, B])));
      }),
    );
  });

  it('handles a 1 MiB second part (a produced batch)', () => {
    const A = Buffer.from('entry header and the first 21 batch bytes');
    const B = Buffer.alloc(1 << 20, 0xa5);
    expect(crc32cCombine(crc32c(A), crc32c(B), B.length)).toBe(crc32c(Buffer.concat([A, B])));
  });
});

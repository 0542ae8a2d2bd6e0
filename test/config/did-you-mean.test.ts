import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../../src/config/index.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and neighbour swaps as one edit each', () => {
    expect(editDistance('port', 'port')).toBe(0);
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('por', 'port')).toBe(1);
    expect(editDistance('ports', 'port')).toBe(1);
    expect(editDistance('pork', 'port')).toBe(1);
    expect(editDistance('Port', 'port')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is symmetric, zero only for equal strings, and bounded by the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(editDistance(b, a)).toBe(d);
        expect(d === 0).toBe(a.toLowerCase() === b.toLowerCase());
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
      }),
    );
  });
});

describe('didYouMean', () => {
  const keys = ['enabled', 'host', 'port'];
  it('suggests a close key', () => {
    expect(didYouMean('prot', keys)).toBe('port');
    expect(didYouMean('hots', keys)).toBe('host');
    expect(didYouMean('enabeld', keys)).toBe('enabled');
    expect(didYouMean('enable', keys)).toBe('enabled');
  });
  it('suggests nothing for a far one', () => {
    expect(didYouMean('address', keys)).toBeUndefined();
    expect(didYouMean('x', keys)).toBeUndefined();
    expect(didYouMean('anything', [])).toBeUndefined();
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopicTrie, topicWords } from '../../src/core/topic-trie.js';

/** The reference matcher: AMQP topic semantics by plain recursion over word lists. */
function naiveMatch(pattern: string[], key: string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [p, ...rest] = pattern;
  if (p === '#') {
    for (let i = 0; i <= key.length; i++) if (naiveMatch(rest, key.slice(i))) return true;
    return false;
  }
  if (key.length === 0) return false;
  return (p === '*' || p === key[0]) && naiveMatch(rest, key.slice(1));
}

function matches(patterns: string[], key: string): string[] {
  const t = new TopicTrie<string>();
  for (const p of patterns) t.add(p, p);
  return [...new Set(t.match(key))].sort();
}

describe('TopicTrie', () => {
  it('matches literal words, * (one word) and # (zero or more words)', () => {
    const ps = ['a.b.c', 'a.*.c', 'a.#', '#.c', '*.b.*', 'a.b', '#'];
    expect(matches(ps, 'a.b.c')).toEqual(['#', '#.c', '*.b.*', 'a.#', 'a.*.c', 'a.b.c']);
    expect(matches(ps, 'a.b')).toEqual(['#', 'a.#', 'a.b']);
    expect(matches(ps, 'x.y')).toEqual(['#']);
  });

  it('treats the empty key as zero words: # matches it, * does not', () => {
    expect(matches(['#', '*', ''], '')).toEqual(['', '#']);
  });

  it('matches empty words between dots with *', () => {
    expect(matches(['a.*.b', 'a.b', 'a..b'], 'a..b')).toEqual(['a.*.b', 'a..b']);
    expect(matches(['a.*', 'a.#'], 'a.')).toEqual(['a.#', 'a.*']);
  });

  it('handles leading, trailing and repeated #', () => {
    expect(matches(['#.a', 'a.#', '#.#', 'a.#.a', '#.a.#'], 'a')).toEqual(['#.#', '#.a', '#.a.#', 'a.#']);
    expect(matches(['a.#.a'], 'a.a')).toEqual(['a.#.a']);
    expect(matches(['a.#.a'], 'a.x.y.a')).toEqual(['a.#.a']);
    expect(matches(['a.#.b'], 'a.b.b.c')).toEqual([]);
  });

  it('removes bindings and prunes', () => {
    const t = new TopicTrie<string>();
    t.add('a.*', 'x');
    t.add('a.#', 'y');
    expect([...t.match('a.b')].sort()).toEqual(['x', 'y']);
    expect(t.remove('a.*', 'x')).toBe(true);
    expect(t.remove('a.*', 'x')).toBe(false);
    expect([...t.match('a.b')]).toEqual(['y']);
    expect(t.remove('a.#', 'y')).toBe(true);
    expect(t.match('a.b')).toEqual([]);
    expect(t.size).toBe(0);
  });

  it('invalidates its match cache on change', () => {
    const t = new TopicTrie<string>();
    expect(t.match('a.b')).toEqual([]);
    t.add('a.b', 'v');
    expect(t.match('a.b')).toEqual(['v']);
  });

  it('agrees with a naive matcher on random patterns and keys', () => {
    const word = fc.constantFrom('a', 'b', 'c', '');
    const pword = fc.constantFrom('a', 'b', '*', '#', '');
    const key = fc.array(word, { maxLength: 5 }).map((ws) => ws.join('.'));
    const pattern = fc.array(pword, { maxLength: 5 }).map((ws) => ws.join('.'));
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { maxLength: 12 }), fc.array(key, { maxLength: 8 }), (patterns, keys) => {
        const t = new TopicTrie<string>();
        for (const p of patterns) t.add(p, p);
        for (const k of keys) {
          const got = [...new Set(t.match(k))].sort();
          const want = patterns.filter((p) => naiveMatch(topicWords(p), topicWords(k))).sort();
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with a naive matcher across interleaved binds, unbinds and repeated matches', () => {
    const word = fc.constantFrom('a', 'b', 'c', '');
    const pword = fc.constantFrom('a', 'b', '*', '#', '');
    const key = fc.array(word, { maxLength: 4 }).map((ws) => ws.join('.'));
    const pattern = fc.array(pword, { maxLength: 4 }).map((ws) => ws.join('.'));
    const command = fc.oneof(
      fc.record({ op: fc.constant('add' as const), p: pattern }),
      fc.record({ op: fc.constant('remove' as const), p: pattern }),
      fc.record({ op: fc.constant('match' as const), k: key, times: fc.integer({ min: 1, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (cmds) => {
        const t = new TopicTrie<string>();
        const bound = new Set<string>();
        for (const c of cmds) {
          if (c.op === 'add') {
            if (!bound.has(c.p)) t.add(c.p, c.p);
            bound.add(c.p);
          } else if (c.op === 'remove') {
            expect(t.remove(c.p, c.p)).toBe(bound.delete(c.p));
          } else {
            const want = [...bound].filter((p) => naiveMatch(topicWords(p), topicWords(c.k))).sort();
            for (let i = 0; i < c.times; i++) expect([...new Set(t.match(c.k))].sort()).toEqual(want);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps many hot keys cached and forgets them on change', () => {
    const t = new TopicTrie<number>();
    const n = 5000; // more keys than the base cache size: the cache grows with the bindings
    for (let i = 0; i < n; i++) t.add(`dev.${i}.#`, i);
    for (let round = 0; round < 3; round++) for (let i = 0; i < n; i++) expect(t.match(`dev.${i}.temp`)).toEqual([i]);
    t.remove('dev.7.#', 7);
    t.add('dev.*.temp', -1);
    expect(t.match('dev.7.temp')).toEqual([-1]);
    expect([...t.match('dev.8.temp')].sort((a, b) => a - b)).toEqual([-1, 8]);
  });
});

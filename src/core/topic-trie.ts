/**
 * Topic-exchange matching (AMQP 0-9-1 topic semantics), after nats-server's sublist: a trie of
 * words, the two wildcards in dedicated fields rather than in the word map, and a bounded match
 * cache invalidated by a generation counter on every change (a stale entry is refreshed in
 * place on its next lookup: no map to rebuild after each bind).
 *
 * Words are separated by '.'; an empty key has zero words (RabbitMQ's split_topic_key), so
 * `#` matches '' and `*` does not; 'a..b' has an empty middle word that `*` matches.
 * `*` matches exactly one word, `#` zero or more.
 */

class TopicNode<T> {
  /**
   * The only literal child while there is just one (the common case below the first levels of
   * per-device bindings): no Map to allocate or probe, and matching compares in place.
   */
  soleWord: string | null = null;
  sole: TopicNode<T> | null = null;
  /** Literal children once there are two or more (keys are arbitrary strings). */
  words: Map<string, TopicNode<T>> | null = null;
  star: TopicNode<T> | null = null;
  hash: TopicNode<T> | null = null;
  /** Values bound with a key ending at this node. */
  values: T[] | null = null;

  child(w: string): TopicNode<T> | null {
    if (this.sole !== null) return this.soleWord === w ? this.sole : null;
    return this.words?.get(w) ?? null;
  }

  addChild(w: string): TopicNode<T> {
    const existing = this.child(w);
    if (existing) return existing;
    const next = new TopicNode<T>();
    if (this.sole === null && this.words === null) {
      this.soleWord = w;
      this.sole = next;
    } else {
      if (this.sole !== null) {
        this.words = new Map([[this.soleWord!, this.sole]]);
        this.sole = this.soleWord = null;
      }
      this.words!.set(w, next);
    }
    return next;
  }

  removeChild(w: string): void {
    if (this.sole !== null) {
      if (this.soleWord === w) this.sole = this.soleWord = null;
    } else if (this.words) {
      this.words.delete(w);
      if (this.words.size === 0) this.words = null;
    }
  }

  isEmpty(): boolean {
    return this.values === null && this.star === null && this.hash === null && this.sole === null && this.words === null;
  }
}

const CACHE_MAX = 1024;
/** Lookups between decisions on whether the cache pays (hit rate >= 1/4). */
const CACHE_WINDOW = 4096;
const NONE: readonly never[] = [];

interface CacheEntry<T> {
  generation: number;
  result: readonly T[];
}

/** Splits a topic key into words; '' has none. */
export function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

export class TopicTrie<T> {
  private readonly root = new TopicNode<T>();
  private size_ = 0;
  private readonly cache = new Map<string, CacheEntry<T>>();
  /** Bumped by every add/remove: cache entries of older generations are stale. */
  private generation = 0;
  // Adaptive caching: with many distinct keys (100,000 MQTT devices) a miss-heavy cache only
  // allocates and churns, so it is switched off below a 1/4 hit rate and sampled meanwhile.
  private cacheOn = true;
  private lookups = 0;
  /** Lookups of the current window that consulted the cache, and how many of them hit. */
  private probes = 0;
  private hits = 0;
  private sample = 0;
  private readonly scratch: T[] = [];

  get size(): number {
    return this.size_;
  }

  /** Adds `value` under binding key `pattern` (the caller prevents duplicates). */
  add(pattern: string, value: T): void {
    let node = this.root;
    for (const w of topicWords(pattern)) {
      if (w === '*') node = node.star ??= new TopicNode<T>();
      else if (w === '#') node = node.hash ??= new TopicNode<T>();
      else node = node.addChild(w);
    }
    (node.values ??= []).push(value);
    this.size_++;
    this.generation++;
  }

  /** Removes `value` bound under `pattern`; prunes emptied nodes. Returns whether it was there. */
  remove(pattern: string, value: T): boolean {
    const words = topicWords(pattern);
    const path: TopicNode<T>[] = [this.root];
    let node: TopicNode<T> | null = this.root;
    for (const w of words) {
      node = w === '*' ? node.star : w === '#' ? node.hash : node.child(w);
      if (!node) return false;
      path.push(node);
    }
    const vals = node.values;
    const i = vals ? vals.indexOf(value) : -1;
    if (!vals || i < 0) return false;
    vals.splice(i, 1);
    if (vals.length === 0) node.values = null;
    this.size_--;
    this.generation++;
    // Prune from the leaf up while nodes are empty.
    for (let d = words.length; d > 0; d--) {
      const n = path[d]!;
      if (!n.isEmpty()) break;
      const parent = path[d - 1]!;
      const w = words[d - 1]!;
      if (w === '*') parent.star = null;
      else if (w === '#') parent.hash = null;
      else parent.removeChild(w);
    }
    return true;
  }

  /**
   * Values whose pattern matches `key`. May contain a value twice when two of its patterns
   * match (e.g. 'a.#' and '#.b'): callers dedupe, as they dedupe across exchanges anyway.
   * The returned array is shared (cache or scratch): read it before the next `match` on this
   * trie and do not modify it.
   */
  match(key: string): readonly T[] {
    if (++this.lookups === CACHE_WINDOW) {
      this.cacheOn = this.probes > 0 && this.hits * 4 >= this.probes;
      this.lookups = this.probes = this.hits = 0;
    }
    // While the cache does not pay, only one lookup in 16 consults it (a miss in a big map
    // costs a probe of its own); those samples tell when keys start repeating again.
    const out = this.scratch;
    if (!this.cacheOn && (++this.sample & 15) !== 0) {
      out.length = 0;
      collect(this.root, key, key === '' ? -1 : 0, out);
      return out.length > 0 ? out : NONE;
    }
    this.probes++;
    const entry = this.cache.get(key);
    if (entry !== undefined && entry.generation === this.generation) {
      this.hits++;
      return entry.result;
    }
    out.length = 0;
    soleValues = null;
    contributions = 0;
    collect(this.root, key, key === '' ? -1 : 0, out);
    // One node's values (the usual case) are cached as that very array, without a copy: they
    // change only through add/remove, which make the entry stale.
    const result: readonly T[] = out.length === 0 ? NONE : contributions === 1 ? (soleValues as unknown as T[]) : out.slice();
    soleValues = null;
    if (entry !== undefined) {
      entry.generation = this.generation;
      entry.result = result;
      return result;
    }
    // Bounded by the binding count too: a fleet of N devices publishing to their own topics
    // (one binding each) has about N hot keys, and an entry costs far less than a binding.
    const max = this.size_ > CACHE_MAX ? this.size_ : CACHE_MAX;
    if (this.cache.size >= max) {
      // Sweep the oldest half (Map iterates in insertion order), as nats' sublist does.
      let drop = this.cache.size - (max >>> 1);
      for (const k of this.cache.keys()) {
        if (drop-- <= 0) break;
        this.cache.delete(k);
      }
    }
    this.cache.set(key, { generation: this.generation, result });
    return result;
  }
}

// Which node values a collect() pushed: one array (cached as is) or several.
let soleValues: readonly unknown[] | null = null;
let contributions = 0;

// The last word cut from a key (see collect); module-level so a match allocates nothing for it.
let memoKey = '';
let memoPos = -1;
let memoWord = '';

/**
 * Walks the trie for `key` from the word starting at `pos` (-1 = no words left), without
 * splitting the key into an array.
 */
function collect<T>(node: TopicNode<T>, key: string, pos: number, out: T[]): void {
  if (pos < 0) {
    const vals = node.values;
    if (vals) {
      contributions++;
      soleValues = vals;
      for (let i = 0; i < vals.length; i++) out.push(vals[i]!);
    }
    // '#' also matches zero words, so a trailing '#' (or '#.#') still matches here.
    if (node.hash) collect(node.hash, key, -1, out);
    return;
  }
  const dot = key.indexOf('.', pos);
  const next = dot < 0 ? -1 : dot + 1;
  if (node.sole !== null) {
    // Compare the word in place: no substring for the single-child case.
    const w = node.soleWord!;
    const end = dot < 0 ? key.length : dot;
    if (end - pos === w.length && key.startsWith(w, pos)) collect(node.sole, key, next, out);
  } else if (node.words !== null) {
    // The literal child and a sibling '*' branch look up the same word: cut it once.
    let w: string;
    if (pos === memoPos && key === memoKey) w = memoWord;
    else {
      w = dot < 0 ? key.substring(pos) : key.substring(pos, dot);
      memoKey = key;
      memoPos = pos;
      memoWord = w;
    }
    const lit = node.words.get(w);
    if (lit) collect(lit, key, next, out);
  }
  if (node.star) collect(node.star, key, next, out);
  if (node.hash) {
    // '#' swallows zero words (here), one word (next), ... up to all of them (-1).
    let p = pos;
    for (;;) {
      collect(node.hash, key, p, out);
      if (p < 0) break;
      const d = key.indexOf('.', p);
      p = d < 0 ? -1 : d + 1;
    }
  }
}

/**
 * Topic-exchange matching (AMQP 0-9-1 topic semantics), after nats-server's sublist: a trie of
 * words, the two wildcards in dedicated fields rather than in the word map, and a bounded match
 * cache invalidated by a generation counter on every change.
 *
 * Words are separated by '.'; an empty key has zero words (RabbitMQ's split_topic_key), so
 * `#` matches '' and `*` does not; 'a..b' has an empty middle word that `*` matches.
 * `*` matches exactly one word, `#` zero or more.
 */

class TopicNode<T> {
  /** Literal words. A Map because keys are arbitrary strings; created lazily (most nodes are leaves). */
  words: Map<string, TopicNode<T>> | null = null;
  star: TopicNode<T> | null = null;
  hash: TopicNode<T> | null = null;
  /** Values bound with a key ending at this node. */
  values: T[] | null = null;
}

const CACHE_MAX = 1024;
const CACHE_SWEEP_TO = 512;

/** Splits a topic key into words; '' has none. */
export function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

export class TopicTrie<T> {
  private readonly root = new TopicNode<T>();
  private size_ = 0;
  private readonly cache = new Map<string, T[]>();

  get size(): number {
    return this.size_;
  }

  /** Adds `value` under binding key `pattern` (the caller prevents duplicates). */
  add(pattern: string, value: T): void {
    let node = this.root;
    for (const w of topicWords(pattern)) {
      if (w === '*') node = node.star ??= new TopicNode<T>();
      else if (w === '#') node = node.hash ??= new TopicNode<T>();
      else {
        node.words ??= new Map();
        let next = node.words.get(w);
        if (!next) {
          next = new TopicNode<T>();
          node.words.set(w, next);
        }
        node = next;
      }
    }
    (node.values ??= []).push(value);
    this.size_++;
    this.cache.clear();
  }

  /** Removes `value` bound under `pattern`; prunes emptied nodes. Returns whether it was there. */
  remove(pattern: string, value: T): boolean {
    const words = topicWords(pattern);
    const path: TopicNode<T>[] = [this.root];
    let node: TopicNode<T> | null = this.root;
    for (const w of words) {
      node = w === '*' ? node.star : w === '#' ? node.hash : (node.words?.get(w) ?? null);
      if (!node) return false;
      path.push(node);
    }
    const vals = node.values;
    const i = vals ? vals.indexOf(value) : -1;
    if (!vals || i < 0) return false;
    vals.splice(i, 1);
    if (vals.length === 0) node.values = null;
    this.size_--;
    this.cache.clear();
    // Prune from the leaf up while nodes are empty.
    for (let d = words.length; d > 0; d--) {
      const n = path[d]!;
      if (n.values || n.star || n.hash || (n.words && n.words.size > 0)) break;
      const parent = path[d - 1]!;
      const w = words[d - 1]!;
      if (w === '*') parent.star = null;
      else if (w === '#') parent.hash = null;
      else parent.words!.delete(w);
    }
    return true;
  }

  /**
   * Values whose pattern matches `key`. May contain a value twice when two of its patterns
   * match (e.g. 'a.#' and '#.b'): callers dedupe, as they dedupe across exchanges anyway.
   * The returned array is shared with the cache: do not modify it.
   */
  match(key: string): readonly T[] {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const out: T[] = [];
    collect(this.root, topicWords(key), 0, out);
    if (this.cache.size >= CACHE_MAX) {
      // Sweep the oldest half (Map iterates in insertion order), as nats' sublist does.
      let drop = this.cache.size - CACHE_SWEEP_TO;
      for (const k of this.cache.keys()) {
        if (drop-- <= 0) break;
        this.cache.delete(k);
      }
    }
    this.cache.set(key, out);
    return out;
  }
}

function pushAll<T>(out: T[], vals: T[] | null): void {
  if (vals) for (let i = 0; i < vals.length; i++) out.push(vals[i]!);
}

function collect<T>(node: TopicNode<T>, words: string[], i: number, out: T[]): void {
  if (i === words.length) {
    pushAll(out, node.values);
    // '#' also matches zero words, so a trailing '#' (or '#.#') still matches here.
    if (node.hash) collect(node.hash, words, i, out);
    return;
  }
  const w = words[i]!;
  const lit = node.words?.get(w);
  if (lit) collect(lit, words, i + 1, out);
  if (node.star) collect(node.star, words, i + 1, out);
  if (node.hash) {
    // '#' swallows j - i words, for every j from i (zero words) to the end.
    for (let j = i; j <= words.length; j++) collect(node.hash, words, j, out);
  }
}

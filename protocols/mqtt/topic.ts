/**
 * MQTT topic names and filters (MQTT 5.0 §4.7, 3.1.1 §4.7): validation and matching with the
 * spec's rules, and shared subscription syntax (§4.8.2).
 */

/** A topic name a client may publish to: non-empty, no wildcards [MQTT-3.3.2-2], no U+0000. */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0) return false;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x23 /* # */ || c === 0x2b /* + */ || c === 0) return false;
  }
  return true;
}

/**
 * A topic filter: `#` only as the whole last level [MQTT-4.7.1-2], `+` only as a whole
 * level [MQTT-4.7.1-3], at least one character [MQTT-4.7.3-1], no U+0000 [MQTT-4.7.3-2].
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('\u0000')) return false;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

export interface SharedFilter {
  shareName: string;
  filter: string;
}

/**
 * `$share/{ShareName}/{filter}` (§4.8.2): ShareName non-empty without `/`, `+`, `#`
 * [MQTT-4.8.2-1], [MQTT-4.8.2-2]. Returns null for a non-shared filter, throws for a bad share.
 */
export function parseSharedFilter(filter: string): SharedFilter | null {
  if (!filter.startsWith('$share/')) return null;
  const rest = filter.slice(7);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new Error('shared subscription without share name or filter');
  const shareName = rest.slice(0, slash);
  if (shareName.includes('+') || shareName.includes('#')) throw new Error('wildcard in share name');
  const inner = rest.slice(slash + 1);
  if (!isValidTopicFilter(inner)) throw new Error('bad filter in shared subscription');
  return { shareName, filter: inner };
}

/**
 * Does `filter` match `topic`? Levels split on `/`; `+` is one level, `#` the parent and any
 * number of levels below it [MQTT-4.7.1-2]; a topic starting with `$` is not matched by a
 * filter starting with a wildcard [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split('/'), topic);
}

/** topicMatches with the filter already split (sessions keep their filters split). */
export function levelsMatch(filterLevels: readonly string[], topic: string): boolean {
  return splitMatch(filterLevels, topic.split('/'));
}

/** topicMatches with both split: a delivery splits its topic once for all subscriptions. */
export function splitMatch(filterLevels: readonly string[], topicLevels: readonly string[]): boolean {
  const first = filterLevels[0];
  if ((first === '+' || first === '#') && topicLevels[0]!.charCodeAt(0) === 0x24 /* $ */) return false;
  const t = topicLevels;
  for (let i = 0; i < filterLevels.length; i++) {
    const f = filterLevels[i]!;
    if (f === '#') return true;
    if (i >= t.length) return false;
    if (f !== '+' && f !== t[i]) return false;
  }
  return filterLevels.length === t.length;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filterToBindingKey, routingKeyToTopic, topicToRoutingKey } from '../../../protocols/mqtt/mapping/topic-mapping.js';
import { isValidTopicFilter, isValidTopicName, parseSharedFilter, topicMatches } from '../../../protocols/mqtt/topic.js';

/** AMQP topic-exchange matching (`*` one word, `#` zero or more), written naively as the reference trie semantics. */
function amqpMatches(bindingKey: string, routingKey: string): boolean {
  const b = bindingKey.split('.');
  const r = routingKey.split('.');
  const go = (i: number, j: number): boolean => {
    if (i === b.length) return j === r.length;
    if (b[i] === '#') return go(i + 1, j) || (j < r.length && go(i, j + 1));
    if (j === r.length) return false;
    return (b[i] === '*' || b[i] === r[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

const levelChar = fc.constantFrom('a', 'b', '.', 'x', '$', '1', '0', 'é', '-', '*');
const level = fc.array(levelChar, { maxLength: 4 }).map((cs) => cs.join(''));
const topicArb = fc.array(level, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/')).filter(isValidTopicName);
const filterLevel = fc.oneof(level.filter((l) => l !== '*'), fc.constant('+'));
const filterArb = fc
  .tuple(fc.array(filterLevel, { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([ls, hash]) => (hash ? [...ls, '#'] : ls).join('/'))
  .filter(isValidTopicFilter);

describe('topic mapping (docs/mqtt.md "Topic mapping")', () => {
  it('maps levels to words and back: a/b <-> a.b', () => {
    expect(topicToRoutingKey('a/b/c')).toBe('a.b.c');
    expect(routingKeyToTopic('a.b.c')).toBe('a/b/c');
  });

  it('keeps a Sparkplug topic with a dot unchanged across the round trip, one level per word', () => {
    const t = 'spBv1.0/group1/NBIRTH/edge1';
    const rk = topicToRoutingKey(t);
    expect(rk).toBe('spBv1/0.group1.NBIRTH.edge1');
    expect(rk.split('.')).toHaveLength(4);
    expect(routingKeyToTopic(rk)).toBe(t);
    expect(amqpMatches(filterToBindingKey('spBv1.0/+/NBIRTH/#'), rk)).toBe(true);
    expect(amqpMatches(filterToBindingKey('spBv1/+/NBIRTH/#'), rk)).toBe(false);
  });

  it('maps wildcards: + -> *, # -> #', () => {
    expect(filterToBindingKey('a/+/#')).toBe('a.*.#');
    expect(filterToBindingKey('#')).toBe('#');
  });

  it('round-trips every topic (property)', () => {
    fc.assert(fc.property(topicArb, (t) => routingKeyToTopic(topicToRoutingKey(t)) === t), { numRuns: 2000 });
  });

  it('keeps the number of levels (property)', () => {
    fc.assert(fc.property(topicArb, (t) => topicToRoutingKey(t).split('.').length === t.split('/').length), { numRuns: 2000 });
  });

  it('MQTT matching equals topic-exchange matching of the mapped keys, except the $ rule (property)', () => {
    fc.assert(
      fc.property(filterArb, topicArb, (f, t) => {
        const mqtt = topicMatches(f, t);
        const amqp = amqpMatches(filterToBindingKey(f), topicToRoutingKey(t));
        // [MQTT-4.7.2-1]: the adapter filters $-topics out of leading-wildcard matches after routing.
        if (t.startsWith('$') && (f.startsWith('+') || f.startsWith('#'))) return mqtt === false;
        return mqtt === amqp;
      }),
      { numRuns: 5000 },
    );
  });
});

describe('topic filters [MQTT-4.7]', () => {
  it('matches the spec examples', () => {
    expect(topicMatches('sport/tennis/player1/#', 'sport/tennis/player1')).toBe(true);
    expect(topicMatches('sport/tennis/player1/#', 'sport/tennis/player1/ranking')).toBe(true);
    expect(topicMatches('sport/#', 'sport')).toBe(true);
    expect(topicMatches('sport/tennis/+', 'sport/tennis/player1')).toBe(true);
    expect(topicMatches('sport/tennis/+', 'sport/tennis/player1/ranking')).toBe(false);
    expect(topicMatches('sport/+', 'sport')).toBe(false);
    expect(topicMatches('sport/+', 'sport/')).toBe(true);
    expect(topicMatches('+/+', '/finance')).toBe(true);
    expect(topicMatches('/+', '/finance')).toBe(true);
    expect(topicMatches('+', '/finance')).toBe(false);
  });

  it('does not match $-topics with a leading wildcard [MQTT-4.7.2-1]', () => {
    expect(topicMatches('#', '$SYS/broker/uptime')).toBe(false);
    expect(topicMatches('+/monitor/Clients', '$SYS/monitor/Clients')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/broker/uptime')).toBe(true);
    expect(topicMatches('$SYS/monitor/+', '$SYS/monitor/Clients')).toBe(true);
  });

  it('validates filters and names [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-3.3.2-2]', () => {
    for (const f of ['sport/tennis#', 'sport/tennis/#/ranking', 'sport+', '']) expect(isValidTopicFilter(f)).toBe(false);
    for (const f of ['#', '+', '+/tennis/#', 'sport/+/player1', '/']) expect(isValidTopicFilter(f)).toBe(true);
    for (const t of ['a/+', 'a/#', '']) expect(isValidTopicName(t)).toBe(false);
  });

  it('parses shared subscriptions [MQTT-4.8.2-1] [MQTT-4.8.2-2]', () => {
    expect(parseSharedFilter('$share/g1/a/+')).toEqual({ shareName: 'g1', filter: 'a/+' });
    expect(parseSharedFilter('a/b')).toBeNull();
    expect(() => parseSharedFilter('$share/g1')).toThrow();
    expect(() => parseSharedFilter('$share//a')).toThrow();
    expect(() => parseSharedFilter('$share/g+/a')).toThrow();
  });
});

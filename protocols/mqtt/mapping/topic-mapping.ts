/**
 * MQTT topics ↔ `amq.topic` routing keys (docs/mqtt.md "Topic mapping").
 *
 * The rule is a swap of the two separators: `/` ↔ `.`. An MQTT level can never contain `/`
 * (it is the level separator), so a `.` inside a level becomes `/` inside an AMQP word and
 * comes back unchanged: `spBv1.0/group/NBIRTH/edge` ↔ `spBv1/0.group.NBIRTH.edge`. The
 * mapping is a bijection on strings, so every MQTT topic survives the round trip and keeps
 * its levels (one MQTT level = one AMQP word), which a plain `/` → `.` replacement does not.
 *
 * Filters map `+` → `*` and `#` → `#` level by level. A level that is literally `*` in an MQTT
 * filter would become an AMQP wildcard; such bindings over-match and the adapter's own MQTT
 * match on delivery drops what the filter does not select.
 */

function swapSeparators(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2f /* / */ || c === 0x2e /* . */) {
      out += s.slice(last, i) + (c === 0x2f ? '.' : '/');
      last = i + 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

// The last mapping each way: streams of messages on one topic map it once (and hand the
// same string on, which later string compares take as equal at once).
let lastTopic = '';
let lastRoutingKey = '';
let lastKeyIn = '';
let lastTopicOut = '';

/** MQTT topic name → routing key. */
export function topicToRoutingKey(topic: string): string {
  if (topic !== lastTopic) {
    lastRoutingKey = swapSeparators(topic);
    lastTopic = topic;
  }
  return lastRoutingKey;
}

/** Routing key → MQTT topic name (inverse of topicToRoutingKey). */
export function routingKeyToTopic(routingKey: string): string {
  if (routingKey !== lastKeyIn) {
    lastTopicOut = swapSeparators(routingKey);
    lastKeyIn = routingKey;
  }
  return lastTopicOut;
}

/** MQTT topic filter → topic exchange binding key. */
export function filterToBindingKey(filter: string): string {
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '+') levels[i] = '*';
    else if (level !== '#') levels[i] = level.replaceAll('.', '/');
  }
  return levels.join('.');
}

/**
 * Topic names and ids. A Kafka topic is a core stream of the same name (ARCHITECTURE.md).
 */
import { createHash } from 'node:crypto';

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Kafka's Topic.validate: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
export function topicNameError(name: string | null): string | null {
  if (name === null || name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > 249) return `Topic name is illegal, it can't be longer than 249 characters, topic name: ${name}`;
  if (!LEGAL.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

/**
 * A stable topic id (Metadata v10+, DeleteTopics v6) derived from the vhost and name: the
 * core has no topic ids, and a hash keeps them the same across restarts without storing them.
 */
export function topicIdFor(vhost: string, name: string): Buffer {
  const id = createHash('sha256').update(vhost).update('\0').update(name).digest().subarray(0, 16);
  id[6] = (id[6]! & 0x0f) | 0x40; // shaped as a UUID v4 so tools display it as one
  id[8] = (id[8]! & 0x3f) | 0x80;
  return id;
}

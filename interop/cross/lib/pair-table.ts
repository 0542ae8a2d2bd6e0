import { pathToFileURL } from 'node:url';
import { PROTOCOLS, absent, carried, identity, lost, type Identity, type Property } from './probe.js';

const NAMES: Record<Property, string> = {
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  correlationId: 'correlation id',
  replyTo: 'reply-to',
  messageId: 'message id',
  type: 'type',
  appId: 'app-id',
  userId: 'user-id',
  expiration: 'expiration',
  priority: 'priority',
  persistent: 'persistence',
  timestamp: 'timestamp',
  brokerTimestamp: 'broker time',
  headers: 'user headers',
  key: 'Kafka key',
};

const IDENTITY: Record<Identity, string> = {
  stamped: 'validated: stamped by the broker',
  'none added': 'validated: forged headers removed, none added',
};

const list = (ps: Property[]) => ps.map((p) => NAMES[p]).join(', ') || '—';

/** The pair table of docs/mapping.md, from the definitions the matrix checks. */
export function pairTable(): string {
  const rows = [
    '| publisher → consumer | carried (checked equal) | set by the publisher, lost | slots checked empty | publisher identity |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const p of PROTOCOLS) for (const c of PROTOCOLS) rows.push(`| ${p} → ${c} | ${list(carried(p, c))} | ${list(lost(p, c))} | ${list(absent(p, c))} | ${IDENTITY[identity(p, c)]} |`);
  return rows.join('\n');
}

// `npx tsx interop/cross/lib/pair-table.ts` prints the table for docs/mapping.md.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(`${pairTable()}\n`);

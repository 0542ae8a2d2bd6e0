import { PROTOCOLS, absent, carried, identity, lost, type Property } from './probe.js';

const NAMES: Record<Property, string> = {
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  correlationId: 'correlation id',
  replyTo: 'reply-to',
  messageId: 'message id',
  type: 'type',
  appId: 'app-id',
  expiration: 'expiration',
  priority: 'priority',
  persistent: 'persistence',
  timestamp: 'timestamp',
  brokerTimestamp: 'broker time',
  headers: 'user headers',
  key: 'Kafka key',
};

const list = (ps: Property[]) => ps.map((p) => NAMES[p]).join(', ') || '—';

/** The pair table of docs/mapping.md, from the definitions the matrix checks. */
export function pairTable(): string {
  const rows = [
    '| publisher → consumer | carried (checked equal) | set by the publisher, lost | slots checked empty | publisher identity |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const p of PROTOCOLS) for (const c of PROTOCOLS) rows.push(`| ${p} → ${c} | ${list(carried(p, c))} | ${list(lost(p, c))} | ${list(absent(p, c))} | ${identity(p, c)} |`);
  return rows.join('\n');
}

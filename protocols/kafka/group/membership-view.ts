import type { GroupMembership } from '../../../src/core/index.js';
import type { GroupCoordinator } from './coordinator.js';

/**
 * ConsumerProtocolAssignment (classic encoding, every version starts the same):
 * version int16, assigned_partitions [topic string, partitions [int32]], user_data bytes.
 * Anything else (a non-consumer protocol, a truncated buffer) gives no assignments.
 */
export function decodeAssignment(buf: Buffer): { stream: string; partitions: number[] }[] {
  const out: { stream: string; partitions: number[] }[] = [];
  if (buf.length < 6) return out;
  let pos = 2;
  const topics = buf.readInt32BE(pos);
  pos += 4;
  for (let i = 0; i < topics; i++) {
    if (pos + 2 > buf.length) return [];
    const len = buf.readInt16BE(pos);
    pos += 2;
    if (len < 0 || pos + len + 4 > buf.length) return [];
    const stream = buf.toString('utf8', pos, pos + len);
    pos += len;
    const n = buf.readInt32BE(pos);
    pos += 4;
    if (n < 0 || pos + 4 * n > buf.length) return [];
    const partitions: number[] = [];
    for (let j = 0; j < n; j++, pos += 4) partitions.push(buf.readInt32BE(pos));
    out.push({ stream, partitions });
  }
  return out;
}

/** The coordinator's live groups as the core's management view of group membership. */
export function groupMemberships(coordinator: GroupCoordinator): GroupMembership[] {
  return coordinator.liveGroups().map((g) => ({
    group: g.groupId,
    state: g.state,
    protocol: g.protocolName ?? '',
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.clientHost,
      assignments: g.protocolType === 'consumer' ? decodeAssignment(m.assignment) : [],
    })),
  }));
}

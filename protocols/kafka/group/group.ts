/**
 * One consumer group of the classic group protocol (Kafka's GroupMetadata): its members, its
 * generation and its state machine
 *
 *   Empty -> PreparingRebalance -> CompletingRebalance -> Stable -> PreparingRebalance ...
 *
 * The coordinator drives transitions; this file holds the data and the protocol selection.
 */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  /** Assignors in the member's order of preference, with their metadata. */
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  /** Pending JoinGroup response, while the group prepares a rebalance. */
  awaitingJoin: ((r: JoinResult) => void) | null;
  /** Pending SyncGroup response, while the leader has not sent the assignment. */
  awaitingSync: ((r: SyncResult) => void) | null;
  /** Session expiry timer, reset by every heartbeat, join and sync. */
  sessionTimer: NodeJS.Timeout | null;
}

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED (KIP-394) that have not joined yet. */
  readonly pendingMembers = new Set<string>();
  /** group.instance.id -> member id (static membership, KIP-345). */
  readonly staticMembers = new Map<string, string>();
  rebalanceTimer: NodeJS.Timeout | null = null;
  /** group.initial.rebalance.delay.ms: the join of an empty group's first rebalance completes no earlier. */
  joinNotBefore = 0;
  /** When the group last became Empty (offset retention starts then). */
  emptySince = Date.now();

  constructor(readonly groupId: string) {}

  is(state: GroupState): boolean {
    return this.state === state;
  }

  /** Every other member supports at least one protocol of `protocols`, of the same type. */
  supports(protocolType: string, protocols: { name: string }[], joining: string): boolean {
    if (protocolType.length === 0 || protocols.length === 0) return false;
    const others = [...this.members.keys()].filter((id) => id !== joining);
    if (others.length === 0) return true;
    if (this.protocolType !== protocolType) return false;
    const common = this.candidates(joining);
    return protocols.some((p) => common.has(p.name));
  }

  /** Protocols every member (but `except`) supports. */
  candidates(except?: string): Set<string> {
    let common: string[] | null = null;
    for (const m of this.members.values()) {
      if (m.memberId === except) continue;
      const names = m.protocols.map((p) => p.name);
      common = common === null ? names : common.filter((n) => names.includes(n));
    }
    return new Set(common ?? []);
  }

  /** Kafka's selectProtocol: each member votes for its most preferred common protocol; most votes wins. */
  selectProtocol(): string | null {
    const candidates = this.candidates();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  metadataFor(member: Member, protocol: string): Buffer {
    return member.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0);
  }

  allJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (!m.awaitingJoin) return false;
    return true;
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Topics the members subscribe to, as far as the consumer protocol metadata says (for OffsetDelete). */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== 'consumer' || !this.protocolName) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const meta = this.metadataFor(m, this.protocolName);
      // ConsumerProtocolSubscription: version int16, topics [string] (classic encoding)
      if (meta.length < 6) return null;
      let pos = 2;
      const n = meta.readInt32BE(pos);
      pos += 4;
      for (let i = 0; i < n; i++) {
        if (pos + 2 > meta.length) return null;
        const len = meta.readInt16BE(pos);
        pos += 2;
        if (len < 0 || pos + len > meta.length) return null;
        topics.add(meta.toString('utf8', pos, pos + len));
        pos += len;
      }
    }
    return topics;
  }
}

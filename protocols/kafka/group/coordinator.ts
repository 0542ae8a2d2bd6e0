/**
 * The classic group coordinator (Kafka's GroupCoordinator, KIP-62/-345/-394): JoinGroup,
 * SyncGroup, Heartbeat and LeaveGroup drive each group's state machine; committed offsets are
 * stored durably by the core (Vhost.commitOffset), so this class only holds live membership,
 * which Kafka too rebuilds from scratch after a coordinator move.
 *
 * Rebalance: a join that changes membership moves the group to PreparingRebalance; the join
 * completes when every known member has rejoined (or the largest rebalance timeout passes,
 * dropping the laggards); the new generation goes to CompletingRebalance, the leader gets the
 * member list, and its SyncGroup assignment makes the group Stable.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../mapping/errors.js';
import type { KafkaNode } from '../node.js';
import { Group, type JoinResult, type Member, type SyncResult } from './group.js';

export interface JoinRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  clientId: string;
  clientHost: string;
  apiVersion: number;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocolName: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
}

function joinError(errorCode: number, memberId = ''): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}

function sameProtocols(a: Member['protocols'], b: Member['protocols']): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private retentionTimer: NodeJS.Timeout | null = null;

  constructor(private readonly node: KafkaNode) {}

  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  liveGroups(): Group[] {
    return [...this.groups.values()];
  }

  // ------------------------------------------------------------------------- JoinGroup

  join(req: JoinRequest): Promise<JoinResult> {
    const opts = this.node.options;
    if (!req.groupId) return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, req.memberId));
    if (req.sessionTimeoutMs < opts.groupMinSessionTimeoutMs || req.sessionTimeoutMs > opts.groupMaxSessionTimeoutMs) {
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
    }
    let group = this.groups.get(req.groupId);
    if (!group) {
      group = new Group(req.groupId);
      this.groups.set(req.groupId, group);
    }
    const g = group;
    if (!g.supports(req.protocolType, req.protocols, req.memberId)) {
      return Promise.resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId));
    }

    if (req.memberId === '') {
      const newId = `${req.clientId || 'member'}-${randomUUID()}`;
      if (req.groupInstanceId !== null) {
        const oldId = g.staticMembers.get(req.groupInstanceId);
        const old = oldId === undefined ? undefined : g.members.get(oldId);
        if (old) return this.replaceStaticMember(g, old, newId, req);
        return this.addMemberAndRebalance(g, newId, req);
      }
      if (req.apiVersion >= 4) {
        // KIP-394: hand out the id first; the member rejoins with it.
        g.pendingMembers.add(newId);
        setTimeout(() => {
          if (g.pendingMembers.delete(newId)) this.tryCompleteJoin(g);
        }, req.sessionTimeoutMs).unref();
        return Promise.resolve(joinError(ErrorCode.MEMBER_ID_REQUIRED, newId));
      }
      return this.addMemberAndRebalance(g, newId, req);
    }

    if (g.pendingMembers.has(req.memberId)) {
      g.pendingMembers.delete(req.memberId);
      return this.addMemberAndRebalance(g, req.memberId, req);
    }
    const member = g.members.get(req.memberId);
    if (!member) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    if (req.groupInstanceId !== null && g.staticMembers.get(req.groupInstanceId) !== req.memberId) {
      return Promise.resolve(joinError(ErrorCode.FENCED_INSTANCE_ID, req.memberId));
    }
    const unchanged = sameProtocols(member.protocols, req.protocols);
    switch (g.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndAwait(g, member, req);
      case 'CompletingRebalance':
        if (unchanged) return Promise.resolve(this.currentJoinResult(g, member));
        return this.updateMemberAndRebalance(g, member, req);
      case 'Stable':
        if (unchanged && g.leaderId !== member.memberId) {
          this.touch(g, member);
          return Promise.resolve(this.currentJoinResult(g, member));
        }
        return this.updateMemberAndRebalance(g, member, req);
      default:
        return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    }
  }

  private currentJoinResult(g: Group, member: Member, skipAssignment = false): JoinResult {
    const isLeader = g.leaderId === member.memberId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: g.generationId,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      leader: g.leaderId ?? '',
      skipAssignment,
      memberId: member.memberId,
      members: isLeader && !skipAssignment ? this.memberList(g) : [],
    };
  }

  private memberList(g: Group): JoinResult['members'] {
    return [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: g.metadataFor(m, g.protocolName ?? ''),
    }));
  }

  private newMember(memberId: string, req: JoinRequest): Member {
    return {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: Buffer.alloc(0),
      awaitingJoin: null,
      awaitingSync: null,
      sessionTimer: null,
    };
  }

  private addMemberAndRebalance(g: Group, memberId: string, req: JoinRequest): Promise<JoinResult> {
    const member = this.newMember(memberId, req);
    if (g.members.size === 0) g.protocolType = req.protocolType;
    g.members.set(memberId, member);
    if (req.groupInstanceId !== null) g.staticMembers.set(req.groupInstanceId, memberId);
    if (g.leaderId === null) g.leaderId = memberId;
    const result = new Promise<JoinResult>((resolve) => (member.awaitingJoin = resolve));
    this.clearSession(member);
    if (g.is('PreparingRebalance')) this.tryCompleteJoin(g);
    else this.prepareRebalance(g, 'member joined');
    return result;
  }

  private updateMember(member: Member, req: JoinRequest): void {
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
  }

  private updateMemberAndAwait(g: Group, member: Member, req: JoinRequest): Promise<JoinResult> {
    this.updateMember(member, req);
    // A second join of the same member while one is pending supersedes the first.
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    const result = new Promise<JoinResult>((resolve) => (member.awaitingJoin = resolve));
    this.clearSession(member);
    this.tryCompleteJoin(g);
    return result;
  }

  private updateMemberAndRebalance(g: Group, member: Member, req: JoinRequest): Promise<JoinResult> {
    this.updateMember(member, req);
    const result = new Promise<JoinResult>((resolve) => (member.awaitingJoin = resolve));
    this.clearSession(member);
    this.prepareRebalance(g, 'member metadata changed');
    return result;
  }

  /** KIP-345: a known group.instance.id rejoins with a new member id and keeps its assignment. */
  private replaceStaticMember(g: Group, old: Member, newId: string, req: JoinRequest): Promise<JoinResult> {
    const oldId = old.memberId;
    old.awaitingJoin?.(joinError(ErrorCode.FENCED_INSTANCE_ID, oldId));
    old.awaitingSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    old.awaitingJoin = null;
    old.awaitingSync = null;
    this.clearSession(old);
    g.members.delete(oldId);
    const unchanged = sameProtocols(old.protocols, req.protocols);
    old.memberId = newId;
    this.updateMember(old, req);
    g.members.set(newId, old);
    g.staticMembers.set(req.groupInstanceId!, newId);
    if (g.leaderId === oldId) g.leaderId = newId;
    this.node.log.debug({ group: g.groupId, instance: req.groupInstanceId, oldId, newId }, 'static member replaced');
    if (g.is('Stable') && unchanged) {
      this.touch(g, old);
      // The leader must not reassign on a static rejoin (KIP-345): no member list.
      return Promise.resolve(this.currentJoinResult(g, old, true));
    }
    const result = new Promise<JoinResult>((resolve) => (old.awaitingJoin = resolve));
    if (g.is('PreparingRebalance')) this.tryCompleteJoin(g);
    else this.prepareRebalance(g, 'static member rejoined with new metadata');
    return result;
  }

  private prepareRebalance(g: Group, reason: string): void {
    if (g.is('CompletingRebalance')) {
      for (const m of g.members.values()) {
        m.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        m.awaitingSync = null;
      }
    }
    const wasEmpty = g.is('Empty');
    g.state = 'PreparingRebalance';
    this.node.log.debug({ group: g.groupId, generation: g.generationId, reason }, 'preparing rebalance');
    if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer);
    const delay = wasEmpty ? this.node.options.groupInitialRebalanceDelayMs : 0;
    const timeout = Math.max(delay, g.maxRebalanceTimeoutMs());
    g.rebalanceTimer = setTimeout(() => this.onRebalanceTimeout(g), timeout);
    g.rebalanceTimer.unref();
    if (delay > 0) {
      g.joinNotBefore = Date.now() + delay;
      setTimeout(() => this.tryCompleteJoin(g), delay).unref();
    } else g.joinNotBefore = 0;
    this.tryCompleteJoin(g);
  }

  private tryCompleteJoin(g: Group): void {
    if (!g.is('PreparingRebalance')) return;
    if (g.joinNotBefore > Date.now()) return;
    if (g.allJoined()) this.completeJoin(g);
  }

  private onRebalanceTimeout(g: Group): void {
    g.rebalanceTimer = null;
    if (!g.is('PreparingRebalance')) return;
    for (const m of [...g.members.values()]) {
      if (!m.awaitingJoin) this.removeMember(g, m, 'rebalance timeout', false);
    }
    g.pendingMembers.clear();
    this.completeJoin(g);
  }

  private completeJoin(g: Group): void {
    if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer);
    g.rebalanceTimer = null;
    g.generationId++;
    if (g.members.size === 0) {
      g.state = 'Empty';
      g.protocolName = null;
      g.leaderId = null;
      g.emptySince = Date.now();
      this.node.log.debug({ group: g.groupId, generation: g.generationId }, 'group is empty');
      return;
    }
    g.protocolName = g.selectProtocol();
    g.state = 'CompletingRebalance';
    if (g.leaderId === null || !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value!;
    this.node.log.debug({ group: g.groupId, generation: g.generationId, members: g.members.size, protocol: g.protocolName }, 'rebalance: join complete');
    for (const m of g.members.values()) {
      const resolve = m.awaitingJoin;
      m.awaitingJoin = null;
      m.assignment = Buffer.alloc(0);
      resolve?.(this.currentJoinResult(g, m));
      this.touch(g, m);
    }
  }

  // ------------------------------------------------------------------------- SyncGroup

  sync(req: SyncRequest): Promise<SyncResult> {
    const g = this.groups.get(req.groupId);
    if (g && this.fenced(g, req.memberId, req.groupInstanceId)) return Promise.resolve(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member = g?.members.get(req.memberId);
    if (!g || !member) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== g.generationId) return Promise.resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    if ((req.protocolType !== null && req.protocolType !== g.protocolType) || (req.protocolName !== null && req.protocolName !== g.protocolName)) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (g.state) {
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        this.touch(g, member);
        return Promise.resolve(this.syncResult(g, member));
      case 'CompletingRebalance': {
        const result = new Promise<SyncResult>((resolve) => (member.awaitingSync = resolve));
        this.touch(g, member);
        if (g.leaderId === member.memberId) {
          const byMember = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
          for (const m of g.members.values()) m.assignment = byMember.get(m.memberId) ?? Buffer.alloc(0);
          g.state = 'Stable';
          this.node.log.debug({ group: g.groupId, generation: g.generationId }, 'rebalance: group stable');
          for (const m of g.members.values()) {
            const resolve = m.awaitingSync;
            m.awaitingSync = null;
            resolve?.(this.syncResult(g, m));
          }
        }
        return result;
      }
      default:
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private syncResult(g: Group, m: Member): SyncResult {
    return { errorCode: ErrorCode.NONE, protocolType: g.protocolType, protocolName: g.protocolName, assignment: m.assignment };
  }

  // ------------------------------------------------------------------------- Heartbeat, LeaveGroup

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const g = this.groups.get(groupId);
    if (g && this.fenced(g, memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = g?.members.get(memberId);
    if (!g || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(g, member);
    if (g.is('PreparingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** Removes members; returns one error code per member identity (and the request-level code). */
  leave(groupId: string, members: MemberIdentity[]): { errorCode: number; members: number[] } {
    const g = this.groups.get(groupId);
    if (!g) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: members.map(() => ErrorCode.UNKNOWN_MEMBER_ID) };
    const codes = members.map(({ memberId, groupInstanceId }) => {
      let id = memberId;
      if (groupInstanceId !== null) {
        const mapped = g.staticMembers.get(groupInstanceId);
        if (mapped === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
        if (id !== '' && id !== mapped) return ErrorCode.FENCED_INSTANCE_ID;
        id = mapped;
      }
      const m = g.members.get(id);
      if (!m) {
        if (g.pendingMembers.delete(id)) {
          this.tryCompleteJoin(g);
          return ErrorCode.NONE;
        }
        return ErrorCode.UNKNOWN_MEMBER_ID;
      }
      this.removeMember(g, m, 'member left', true);
      return ErrorCode.NONE;
    });
    return { errorCode: members.length === 1 ? codes[0]! : ErrorCode.NONE, members: codes };
  }

  private removeMember(g: Group, m: Member, reason: string, rebalance: boolean): void {
    this.clearSession(m);
    g.members.delete(m.memberId);
    if (m.groupInstanceId !== null && g.staticMembers.get(m.groupInstanceId) === m.memberId) g.staticMembers.delete(m.groupInstanceId);
    m.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId));
    m.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    m.awaitingJoin = null;
    m.awaitingSync = null;
    if (g.leaderId === m.memberId) g.leaderId = null;
    this.node.log.debug({ group: g.groupId, member: m.memberId, reason }, 'member removed');
    if (!rebalance) return;
    if (g.is('Stable') || g.is('CompletingRebalance')) this.prepareRebalance(g, reason);
    else this.tryCompleteJoin(g);
  }

  /** Resets the member's session timer (heartbeat, join response, sync, commit). */
  private touch(g: Group, m: Member): void {
    this.clearSession(m);
    m.sessionTimer = setTimeout(() => {
      m.sessionTimer = null;
      if (g.members.get(m.memberId) === m && !m.awaitingJoin) this.removeMember(g, m, 'session timeout', true);
    }, m.sessionTimeoutMs);
    m.sessionTimer.unref();
  }

  private clearSession(m: Member): void {
    if (m.sessionTimer) clearTimeout(m.sessionTimer);
    m.sessionTimer = null;
  }

  /** KIP-345: a request naming a group.instance.id now held by another member id is a zombie's. */
  private fenced(g: Group, memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const current = g.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  // ------------------------------------------------------------------------- offsets

  /** Kafka's checks before an OffsetCommit (generation, member, state). */
  validateCommit(groupId: string, memberId: string, generationId: number, groupInstanceId: string | null): number {
    const g = this.groups.get(groupId);
    if (!g || g.is('Empty') || g.members.size === 0) {
      // Standalone commits (no group management, generation -1) are allowed on an empty group.
      if (generationId < 0) return ErrorCode.NONE;
      return memberId ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.ILLEGAL_GENERATION;
    }
    if (generationId < 0 && memberId === '') return ErrorCode.ILLEGAL_GENERATION;
    if (this.fenced(g, memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = g.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (g.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    this.touch(g, member);
    return ErrorCode.NONE;
  }

  // ------------------------------------------------------------------------- admin

  describe(groupId: string): GroupDescription {
    const g = this.groups.get(groupId);
    if (!g) {
      const hasOffsets = this.node.vhost().groups().includes(groupId);
      return { groupId, state: hasOffsets ? 'Empty' : 'Dead', protocolType: hasOffsets ? 'consumer' : '', protocolName: '', members: [] };
    }
    return {
      groupId,
      state: g.state,
      protocolType: g.protocolType ?? '',
      protocolName: g.is('Stable') ? (g.protocolName ?? '') : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: g.is('Stable') || g.is('CompletingRebalance') ? g.metadataFor(m, g.protocolName ?? '') : Buffer.alloc(0),
        assignment: g.is('Stable') ? m.assignment : Buffer.alloc(0),
      })),
    };
  }

  /** Every group: live ones and those that only have committed offsets. */
  list(): { groupId: string; protocolType: string; state: string }[] {
    const out = new Map<string, { groupId: string; protocolType: string; state: string }>();
    for (const id of this.node.vhost().groups()) out.set(id, { groupId: id, protocolType: 'consumer', state: 'Empty' });
    for (const g of this.groups.values()) {
      if (g.is('Empty') && !out.has(g.groupId)) continue; // forgotten once it has neither members nor offsets
      out.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
    }
    return [...out.values()];
  }

  /** DeleteGroups: NON_EMPTY_GROUP with live members, GROUP_ID_NOT_FOUND when unknown. */
  async delete(groupId: string): Promise<number> {
    const g = this.groups.get(groupId);
    if (g && g.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    const vhost = this.node.vhost();
    const hasOffsets = vhost.groups().includes(groupId);
    if (!g && !hasOffsets) return ErrorCode.GROUP_ID_NOT_FOUND;
    this.groups.delete(groupId);
    if (hasOffsets) await vhost.deleteGroup(groupId);
    return ErrorCode.NONE;
  }

  /**
   * Offset retention (`offsets.retention.minutes`, KIP-211): a group without members whose
   * newest commit is older than the retention loses its offsets.
   */
  startRetention(intervalMs = 60_000): void {
    this.retentionTimer = setInterval(() => void this.expireOffsets(Date.now()), intervalMs);
    this.retentionTimer.unref();
  }

  async expireOffsets(now: number): Promise<string[]> {
    const vhost = this.node.vhost();
    const expired: string[] = [];
    for (const id of vhost.groups()) {
      const g = this.groups.get(id);
      if (g && g.members.size > 0) continue;
      let newest = 0;
      for (const parts of vhost.groupOffsets(id).values()) for (const c of parts.values()) newest = Math.max(newest, c.commitTimestamp);
      if (now - newest >= this.node.options.offsetsRetentionMs) {
        await vhost.deleteGroup(id);
        this.groups.delete(id);
        expired.push(id);
      }
    }
    if (expired.length) this.node.log.info({ groups: expired }, 'committed offsets expired');
    return expired;
  }

  close(): void {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    for (const g of this.groups.values()) {
      if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer);
      for (const m of g.members.values()) this.clearSession(m);
    }
    this.groups.clear();
  }
}

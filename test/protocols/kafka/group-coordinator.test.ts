import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { KafkaNode } from '../../../protocols/kafka/node.js';
import { defaultKafkaOptions } from '../../../protocols/kafka/options.js';
import { handlerTable } from '../../../protocols/kafka/handlers/index.js';
import type { JoinRequest } from '../../../protocols/kafka/group/coordinator.js';
import { ErrorCode } from '../../../protocols/kafka/mapping/errors.js';
import { startInProcessKafka, type InProcessKafka } from './helpers/in-process-broker.js';

let b: InProcessKafka;
let node: KafkaNode;

beforeAll(async () => {
  b = await startInProcessKafka();
});
afterAll(async () => {
  await b.stop();
});
afterEach(() => {
  node?.coordinator.close();
  vi.useRealTimers();
});

function fresh(): KafkaNode {
  node = new KafkaNode(b.core, { ...defaultKafkaOptions, groupMinSessionTimeoutMs: 10 }, pino({ level: 'silent' }), handlerTable());
  return node;
}

const meta = (s: string) => Buffer.from(s);
function join(groupId: string, memberId: string, extra: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId,
    memberId,
    sessionTimeoutMs: 1000,
    rebalanceTimeoutMs: 2000,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: meta('m') }],
    clientId: 'c',
    clientHost: '/127.0.0.1',
    apiVersion: 5,
    ...extra,
  };
}

/** Joins with KIP-394's two steps and returns the pending join. */
async function joinNew(groupId: string, extra: Partial<JoinRequest> = {}) {
  const first = await node.coordinator.join(join(groupId, '', extra));
  if (first.errorCode === ErrorCode.MEMBER_ID_REQUIRED) return node.coordinator.join(join(groupId, first.memberId, extra));
  return first;
}

describe('GroupCoordinator', () => {
  it('hands out a member id first (KIP-394), then completes a one-member generation', async () => {
    const c = fresh().coordinator;
    const first = await c.join(join('g1', ''));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const r = await c.join(join('g1', first.memberId));
    expect(r).toMatchObject({ errorCode: 0, generationId: 1, leader: first.memberId, protocolName: 'range' });
    expect(r.members).toEqual([{ memberId: first.memberId, groupInstanceId: null, metadata: meta('m') }]);
  });

  it('selects the protocol most members prefer among those all support; refuses a member with none in common', async () => {
    const c = fresh().coordinator;
    const a = joinNew('g2', { protocols: [{ name: 'roundrobin', metadata: meta('a') }, { name: 'range', metadata: meta('a') }] });
    const bb = joinNew('g2', { protocols: [{ name: 'roundrobin', metadata: meta('b') }] });
    const [ra, rb] = await Promise.all([a, bb]);
    expect(ra.protocolName).toBe('roundrobin');
    expect(rb.generationId).toBe(ra.generationId);
    const other = await c.join(join('g2', '', { protocols: [{ name: 'cooperative-sticky', metadata: meta('x') }] }));
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('static membership: a known group.instance.id rejoins with a new id, keeps its assignment without a rebalance, and the old id is fenced', async () => {
    const c = fresh().coordinator;
    const r1 = await joinNew('g3', { groupInstanceId: 'inst-1' });
    const s1 = await c.sync({ groupId: 'g3', generationId: r1.generationId, memberId: r1.memberId, groupInstanceId: 'inst-1', protocolType: null, protocolName: null, assignments: [{ memberId: r1.memberId, assignment: meta('P0') }] });
    expect(s1.assignment).toEqual(meta('P0'));
    const r2 = await c.join(join('g3', '', { groupInstanceId: 'inst-1' }));
    expect(r2).toMatchObject({ errorCode: 0, generationId: r1.generationId, skipAssignment: true, members: [] });
    expect(r2.memberId).not.toBe(r1.memberId);
    const s2 = await c.sync({ groupId: 'g3', generationId: r2.generationId, memberId: r2.memberId, groupInstanceId: 'inst-1', protocolType: null, protocolName: null, assignments: [] });
    expect(s2.assignment).toEqual(meta('P0'));
    expect(c.heartbeat('g3', r1.generationId, r1.memberId, 'inst-1')).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(c.heartbeat('g3', r2.generationId, r2.memberId, 'inst-1')).toBe(ErrorCode.NONE);
  });

  it('a member whose session times out is removed and the others are told to rejoin', async () => {
    vi.useFakeTimers();
    const c = fresh().coordinator;
    const [ra, rb] = await Promise.all([joinNew('g4', { sessionTimeoutMs: 500 }), joinNew('g4', { sessionTimeoutMs: 500 })]);
    const leader = ra.leader === ra.memberId ? ra : rb;
    const other = leader === ra ? rb : ra;
    await Promise.all([
      c.sync({ groupId: 'g4', generationId: leader.generationId, memberId: leader.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
      c.sync({ groupId: 'g4', generationId: other.generationId, memberId: other.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
    ]);
    // Only the leader heartbeats; the other member's session expires.
    for (let t = 0; t < 4; t++) {
      vi.advanceTimersByTime(200);
      c.heartbeat('g4', leader.generationId, leader.memberId, null);
    }
    expect(c.heartbeat('g4', leader.generationId, leader.memberId, null)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const again = await c.join(join('g4', leader.memberId, { sessionTimeoutMs: 500 }));
    expect(again).toMatchObject({ errorCode: 0, generationId: leader.generationId + 1 });
    expect(again.members.map((m) => m.memberId)).toEqual([leader.memberId]);
    expect(c.heartbeat('g4', other.generationId, other.memberId, null)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a member that does not rejoin within the rebalance timeout is dropped from the new generation', async () => {
    vi.useFakeTimers();
    const c = fresh().coordinator;
    const [ra, rb] = await Promise.all([joinNew('g5', { rebalanceTimeoutMs: 1000 }), joinNew('g5', { rebalanceTimeoutMs: 1000 })]);
    // A third member arrives: the others must rejoin; only `ra` does.
    const id3 = (await c.join(join('g5', '', { rebalanceTimeoutMs: 1000 }))).memberId;
    const third = c.join(join('g5', id3, { rebalanceTimeoutMs: 1000 }));
    const aRejoin = c.join(join('g5', ra.memberId, { rebalanceTimeoutMs: 1000 }));
    vi.advanceTimersByTime(1001);
    const [r3, ra2] = await Promise.all([third, aRejoin]);
    expect(ra2.generationId).toBe(ra.generationId + 1);
    expect(r3.generationId).toBe(ra2.generationId);
    const members = (ra2.members.length ? ra2.members : r3.members).map((m) => m.memberId).sort();
    expect(members).toEqual([ra.memberId, r3.memberId].sort());
    expect(members).not.toContain(rb.memberId);
  });

  it('validates commits: standalone commits only on an empty group, generation and member checked', async () => {
    const c = fresh().coordinator;
    expect(c.validateCommit('g6', '', -1, null)).toBe(ErrorCode.NONE);
    const r = await joinNew('g6');
    expect(c.validateCommit('g6', '', -1, null)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(c.validateCommit('g6', 'nobody', r.generationId, null)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.validateCommit('g6', r.memberId, r.generationId, null)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    await c.sync({ groupId: 'g6', generationId: r.generationId, memberId: r.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    expect(c.validateCommit('g6', r.memberId, r.generationId + 1, null)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(c.validateCommit('g6', r.memberId, r.generationId, null)).toBe(ErrorCode.NONE);
  });
});

import { joinGroup } from '../schema/apis.js';
import { mayGroup } from '../mapping/authorize.js';
import { ErrorCode as AuthErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/**
 * JoinGroup: hands the member to the group coordinator, which answers when the rebalance's
 * join phase completes (the response may take up to the rebalance timeout). v0 has no
 * rebalance timeout: Kafka uses the session timeout. v4+: a new member first gets
 * MEMBER_ID_REQUIRED with its id (KIP-394).
 */
export const joinGroupHandler: Handler = {
  api: joinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, { node, conn, apiVersion }) {
    if (!mayGroup(node, conn, req.groupId)) {
      const errorCode = AuthErrorCode.GROUP_AUTHORIZATION_FAILED;
      return { throttleTimeMs: 0, errorCode, generationId: -1, protocolType: null, protocolName: apiVersion >= 7 ? null : '', leader: '', skipAssignment: false, memberId: req.memberId, members: [] };
    }
    const r = await node.coordinator.join({
      groupId: req.groupId,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: apiVersion === 0 || req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p: { name: string; metadata: Buffer }) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      clientId: conn.clientId ?? '',
      clientHost: `/${conn.remoteAddress}`,
      apiVersion,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      // protocolName is nullable only from v7; before that an error answer carries "".
      protocolName: r.protocolName ?? (apiVersion >= 7 ? null : ''),
      leader: r.leader,
      skipAssignment: r.skipAssignment,
      memberId: r.memberId,
      members: r.members,
    };
  },
};

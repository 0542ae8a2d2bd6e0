import { syncGroup } from '../schema/apis.js';
import { mayGroup } from '../mapping/authorize.js';
import { ErrorCode as AuthErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/** SyncGroup: the leader's assignment is stored and every member gets its own share. */
export const syncGroupHandler: Handler = {
  api: syncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, { node, conn }) {
    if (!mayGroup(node, conn, req.groupId)) return { throttleTimeMs: 0, errorCode: AuthErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
    const r = await node.coordinator.sync({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocolName: req.protocolName,
      assignments: req.assignments.map((a: { memberId: string; assignment: Buffer }) => ({
        memberId: a.memberId,
        assignment: Buffer.from(a.assignment),
      })),
    });
    return { throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
  },
};

import { deleteGroups } from '../schema/apis.js';
import { mayGroup } from '../mapping/authorize.js';
import { ErrorCode } from '../mapping/errors.js';
import { errorCodeFor } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/** DeleteGroups: drops a group's committed offsets; NON_EMPTY_GROUP while it has members. */
export const deleteGroupsHandler: Handler = {
  api: deleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, { node, conn }) {
    const results = [];
    for (const groupId of req.groupsNames as string[]) {
      let errorCode: number;
      if (!mayGroup(node, conn, groupId)) {
        results.push({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
        continue;
      }
      try {
        errorCode = await node.coordinator.delete(groupId);
      } catch (e) {
        errorCode = errorCodeFor(e);
      }
      results.push({ groupId, errorCode });
    }
    return { throttleTimeMs: 0, results };
  },
};

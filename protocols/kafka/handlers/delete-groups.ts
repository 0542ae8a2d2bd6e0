import { deleteGroups } from '../schema/apis.js';
import { errorCodeFor } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/** DeleteGroups: drops a group's committed offsets; NON_EMPTY_GROUP while it has members. */
export const deleteGroupsHandler: Handler = {
  api: deleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, { node }) {
    const results = [];
    for (const groupId of req.groupsNames as string[]) {
      let errorCode: number;
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

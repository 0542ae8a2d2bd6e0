import { alterConfigs } from '../schema/apis.js';
import { mayCluster, mayTopic, topicDenied } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import { TOPIC_CONFIGS, topicConfigError } from '../mapping/topic-configs.js';
import { RESOURCE_BROKER, RESOURCE_TOPIC } from './describe-configs.js';
import type { Handler, RequestContext } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/**
 * AlterConfigs: replaces a topic's whole config set (keys not given return to their defaults),
 * as Kafka's legacy AlterConfigs does. Broker configs are static here: INVALID_REQUEST.
 */
export const alterConfigsHandler: Handler = {
  api: alterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const responses: Message[] = [];
    for (const r of req.resources as Message[]) {
      const entries: Record<string, string | null> = {};
      for (const name of Object.keys(TOPIC_CONFIGS)) entries[name] = null;
      for (const c of r.configs as Message[]) entries[c.name] = c.value;
      const errors = (r.configs as Message[]).map((c) => topicConfigError(c.name, c.value)).filter((e) => e !== null);
      responses.push(await applyTopicConfig(ctx, r, entries, errors, req.validateOnly));
    }
    return { throttleTimeMs: 0, responses };
  },
};

/** Shared by AlterConfigs and IncrementalAlterConfigs: checks the resource, then stores the entries. */
export async function applyTopicConfig(
  { node, conn }: RequestContext,
  r: Message,
  entries: Record<string, string | null>,
  errors: string[],
  validateOnly: boolean,
): Promise<Message> {
  const base = { resourceType: r.resourceType, resourceName: r.resourceName };
  if (r.resourceType === RESOURCE_BROKER && !mayCluster(conn)) return { ...base, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed (tag administrator required).' };
  if (r.resourceType === RESOURCE_TOPIC && !mayTopic(node, conn, r.resourceName, 'configure')) return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: topicDenied(r.resourceName, conn.principal) };
  if (r.resourceType === RESOURCE_BROKER) return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker configs are static in polybroker.yaml' };
  if (r.resourceType !== RESOURCE_TOPIC) return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${r.resourceType}` };
  const vhost = node.vhost();
  if (!vhost.stream(r.resourceName)) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${r.resourceName} does not exist` };
  if (errors.length > 0) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: errors[0] };
  try {
    if (!validateOnly) await vhost.setStreamConfig(r.resourceName, entries);
    return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (e) {
    return { ...base, errorCode: errorCodeFor(e), errorMessage: (e as Error).message };
  }
}

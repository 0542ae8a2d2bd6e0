import { apiVersions } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/**
 * ApiVersions: the supported range of every API key, computed from the handler table (as
 * redpanda's api_versions.cc does), so it advertises exactly what is implemented. A request
 * newer than v4 is answered by the session in v0 with UNSUPPORTED_VERSION (KIP-511). v4 only
 * lifts a restriction on feature ranges (KAFKA-17011); this broker reports no features.
 */
export const apiVersionsHandler: Handler = {
  api: apiVersions,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { node, conn }) {
    if (req.clientSoftwareName) conn.clientSoftwareName = req.clientSoftwareName;
    if (req.clientSoftwareVersion) conn.clientSoftwareVersion = req.clientSoftwareVersion;
    if (req.clientSoftwareName) {
      node.log.debug({ connId: conn.id, clientId: conn.clientId, software: req.clientSoftwareName, softwareVersion: req.clientSoftwareVersion }, 'kafka client identified');
    }
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: apiKeyRanges(node.handlers),
      throttleTimeMs: 0,
    };
  },
};

export function apiKeyRanges(handlers: ReadonlyMap<number, Handler>): { apiKey: number; minVersion: number; maxVersion: number }[] {
  return [...handlers.values()]
    .map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
    .sort((a, b) => a.apiKey - b.apiKey);
}

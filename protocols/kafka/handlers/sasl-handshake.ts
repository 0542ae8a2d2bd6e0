import { saslHandshake } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/**
 * SaslHandshake (KIP-43/-152): picks the mechanism. After v0 the client sends raw SASL tokens
 * as size-prefixed frames (kafka-python does); after v1 it wraps them in SaslAuthenticate.
 */
export const saslHandshakeHandler: Handler = {
  api: saslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(req, { node, conn, apiVersion }) {
    const auth = node.authenticator;
    const mechanisms = auth ? auth.mechanisms : [];
    if (!auth || !auth.supports(req.mechanism)) {
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    if (conn.principal !== null || conn.saslMechanism !== null) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    conn.saslMechanism = req.mechanism;
    conn.saslRawTokens = apiVersion === 0;
    return { errorCode: ErrorCode.NONE, mechanisms };
  },
};

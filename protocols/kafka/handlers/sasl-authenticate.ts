import { saslAuthenticate } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/**
 * SaslAuthenticate (KIP-152): one step of the mechanism chosen by SaslHandshake. A failure is
 * answered with SASL_AUTHENTICATION_FAILED and the connection is then closed, as Kafka does.
 */
export const saslAuthenticateHandler: Handler = {
  api: saslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle(req, { node, conn }) {
    const auth = node.authenticator;
    if (!auth || conn.saslMechanism === null || conn.principal !== null) {
      conn.closeAfterResponse = true;
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate before SaslHandshake', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
    }
    const mechanism = conn.saslMechanism;
    return auth.step(mechanism, req.authBytes, conn.saslState, conn.remoteAddress).then(
      (step) => {
        conn.saslState = step.state;
        if (step.user !== null) {
          conn.principal = step.user.name;
          conn.user = step.user;
          node.log.info({ connId: conn.id, user: step.user.name, mechanism }, 'kafka client authenticated');
          conn.registerWithCore();
        }
        return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.reply, sessionLifetimeMs: 0 };
      },
      (e: unknown) => {
        conn.closeAfterResponse = true;
        node.log.warn({ connId: conn.id, mechanism, remote: conn.remoteAddress }, 'kafka authentication failed');
        return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: (e as Error).message, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
      },
    );
  },
};

import { isCoreError } from '../../../src/core/index.js';
import { ReasonCode } from '../codec/reason-codes.js';

/** Core errors → MQTT 5.0 reason codes, in one table (STYLE.md "Errors in the protocol's terms"). */
const BY_CODE: Record<string, number> = {
  NOT_FOUND: ReasonCode.ImplementationSpecificError,
  ACCESS_REFUSED: ReasonCode.NotAuthorized,
  RESOURCE_LOCKED: ReasonCode.NotAuthorized,
  PRECONDITION_FAILED: ReasonCode.ImplementationSpecificError,
  RESOURCE_ERROR: ReasonCode.QuotaExceeded,
  NOT_ALLOWED: ReasonCode.NotAuthorized,
  INVALID_ARGUMENT: ReasonCode.ImplementationSpecificError,
  MESSAGE_TOO_LARGE: ReasonCode.PacketTooLarge,
};

export function coreErrorReason(e: unknown, fallback: number = ReasonCode.UnspecifiedError): number {
  return isCoreError(e) ? (BY_CODE[e.code] ?? fallback) : fallback;
}

/**
 * MQTT reason codes as data (MQTT 5.0 §2.4, per-packet tables in §3.x.2.1) and the 3.1.1
 * CONNACK return codes (MQTT 3.1.1 §3.2.2.3). Names are the spec's own.
 */

export const ReasonCode = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  GrantedQoS0: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWillMessage: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

export type ReasonCodeValue = (typeof ReasonCode)[keyof typeof ReasonCode];

const R = ReasonCode;

/** Which reason codes each packet type may carry (MQTT 5.0 §3.x.2.1 tables). */
export const reasonCodesByPacket: Readonly<Record<string, ReadonlySet<number>>> = {
  connack: new Set([
    R.Success, R.UnspecifiedError, R.MalformedPacket, R.ProtocolError, R.ImplementationSpecificError,
    R.UnsupportedProtocolVersion, R.ClientIdentifierNotValid, R.BadUserNameOrPassword, R.NotAuthorized,
    R.ServerUnavailable, R.ServerBusy, R.Banned, R.BadAuthenticationMethod, R.TopicNameInvalid,
    R.PacketTooLarge, R.QuotaExceeded, R.PayloadFormatInvalid, R.RetainNotSupported, R.QoSNotSupported,
    R.UseAnotherServer, R.ServerMoved, R.ConnectionRateExceeded,
  ]),
  puback: new Set([
    R.Success, R.NoMatchingSubscribers, R.UnspecifiedError, R.ImplementationSpecificError, R.NotAuthorized,
    R.TopicNameInvalid, R.PacketIdentifierInUse, R.QuotaExceeded, R.PayloadFormatInvalid,
  ]),
  pubrec: new Set([
    R.Success, R.NoMatchingSubscribers, R.UnspecifiedError, R.ImplementationSpecificError, R.NotAuthorized,
    R.TopicNameInvalid, R.PacketIdentifierInUse, R.QuotaExceeded, R.PayloadFormatInvalid,
  ]),
  pubrel: new Set([R.Success, R.PacketIdentifierNotFound]),
  pubcomp: new Set([R.Success, R.PacketIdentifierNotFound]),
  suback: new Set([
    R.GrantedQoS0, R.GrantedQoS1, R.GrantedQoS2, R.UnspecifiedError, R.ImplementationSpecificError,
    R.NotAuthorized, R.TopicFilterInvalid, R.PacketIdentifierInUse, R.QuotaExceeded,
    R.SharedSubscriptionsNotSupported, R.SubscriptionIdentifiersNotSupported, R.WildcardSubscriptionsNotSupported,
  ]),
  unsuback: new Set([
    R.Success, R.NoSubscriptionExisted, R.UnspecifiedError, R.ImplementationSpecificError, R.NotAuthorized,
    R.TopicFilterInvalid, R.PacketIdentifierInUse,
  ]),
  disconnect: new Set([
    R.NormalDisconnection, R.DisconnectWithWillMessage, R.UnspecifiedError, R.MalformedPacket, R.ProtocolError,
    R.ImplementationSpecificError, R.NotAuthorized, R.ServerBusy, R.ServerShuttingDown, R.KeepAliveTimeout,
    R.SessionTakenOver, R.TopicFilterInvalid, R.TopicNameInvalid, R.ReceiveMaximumExceeded, R.TopicAliasInvalid,
    R.PacketTooLarge, R.MessageRateTooHigh, R.QuotaExceeded, R.AdministrativeAction, R.PayloadFormatInvalid,
    R.RetainNotSupported, R.QoSNotSupported, R.UseAnotherServer, R.ServerMoved, R.SharedSubscriptionsNotSupported,
    R.ConnectionRateExceeded, R.MaximumConnectTime, R.SubscriptionIdentifiersNotSupported,
    R.WildcardSubscriptionsNotSupported,
  ]),
  auth: new Set([R.Success, R.ContinueAuthentication, R.ReAuthenticate]),
};

/** MQTT 3.1 / 3.1.1 CONNACK return codes (§3.2.2.3). */
export const ConnackReturnCode = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const;

/**
 * A 5.0 CONNACK reason → the 3.1.1 return code that says the same, or null when 3.1.1 has
 * none: the server then closes without a CONNACK ([MQTT-3.2.2-6]: only codes 1..5 exist).
 */
export function connackReturnCodeFor(reasonCode: number): number | null {
  switch (reasonCode) {
    case R.Success: return ConnackReturnCode.Accepted;
    case R.UnsupportedProtocolVersion: return ConnackReturnCode.UnacceptableProtocolVersion;
    case R.ClientIdentifierNotValid: return ConnackReturnCode.IdentifierRejected;
    case R.ServerUnavailable: case R.ServerBusy: case R.ServerShuttingDown: case R.UseAnotherServer:
    case R.ServerMoved: case R.ConnectionRateExceeded: case R.QuotaExceeded:
      return ConnackReturnCode.ServerUnavailable;
    case R.BadUserNameOrPassword: return ConnackReturnCode.BadUserNameOrPassword;
    case R.NotAuthorized: case R.Banned: case R.BadAuthenticationMethod: return ConnackReturnCode.NotAuthorized;
    default: return null;
  }
}

/** 3.1.1 SUBACK failure return code (§3.9.3). */
export const SubackFailure311 = 0x80;

export function isReasonCodeAllowed(packet: string, code: number): boolean {
  return reasonCodesByPacket[packet]?.has(code) ?? false;
}

/** STOMP protocol versions this broker speaks, oldest first. */
export type StompVersion = '1.0' | '1.1' | '1.2';

export const SUPPORTED_VERSIONS: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

/**
 * Picks the highest version both sides support from a CONNECT's `accept-version`
 * ("1.0,1.1,1.2"). An absent header means a 1.0 client (STOMP 1.1 "Protocol Negotiation").
 * Returns undefined when nothing is shared: the server must answer ERROR with its versions.
 */
export function negotiateVersion(acceptVersion: string | undefined): StompVersion | undefined {
  if (acceptVersion === undefined) return '1.0';
  let best: StompVersion | undefined;
  for (const part of acceptVersion.split(',')) {
    const v = part.trim();
    if (v === '1.0' || v === '1.1' || v === '1.2') {
      if (best === undefined || v > best) best = v;
    }
  }
  return best;
}

/** The WebSocket subprotocol names of STOMP (`v12.stomp` ...) mapped to the version they pin. */
export const WEBSOCKET_SUBPROTOCOLS: Readonly<Record<string, StompVersion>> = {
  'v10.stomp': '1.0',
  'v11.stomp': '1.1',
  'v12.stomp': '1.2',
};

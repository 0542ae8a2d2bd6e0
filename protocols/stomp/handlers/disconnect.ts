import { headerOf, type StompFrame } from '../codec/frame.js';
import type { StompSession } from '../session.js';

/**
 * DISCONNECT (STOMP 1.2 "Connection Lingering"): the RECEIPT, if asked for, goes out after
 * every earlier receipt; then the server closes. Open transactions are discarded.
 */
export async function handleDisconnect(session: StompSession, frame: StompFrame): Promise<void> {
  session.receipt(headerOf(frame.headers, 'receipt'));
  await session.receiptsWritten();
  session.closeAfterFlush();
}
